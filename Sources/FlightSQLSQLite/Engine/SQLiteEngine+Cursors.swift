import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What tells whether a database changed: the engine's count of commands that may write, and
/// the size and modification time of the database file and its write-ahead log (every commit,
/// by any process, changes the log; a checkpoint changes the file).
struct SQLiteChangeStamp: Equatable, Sendable {
    var commands: UInt64
    var files: [Int]

    init(commands: UInt64, path: String) {
        self.commands = commands
        files = []
        for file in [path, path + "-wal"] {
            var info = stat()
            if stat(file, &info) == 0 {
                files += [Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
            } else {
                files += [-1, 0, 0]
            }
        }
    }
}

/// A query whose first rows were read while it was planned (or prepared), kept with its
/// statement open until the client reads the rest: the statement runs once, and the read
/// continues from the snapshot the plan saw.
///
/// A pooled connection stays out of the pool while its cursor waits; a transaction's cursor
/// counts as a use of the transaction (`SQLiteTransaction.enter()`). Whoever takes the cursor
/// from the engine's table (the read, the sweep of cursors that waited too long, the end of
/// the transaction, the engine's close) finalizes the statement and gives the connection back.
/// A prepared query whose whole result its preparation read keeps only that result.
final class SQLiteOpenCursor: @unchecked Sendable {
    enum Rows {
        /// The statement, stepped past the held rows: the first batch of the result.
        case open(SQLiteStatement, held: SQLiteHeldRows)
        /// The whole result (the statement is finalized and its connection back in the pool).
        case complete([RecordBatch])
    }

    let rows: Rows
    /// The result's schema.
    let schema: Schema
    /// The statement's SQL, checked when the cursor is taken.
    let sql: String
    /// The transaction it runs in, or nil for a pooled connection of its own.
    let transaction: SQLiteTransaction?
    /// When it was planned.
    let planned = ContinuousClock.now
    /// A prepared query's: the state of the database before its first rows were read. Its
    /// execution uses the cursor only while the database is unchanged.
    let stamp: SQLiteChangeStamp?

    init(_ rows: Rows, schema: Schema, sql: String, transaction: SQLiteTransaction?, stamp: SQLiteChangeStamp? = nil) {
        self.rows = rows
        self.schema = schema
        self.sql = sql
        self.transaction = transaction
        self.stamp = stamp
    }

    /// Reads the first rows of `statement` (a query, parameters bound): the cursor left after
    /// them, or the whole result when it ends within them (the statement then reset).
    static func sample(_ statement: SQLiteStatement, sql: String, transaction: SQLiteTransaction?,
                       stamp: SQLiteChangeStamp? = nil) throws -> SQLiteOpenCursor {
        let sample = try SQLiteSample(statement)
        let schema = sample.schema(of: statement)
        guard sample.finished else {
            return SQLiteOpenCursor(.open(statement, held: sample.held), schema: schema, sql: sql, transaction: transaction, stamp: stamp)
        }
        statement.reset()
        let batch = try SQLiteBatchReader(statement: statement, schema: schema).batch(of: sample.held)
        return SQLiteOpenCursor(.complete(batch.length > 0 ? [batch] : []), schema: schema, sql: sql, transaction: transaction, stamp: stamp)
    }

    /// Whether its statement is still open (it holds a connection, or a use of its transaction).
    var isOpen: Bool {
        if case .open = rows { true } else { false }
    }

    /// The lease its statement runs under, while it is open.
    var lease: SQLiteLease? {
        guard case .open(let statement, _) = rows else { return nil }
        return SQLiteLease(connection: statement.connection, transaction: transaction)
    }
}

extension SQLiteEngine {
    /// The database's state now (see `SQLiteChangeStamp`).
    func changeStamp() -> SQLiteChangeStamp {
        SQLiteChangeStamp(commands: writingCommands.load(ordering: .acquiring), path: path)
    }

    /// Keeps `cursor` for its read when fewer than `maximumOpenCursors` wait; returns its id,
    /// or nil when it was not kept (the caller then finalizes it, and the query runs again
    /// when it is read).
    func keep(_ cursor: SQLiteOpenCursor, as id: Data = newHandle()) -> Data? {
        let kept = cursors.withLock { table -> Bool in
            guard table.count < maximumOpenCursors else { return false }
            table[id] = cursor
            return true
        }
        return kept ? id : nil
    }

    /// Takes the cursor `id` of `sql` for reading, if it still waits.
    func takeCursor(_ id: Data, sql: String) -> SQLiteOpenCursor? {
        cursors.withLock { table in
            guard table[id]?.sql == sql else { return nil }
            return table.removeValue(forKey: id)
        }
    }

