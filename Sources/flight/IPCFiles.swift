import ArrowCore
import FlightRPC
#if canImport(Glibc)
import Glibc
#endif

/// An Arrow IPC file to upload, memory-mapped; the `ARROW1` magic tells the file format from
/// the stream format.
struct IPCInput {
    let schema: Schema
    private let content: Content

    private enum Content {
        case file(IPCFileReader)
        case stream(IPCStreamReader)
    }

    init(path: String) throws(ArrowError) {
        let buffer = try Buffer(mappingFile: path)
        if buffer.withUnsafeBytes({ isArrowFile($0) }) {
            let reader = try IPCFileReader(buffer)
            schema = reader.schema
            content = .file(reader)
        } else {
            let reader = try IPCStreamReader(buffer)
            schema = reader.schema
            content = .stream(reader)
        }
    }

    /// Calls `body` with each batch in order, decoding (and validating) one at a time.
    func forEachBatch(_ body: (RecordBatch) async throws -> Void) async throws {
        switch content {
        case .file(let reader):
            for index in 0..<reader.batchCount { try await body(try reader.batch(index)) }
        case .stream(var reader):
            while let batch = try reader.nextBatch() { try await body(batch) }
        }
    }
}

/// Writes batches to an IPC stream file that appears under its name only when complete: the
/// bytes go to a temporary file next to it, renamed by `commit`. The writer is made by the
/// first batch (or by `commit`, for a result without batches), since the schema is known only
/// once the first stream has started.
final class StreamFileOutput {
    private let path: String
    private let temporaryPath: String
    private var descriptor: Int32
    private var writer: IPCStreamWriter?
    // Committed or abandoned: the temporary file is gone either way.
    private var settled = false

    init(path: String) throws(ArrowError) {
        self.path = path
        temporaryPath = "\(path).partial-\(getpid())"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io("cannot create \(temporaryPath): \(String(cString: strerror(errno)))") }
    }

    private func writer(for schema: Schema) throws(ArrowError) -> IPCStreamWriter {
        if let writer { return writer }
        let fresh = try IPCStreamWriter(output: IPCFileDescriptorOutput(descriptor: descriptor), schema: schema)
        writer = fresh
        return fresh
    }

    /// Appends a batch (the first one also writes the schema).
    func write(_ batch: RecordBatch) throws(ArrowError) {
        try writer(for: batch.schema).write(batch)
    }

    /// Ends the stream and renames the file into place.
    func commit(schema: Schema) throws(ArrowError) {
        try writer(for: schema).finish()
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw .io("cannot close \(temporaryPath): \(String(cString: strerror(errno)))") }
        guard rename(temporaryPath, path) == 0 else { throw .io("cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))") }
        settled = true
    }

    /// Removes the temporary file unless `commit` succeeded. Safe to call more than once.
    func abandon() {
        guard !settled else { return }
        settled = true
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(temporaryPath)
    }
}
