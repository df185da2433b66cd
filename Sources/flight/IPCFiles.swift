import ArrowCore
import FlightRPC

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
