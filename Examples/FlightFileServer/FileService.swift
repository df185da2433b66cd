import ArrowCore
import FlightRPC
#if canImport(Glibc)
import Glibc
#endif

/// Serves the Arrow IPC files of one directory (`.arrow`, `.arrows`, `.feather`; file or
/// stream format): each file is a flight named by the path descriptor `[name]`, and its name
/// is also the ticket. DoPut stores an upload under its descriptor's name, atomically.
///
/// Every method opens the files it needs afresh, so files added, replaced or removed behind
/// the server's back are seen by the next call; nothing is cached.
struct FileService: FlightService {
    /// The served directory.
    let root: String
    /// The uploads in progress.
    let uploads = UploadRegistry()

    /// The flight name a descriptor names: a path of exactly one checked name.
    private func name(of descriptor: FlightDescriptor) throws(FlightError) -> String {
        guard case .path(let path) = descriptor else {
            throw FlightError(.invalidArgument, "this server understands path descriptors only")
        }
        guard path.count == 1, let name = path.first else {
            throw FlightError(.invalidArgument, "a path descriptor here has exactly one element, the file name (got \(path.count))")
        }
        return try checkedName(name)
    }

    /// The served files' names, sorted; hidden files (uploads in progress) are left out.
    private func names() throws(FlightError) -> [String] {
        guard let directory = opendir(root) else {
            throw FlightError(.internal, "cannot list the served directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix("."), IPCLayout(extensionOf: name) != nil { names.append(name) }
        }
        return names.sorted()
    }

    /// Every served file whose name starts with `criteria` (as UTF-8; empty lists all). A file
    /// that cannot be read is left out, so one damaged file does not hide the others.
    func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws {
        let prefix = String(decoding: criteria, as: UTF8.self)
        for name in try names() where name.hasPrefix(prefix) {
            let info: FlightInfo
            do {
                info = try ServedFile(root: root, name: name).flightInfo()
            } catch {
                continue
            }
            try await responses.send(info)
        }
    }

    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        try ServedFile(root: root, name: try name(of: descriptor)).flightInfo()
    }

    func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        try ServedFile(root: root, name: try name(of: descriptor)).schema
    }

    /// The ticket is a file name; its batches are sent in order (split by the writer when large).
    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        guard let name = String(validating: ticket.bytes, as: UTF8.self) else {
            throw FlightError(.invalidArgument, "the ticket is not a UTF-8 file name")
        }
        let file = try ServedFile(root: root, name: name)
        try await writer.begin(file.schema)
        try await file.forEachBatch { batch in try await writer.write(batch) }
    }

    /// Stores the upload under the descriptor's name; answers each batch with a PutResult whose
    /// metadata is the number of rows received so far (decimal text). The file replaces any old
    /// one only when the whole upload has arrived.
    func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        guard let schema = try await reader.schema() else { throw FlightError(.invalidArgument, "the upload has no schema") }
        guard let descriptor = reader.descriptor else { throw FlightError(.invalidArgument, "the upload has no descriptor") }
        let name = try name(of: descriptor)
        guard let layout = IPCLayout(extensionOf: name) else {
            throw FlightError(.invalidArgument, "\(name): an upload's name ends in .arrow or .feather (file format) or .arrows (stream format)")
        }
        let upload = try Upload(root: root, name: name, schema: schema, layout: layout, registry: uploads)
        do {
            var rows = 0
            while let chunk = try await reader.nextChunk() {
                guard let batch = chunk.batch else { continue }
                try upload.write(batch)
                rows += batch.length
                try await results.send(PutResult(appMetadata: Array(String(rows).utf8)))
            }
            // The deadline may pass, or the client reset the call, after its last message
            // arrived; such an upload must not replace the file.
            try Task.checkCancellation()
            try upload.commit()
        } catch {
            upload.abandon()
            throw error
        }
    }

    /// `delete`: removes the file the body names; one result, the name.
    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        switch action.type {
        case "delete":
            guard let text = String(validating: action.body, as: UTF8.self) else {
                throw FlightError(.invalidArgument, "the body of delete is not a UTF-8 file name")
            }
            let name = try checkedName(text)
            guard IPCLayout(extensionOf: name) != nil else { throw FlightError(.notFound, "no such flight: \(name)") }
            guard unlink("\(root)/\(name)") == 0 else {
                if errno == ENOENT { throw FlightError(.notFound, "no such flight: \(name)") }
                throw FlightError(.internal, "cannot delete \(name): \(String(cString: strerror(errno)))")
            }
            try await results.send(FlightResult(body: Array(name.utf8)))
        default:
            throw FlightError(.invalidArgument, "unknown action \(String(reflecting: action.type)); this server offers delete")
        }
    }

    func listActions(context: FlightCallContext) async throws -> [ActionType] {
        [ActionType(type: "delete", description: "Removes the file named by the body (UTF-8).")]
    }
}
