import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation

/// What identifies a read-only database file's content: its size and a SHA-256 digest of
/// up to 256 of its pages spread evenly over the file (the first, with the header, and the last
/// among them; every page of a file of fewer). Two nodes with equal fingerprints serve the same
/// copy, and reading it costs a few milliseconds however large the file.
struct SQLiteFingerprint: Sendable, Equatable {
    var fileSize: UInt64
    var digest: [UInt8]

    static let encodedSize = 8 + 32
    static let sampledPages = 256

    /// Reads the fingerprint of the database at `path`.
    init(path: String) throws(FlightError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FlightError(.unavailable, "cannot open database \(path) to fingerprint it")
        }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 100)) ?? Data())
        guard header.count == 100, header.starts(with: Array("SQLite format 3\u{0}".utf8)) else {
            throw FlightError(.unavailable, "database \(path) has no SQLite header")
        }
        let size = (try? handle.seekToEnd()) ?? 0
        // The page size, with 1 standing for 65536.
        let declared = Int(header[16]) << 8 | Int(header[17])
        let pageSize = declared == 1 ? 65536 : max(declared, 512)
        let pages = max(1, Int((size + UInt64(pageSize) - 1) / UInt64(pageSize)))
        let sampled = Set((0..<min(pages, Self.sampledPages)).map { i in
            Self.sampledPages >= pages ? i : i * (pages - 1) / (Self.sampledPages - 1)
        }).sorted()
        var content: [UInt8] = []
        content.reserveCapacity(sampled.count * pageSize)
        for page in sampled {
            do {
                try handle.seek(toOffset: UInt64(page * pageSize))
                content.append(contentsOf: try handle.read(upToCount: pageSize) ?? Data())
            } catch {
                throw FlightError(.unavailable, "cannot read database \(path) to fingerprint it: \(error)")
            }
        }
        fileSize = size
        digest = FlightCrypto.hmacSHA256(key: Array("sqlite-fingerprint".utf8), content)
    }

    init(fileSize: UInt64, digest: [UInt8]) {
        self.fileSize = fileSize
        self.digest = digest
    }
}

/// A statement any node serving the same read-only database can run: the payload of a
/// `sqlite.query` pull task.
///
/// Layout (big-endian): format 2, the fingerprint (file size UInt64, 32-byte digest), the SQL
/// (UInt32 length + UTF-8), the planning node's cursor id (a length byte, 0 or 16, and its
/// bytes), then the parameter batches as an IPC stream (absent when there are none). Format 1
/// is the same without the cursor id.
struct SQLitePullStatement: Sendable {
    var fingerprint: SQLiteFingerprint
    var sql: String
    /// The cursor the planning node left open (`SQLiteOpenCursor`); any other node runs the
    /// query again.
    var cursor: Data?
    var parameters: [RecordBatch]

    /// Parameters carried in a ticket at most; more keep the query on its planning node.
    static let maximumParameterBytes = 1 << 20

    func encoded() throws -> [UInt8] {
        var out: [UInt8] = [2]
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        put(fingerprint.fileSize)
        out.append(contentsOf: fingerprint.digest)
        let text = Array(sql.utf8)
        put(UInt32(text.count))
        out.append(contentsOf: text)
        out.append(UInt8(cursor?.count ?? 0))
        if let cursor { out.append(contentsOf: cursor) }
        if let first = parameters.first {
            out.append(contentsOf: try IPCStreamWriter.encode(schema: first.schema, batches: parameters).array)
        }
        return out
    }

    init(fingerprint: SQLiteFingerprint, sql: String, cursor: Data?, parameters: [RecordBatch]) {
        self.fingerprint = fingerprint
        self.sql = sql
        self.cursor = cursor
        self.parameters = parameters
    }

    init(decoding bytes: [UInt8]) throws(FlightError) {
        let malformed = FlightError(.invalidArgument, "malformed SQLite pull task")
        guard let format = bytes.first, format == 1 || format == 2, bytes.count >= 1 + SQLiteFingerprint.encodedSize + 4 else { throw malformed }
        var position = 1
        func take<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { position += MemoryLayout<T>.size }
            return bytes[position..<position + MemoryLayout<T>.size].reduce(T(0)) { $0 << 8 | T($1) }
        }
        let fileSize = take(UInt64.self)
        fingerprint = SQLiteFingerprint(fileSize: fileSize, digest: Array(bytes[position..<position + 32]))
        position += 32
        let length = Int(take(UInt32.self))
        guard length <= bytes.count - position else { throw malformed }
        sql = String(decoding: bytes[position..<position + length], as: UTF8.self)
        position += length
        cursor = nil
        if format == 2 {
            guard position < bytes.count, case let count = Int(bytes[position]), count <= bytes.count - position - 1 else { throw malformed }
            if count > 0 { cursor = Data(bytes[position + 1..<position + 1 + count]) }
            position += 1 + count
        }
        if position < bytes.count {
            do {
                parameters = try IPCStreamReader.readAll(Buffer(copying: Array(bytes[position...]))).batches
            } catch {
                throw malformed
            }
        } else {
            parameters = []
        }
    }
}

/// Runs `sqlite.query` tasks on this node's copy of the database.
struct SQLitePullRunner: PartitionRunner {
    /// Weak, since the engine's manager keeps its runners.
    final class EngineReference: @unchecked Sendable {
        weak var engine: SQLiteEngine?
        init(_ engine: SQLiteEngine) { self.engine = engine }
    }

    let reference: EngineReference

    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws {
        guard let engine = reference.engine, let fingerprint = engine.fingerprint else {
            throw FlightError(.unavailable, "this server does not serve read-only SQLite queries now")
        }
        let statement = try SQLitePullStatement(decoding: task.payload)
        guard statement.fingerprint == fingerprint else {
            throw FlightError(.failedPrecondition, "this server holds another copy of the database than the node that planned the query")
        }
        try await engine.stream(sql: statement.sql, parameters: statement.parameters, transaction: nil, cursor: statement.cursor, into: sink)
    }
}

extension SQLiteEngine {
    /// The kind of the pull tasks that run a statement on any node with the same read-only database.
    public static let pullTaskKind = "sqlite.query"

    /// The partition of a streamed result: a pull task when the database is read-only (any
    /// node with the same copy runs it, so reads spread and fail over), else produced here.
    /// The first read on this node continues from `cursor`, the plan's open cursor.
    func partition(sql: String, parameters: [RecordBatch], transaction: Data?, cursor: Data?) -> QueryPartition {
        let local = QueryPartition.local { [self] sink in
            try await stream(sql: sql, parameters: parameters, transaction: transaction, cursor: cursor, into: sink)
        }
        guard let fingerprint, transaction?.isEmpty ?? true,
              parameters.reduce(0, { $0 + $1.bufferBytes }) <= SQLitePullStatement.maximumParameterBytes,
              let payload = try? SQLitePullStatement(fingerprint: fingerprint, sql: sql, cursor: cursor, parameters: parameters).encoded()
        else { return local }
        return .pull(PartitionTask(kind: Self.pullTaskKind, payload: payload), nodes: [])
    }
}