    /// Finalizes a taken cursor's statement and gives its connection back.
    func release(_ cursor: SQLiteOpenCursor) async {
        guard case .open(let statement, _) = cursor.rows, let lease = cursor.lease else { return }
        try? await lease.runRegardless { statement.finalize() }
        if let transaction = cursor.transaction {
            transaction.leave()
        } else {
            pool.release(statement.connection)
        }
    }

    /// Keeps an open cursor made on `lease` (one more use of its transaction, if any), or, when
    /// the table is full, finalizes its statement; returns its id if it was kept. The caller
    /// leaves a kept cursor's pooled connection out of the pool.
    func keepOpen(_ cursor: SQLiteOpenCursor, on lease: SQLiteLease) async throws -> Data? {
        // A transaction's cursor is one more use of it, from before it can be taken.
        lease.transaction?.enter()
        if let id = keep(cursor) { return id }
        lease.transaction?.leave()
        if case .open(let statement, _) = cursor.rows { try await lease.runRegardless { statement.finalize() } }
        return nil
    }

    /// The plan of prepared statement `handle`'s execution from the cursor its preparation
    /// left (the query had no parameters), once: nil when there is none.
    func planFromPreparation(_ handle: Data, sql: String) async throws -> PlannedStatement? {
        guard let cursor = takeCursor(handle, sql: sql) else { return nil }
        // A write since the preparation: the execution must see it, so the query runs now.
        guard cursor.stamp == changeStamp() else {
            await release(cursor)
            return nil
        }
        switch cursor.rows {
        case .complete(let batches):
            return .complete(cursor.schema, batches, changed: 0)
        case .open:
            // Under an id of its own: the next execution of the statement runs it again.
            if let id = keep(cursor) { return .query(cursor.schema, cursor: id) }
            await release(cursor)
            return .query(cursor.schema, cursor: nil)
        }
    }

    /// Closes the cursors matching `condition`; returns how many.
    @discardableResult
    func dropCursors(where condition: (SQLiteOpenCursor) -> Bool) async -> Int {
        let dropped = cursors.withLock { table -> [SQLiteOpenCursor] in
            let matching = table.filter { condition($0.value) }
            for key in matching.keys { table[key] = nil }
            return Array(matching.values)
        }
        for cursor in dropped { await release(cursor) }
        return dropped.count
    }

    /// Closes the cursors that waited longer than `stalledClientTimeout` for their read: a
    /// client that plans and never reads must not hold a connection, or a snapshot that keeps
    /// the write-ahead log from being checkpointed. Their tickets stay valid: a later read
    /// runs the query again.
    func dropStaleCursors() async {
        let now = ContinuousClock.now, limit = stalledClientTimeout
        let count = await dropCursors { now - $0.planned > limit }
        if count > 0 { logger.debug("closed \(count) planned cursor(s) unread for more than \(limit)") }
    }

    /// Streams a taken cursor to `sink`: the held rows, then the rest of the statement's rows.
    func stream(cursor: SQLiteOpenCursor, into sink: RecordBatchSink) async throws {
        guard case .open(let statement, _) = cursor.rows, let lease = cursor.lease else {
            if case .complete(let batches) = cursor.rows {
                for batch in batches { try await withClientProgress("the reader of the result") { try await sink.write(batch) } }
            }
            return
        }
        do {
            let box = try await lease.run { ReaderBox(try SQLiteBatchReader(statement: statement, schema: sink.schema)) }
            let first = try await lease.run { () throws -> RecordBatch? in
                guard case .open(_, let held) = cursor.rows else { return nil }
                return try box.reader.batch(of: held)
            }
            try await send(first, then: box, on: lease, into: sink)
        } catch {
            await release(cursor)
            throw Self.status(error)
        }
        await release(cursor)
    }

    /// Sends `first` (when it has rows) and every batch `box` reads after it (none without a
    /// box), preparing the next batch while the last one is being sent.
    func send(_ first: RecordBatch?, then box: ReaderBox?, on lease: SQLiteLease, into sink: RecordBatchSink) async throws {
        @Sendable func read() async throws -> RecordBatch? {
            guard let box else { return nil }
            return try await lease.run { try box.next() }
        }
        var next = if let first, first.length > 0 { first } else { try await read() }
        while let batch = next {
            async let following = read()
            try await withClientProgress("the reader of the result") { try await sink.write(batch) }
            next = try await following
        }
    }
}
