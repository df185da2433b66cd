import ArrowCore
import FlightRPC
import Foundation
import Parquet

/// The format a result file is written in, told by its name's extension.
public enum ResultFileFormat: String, Sendable, CaseIterable {
    /// `.arrows`: the Arrow IPC stream format.
    case arrowStream = "arrows"
    /// `.arrow` (or `.feather`): the Arrow IPC file format.
    case arrowFile = "arrow"
    /// `.parquet`: Parquet, zstd-compressed, through the `Parquet` writer.
    case parquet

    /// The format of a file named `path`; nil for another extension.
    public init?(path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "arrows", "ipc": self = .arrowStream
        case "arrow", "feather": self = .arrowFile
        case "parquet": self = .parquet
        default: return nil
        }
    }
}

/// Writes a result's batches to a file that appears under its name only when complete: the
/// bytes go to a temporary file beside it, renamed into place by ``commit()``; ``abandon()``
/// (or dropping the writer uncommitted) removes it. One task writes at a time.
public final class ResultFileWriter {
    /// Where the file goes.
    public let path: String
    /// Its format.
    public let format: ResultFileFormat
    private let schema: Schema
    private let temporaryPath: String
    private var descriptor: Int32 = -1
    private var sink: Sink
    private var settled = false

    private enum Sink {
        case stream(IPCStreamWriter)
        case file(IPCFileWriter)
        case parquet(ParquetWriter, ParquetFileOutput)
    }

    /// A writer of batches of `schema` to `path`, in the format its extension names (or
    /// `format`). Throws for an unknown extension, a schema the format cannot hold, or a file
    /// that cannot be created.
    public init(path: String, schema: Schema, format: ResultFileFormat? = nil) throws {
        guard let format = format ?? ResultFileFormat(path: path) else {
            throw ArrowError.invalid("cannot tell the format of \(path): name it .arrows (IPC stream), .arrow (IPC file) or .parquet")
        }
        self.path = path
        self.format = format
        self.schema = schema
        temporaryPath = "\(path).partial-\(getpid())"
        switch format {
        case .arrowStream, .arrowFile:
            descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw ArrowError.io("cannot create \(temporaryPath): \(String(cString: strerror(errno)))") }
            do {
                let output = IPCFileDescriptorOutput(descriptor: descriptor)
                sink = format == .arrowStream ? .stream(try IPCStreamWriter(output: output, schema: schema))
                    : .file(try IPCFileWriter(output: output, schema: schema))
            } catch {
                close(descriptor)
                unlink(temporaryPath)
                throw error
            }
        case .parquet:
            let output = try ParquetFileOutput(path: temporaryPath)
            do {
                sink = .parquet(try ParquetWriter(output: output, schema: schema, options: ParquetWriteOptions(compression: .zstd)), output)
            } catch {
                output.close()
                unlink(temporaryPath)
                throw error
            }
        }
    }

    deinit { abandon() }

    /// Appends a batch.
    public func write(_ batch: RecordBatch) throws {
        switch sink {
        case .stream(let writer): try writer.write(batch)
        case .file(let writer): try writer.write(batch)
        case .parquet(let writer, _): try writer.write(batch)
        }
    }

    /// Ends the file and renames it into place.
    public func commit() throws {
        guard !settled else { return }
        switch sink {
        case .stream(let writer): try writer.finish()
        case .file(let writer): try writer.finish()
        case .parquet(let writer, let output):
            try writer.finish()
            output.close()
        }
        if descriptor >= 0 {
            let closed = close(descriptor)
            descriptor = -1
            guard closed == 0 else { throw ArrowError.io("cannot close \(temporaryPath): \(String(cString: strerror(errno)))") }
        }
        guard rename(temporaryPath, path) == 0 else {
            throw ArrowError.io("cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))")
        }
        settled = true
    }

    /// Removes the unfinished file unless ``commit()`` succeeded. Safe to call more than once.
    public func abandon() {
        guard !settled else { return }
        settled = true
        if case .parquet(_, let output) = sink { output.close() }
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(temporaryPath)
    }
}

extension FlightResultReader {
    /// Reads every batch into the file at `path` (`.arrows`, `.arrow` or `.parquet`), which
    /// appears only once the whole result has arrived; returns the rows and batches written.
    /// The file takes the first batch's schema (the result's when it has none).
    public func write(to path: String) async throws -> (rows: Int, batches: Int) {
        var writer: ResultFileWriter?
        defer { writer?.abandon() }
        var rows = 0, batches = 0
        for try await batch in self {
            if writer == nil { writer = try ResultFileWriter(path: path, schema: batch.schema) }
            try writer?.write(batch)
            rows += batch.length
            batches += 1
        }
        let file = try writer ?? ResultFileWriter(path: path, schema: schema)
        try file.commit()
        return (rows, batches)
    }
}
