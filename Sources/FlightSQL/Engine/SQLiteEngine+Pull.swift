import ArrowCore
import FlightManager
import FlightRPC
import Foundation

/// What identifies a database file's content cheaply: its size and the header fields that
/// change with it (the file change counter, the page count, the schema cookie, the page size).
/// Two nodes with equal fingerprints serve the same read-only copy.
struct SQLiteFingerprint: Sendable, Equatable {
    var fileSize: UInt64
    var changeCounter: UInt32
    var pageCount: UInt32
    var schemaCookie: UInt32
    var pageSize: UInt32

    static let encodedSize = 24

    /// Reads the fingerprint of the database at `path`.
    init(path: String) throws(FlightError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FlightError(.unavailable, "cannot open database \(path) to fingerprint it")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        let size = (try? handle.seekToEnd()) ?? 0
        guard header.count == 100 else { throw FlightError(.unavailable, "database \(path) has no SQLite header") }
        let bytes = [UInt8](header)
        func word(_ offset: Int) -> UInt32 { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        fileSize = size
        changeCounter = word(24)
        pageCount = word(28)
        schemaCookie = word(40)
        pageSize = UInt32(bytes[16]) << 8 | UInt32(bytes[17])
    }

    init(fileSize: UInt64, changeCounter: UInt32, pageCount: UInt32, schemaCookie: UInt32, pageSize: UInt32) {
        self.fileSize = fileSize
        self.changeCounter = changeCounter
        self.pageCount = pageCount
        self.schemaCookie = schemaCookie
        self.pageSize = pageSize
    }
}

/// A statement any node serving the same read-only database can run: the payload of a
/// `sqlite.query` pull task.
///
/// Layout (big-endian): format 1, the fingerprint (file size UInt64, change counter, page
/// count, schema cookie, page size: UInt32 each), the SQL (UInt32 length + UTF-8), then the
/// parameter batches as an IPC stream (absent when there are none).
struct SQLitePullStatement: Sendable {
    var fingerprint: SQLiteFingerprint
    var sql: String
    var parameters: [RecordBatch]

    /// Parameters carried in a ticket at most; more keep the query on its planning node.
    static let maximumParameterBytes = 1 << 20

    func encoded() throws -> [UInt8] {
        var out: [UInt8] = [1]
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        put(fingerprint.fileSize)
        put(fingerprint.changeCounter)
        put(fingerprint.pageCount)
        put(fingerprint.schemaCookie)
        put(fingerprint.pageSize)
        let text = Array(sql.utf8)
        put(UInt32(text.count))
        out.append(contentsOf: text)
        if let first = parameters.first {
            out.append(contentsOf: try IPCStreamWriter.encode(schema: first.schema, batches: parameters).array)
        }
        return out
    }

    init(fingerprint: SQLiteFingerprint, sql: String, parameters: [RecordBatch]) {
        self.fingerprint = fingerprint
        self.sql = sql
        self.parameters = parameters
    }

    init(decoding bytes: [UInt8]) throws(FlightError) {
        let malformed = FlightError(.invalidArgument, "malformed SQLite pull task")
        guard bytes.first == 1, bytes.count >= 1 + SQLiteFingerprint.encodedSize + 4 else { throw malformed }
        var position = 1
        func take<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { position += MemoryLayout<T>.size }
            return bytes[position..<position + MemoryLayout<T>.size].reduce(T(0)) { $0 << 8 | T($1) }
        }
        fingerprint = SQLiteFingerprint(fileSize: take(UInt64.self), changeCounter: take(UInt32.self), pageCount: take(UInt32.self),
                                        schemaCookie: take(UInt32.self), pageSize: take(UInt32.self))
        let length = Int(take(UInt32.self))
        guard length <= bytes.count - position else { throw malformed }
        sql = String(decoding: bytes[position..<position + length], as: UTF8.self)
        position += length
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
        try await engine.stream(sql: statement.sql, parameters: statement.parameters, transaction: nil, into: sink)
    }
}

extension SQLiteEngine {
    /// The kind of the pull tasks that run a statement on any node with the same read-only database.
    public static let pullTaskKind = "sqlite.query"

    /// The partition of a streamed result: a pull task when the database is read-only (any
    /// node with the same copy runs it, so reads spread and fail over), else produced here.
    func partition(sql: String, parameters: [RecordBatch], transaction: Data?) -> QueryPartition {
        let local = QueryPartition.local { [self] sink in
            try await stream(sql: sql, parameters: parameters, transaction: transaction, into: sink)
        }
        guard let fingerprint, transaction?.isEmpty ?? true,
              parameters.reduce(0, { $0 + $1.bufferBytes }) <= SQLitePullStatement.maximumParameterBytes,
              let payload = try? SQLitePullStatement(fingerprint: fingerprint, sql: sql, parameters: parameters).encoded()
        else { return local }
        return .pull(PartitionTask(kind: Self.pullTaskKind, payload: payload), nodes: [])
    }
}
