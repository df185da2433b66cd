import ArrowCore
import FlightRPC
#if canImport(Glibc)
import Glibc
#endif

/// The two IPC layouts a served file may have. The name's extension says which layout an
/// upload is stored in; files already in the directory are recognised by their content.
enum IPCLayout: Sendable {
    /// The random-access file format (`ARROW1` magic, footer).
    case file
    /// The stream format.
    case stream

    /// The layout uploads named `name` are stored in, or nil when the extension is not served.
    init?(extensionOf name: String) {
        if name.hasSuffix(".arrow") || name.hasSuffix(".feather") {
            self = .file
        } else if name.hasSuffix(".arrows") {
            self = .stream
        } else {
            return nil
        }
    }
}

/// Checks a flight name taken from a client (descriptor path, ticket, action body). Names are
/// single directory entries: anything that could reach outside the root, or name one of our
/// own hidden temporary files, is refused before the file system sees it.
func checkedName(_ name: String) throws(FlightError) -> String {
    guard !name.isEmpty else { throw FlightError(.invalidArgument, "empty flight name") }
    guard !name.contains("/"), !name.contains("..") else {
        throw FlightError(.invalidArgument, "flight name \(String(reflecting: name)) must not contain '/' or '..'")
    }
    guard !name.hasPrefix("."), !name.utf8.contains(0) else {
        throw FlightError(.invalidArgument, "flight name \(String(reflecting: name)) must not start with '.' or contain NUL")
    }
    return name
}

/// One Arrow IPC file of the served directory, memory-mapped. Its batches share the mapping,
/// so DoGet sends them without copying; a file replaced by an upload while it is being read
/// stays intact for this reader, because the rename leaves the old inode mapped.
struct ServedFile: Sendable {
    let name: String
    let schema: Schema
    /// The file's size in bytes.
    let size: Int
    private let content: Content

    private enum Content: Sendable {
        case file(IPCFileReader)
        case stream(IPCStreamReader)
    }

    /// Opens `name` in `root`: NOT_FOUND when it is missing or not a served kind of file,
    /// DATA_LOSS when its content is not Arrow IPC.
    init(root: String, name: String) throws(FlightError) {
        let name = try checkedName(name)
        guard IPCLayout(extensionOf: name) != nil else { throw FlightError(.notFound, "no such flight: \(name)") }
        let path = "\(root)/\(name)"
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw FlightError(.notFound, "no such flight: \(name)") }
        do throws(ArrowError) {
            let buffer = try Buffer(mappingFile: path)
            let isFile = buffer.withUnsafeBytes { isArrowFile($0) }
            if isFile {
                let reader = try IPCFileReader(buffer)
                content = .file(reader)
                schema = reader.schema
            } else {
                let reader = try IPCStreamReader(buffer)
                content = .stream(reader)
                schema = reader.schema
            }
            size = buffer.count
        } catch {
            throw FlightError(.dataLoss, "\(name) is not a readable Arrow IPC file: \(error)")
        }
        self.name = name
    }

    /// Calls `body` with each batch in order. Stream batches are decoded (and validated) one at
    /// a time, so a large stream is never held in memory as a whole.
    func forEachBatch(_ body: (RecordBatch) async throws -> Void) async throws {
        do {
            switch content {
            case .file(let reader):
                for index in 0..<reader.batchCount { try await body(try reader.batch(index)) }
            case .stream(var reader):
                while let batch = try reader.nextBatch() { try await body(batch) }
            }
        } catch let error as ArrowError {
            throw FlightError(.dataLoss, "\(name) is damaged: \(error)")
        }
    }

    /// The number of rows, reading every batch's header (and, for streams, decoding the batches).
    func recordCount() throws(FlightError) -> Int64 {
        var rows = 0
        do throws(ArrowError) {
            switch content {
            case .file(let reader):
                for index in 0..<reader.batchCount { rows += try reader.batch(index).length }
            case .stream(var reader):
                while let batch = try reader.nextBatch() { rows += batch.length }
            }
        } catch {
            throw FlightError(.dataLoss, "\(name) is damaged: \(error)")
        }
        return Int64(rows)
    }

    /// How a client gets this file: one endpoint on this server whose ticket is the name.
    func flightInfo() throws(FlightError) -> FlightInfo {
        FlightInfo(schema: schema, descriptor: .path([name]), endpoints: [FlightEndpoint(ticket: Ticket(name))],
                   totalRecords: try recordCount(), totalBytes: Int64(size), ordered: true)
    }
}
