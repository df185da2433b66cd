import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation
import Logging
import Synchronization

/// A Flight SQL server over one SQLite database file: the embedded default engine.
///
/// - Queries run on pooled connections (WAL mode: readers never wait for the writer) and go
///   through the `FlightManager`, which issues the endpoints' tickets; metadata is answered
///   from SQLite's catalog.
/// - A transaction holds one connection until it ends (or its client's connection closes);
///   every command that names it runs there, its SQLite work one piece at a time (result
///   streams of several cursors take turns batch by batch). Prepared statements remember the
///   transaction they were made in.
/// - Blocking SQLite work runs on its own threads; a cancelled call interrupts its statement.
/// - Result types come from declared column types, and from the values themselves where
///   SQLite's typing is dynamic (expressions, untyped columns): see `SQLiteTypeMapping`.
public final class SQLiteEngine: FlightSQLService {
    /// The database file.
    public let path: String
    /// Whether every statement that writes is refused.
    public let readOnly: Bool
    let manager: any FlightManager
    /// The read-only database's fingerprint: set when `readOnly`, so that queries can run on
    /// any node holding the same copy.
    let fingerprint: SQLiteFingerprint?
    let logger: Logger
    let pool: SQLiteConnectionPool
    let transactions = Mutex<[Data: SQLiteTransaction]>([:])
    let prepared: PreparedStatementTable<PreparedStatement>
    /// Queries planned and not yet read, by id: their statements wait open (see `SQLiteOpenCursor`).
    let cursors = Mutex<[Data: SQLiteOpenCursor]>([:])
    /// Planned queries whose cursors wait at most: half the connections, so that queries
    /// planned and never read leave connections for the rest. Beyond it a query runs again
    /// when it is read.
    let maximumOpenCursors: Int
    /// Commands that may have written, counted as they end (see `SQLiteChangeStamp`).
    let writingCommands = Atomic<UInt64>(0)
    /// Session options by client connection (`FlightCallContext.connectionID`).
    let sessions = Mutex<[UInt64: [String: SessionOptionValue]]>([:])
    /// Client connections whose close ends their session (see `endSessionWithConnection`).
    let watchedConnections = Mutex<Set<UInt64>>([])
    /// How long a transaction may go unused before it is rolled back and its connection freed.
    public let transactionIdleTimeout: Duration
    /// How long an upload may wait for its next batch, or a result stream for its reader,
    /// before the call is ended: a stalled client must not hold the write lock, or keep a
    /// snapshot that stops the write-ahead log from being checkpointed.
    public let stalledClientTimeout: Duration
    private let sweeper = Mutex<Task<Void, Never>?>(nil)
    /// Prepared statements a server keeps at most; more are refused with RESOURCE_EXHAUSTED.
    static let maximumPreparedStatements = 10_000
    /// How long a prepared statement may go unused before it is closed.
    let preparedStatementIdleTimeout = Duration.seconds(3600)
    /// Parameter rows one prepared statement keeps at most.
    let maximumParameterRows = 1_000_000
    /// Parameter bytes one prepared statement keeps at most.
    let maximumParameterBytes = 64 << 20

    /// An engine serving the database at `path` (created if missing, unless `readOnly`),
    /// publishing query results through `manager`, with at most `maximumConnections` open.
    /// A transaction unused for `transactionIdleTimeout` is rolled back, so that clients that
    /// vanish without ending theirs do not hold connections and locks for ever; a call that
    /// waits `connectionWaitTimeout` for a free connection fails with RESOURCE_EXHAUSTED.
    public init(path: String, readOnly: Bool = false, manager: any FlightManager = LocalFlightManager(),
                maximumConnections: Int = 64, transactionIdleTimeout: Duration = .seconds(300),
                connectionWaitTimeout: Duration = .seconds(30), stalledClientTimeout: Duration = .seconds(120),
                logger: Logger = Logger(label: "flight-sql.sqlite")) throws {
        self.stalledClientTimeout = stalledClientTimeout
        prepared = PreparedStatementTable(maximum: Self.maximumPreparedStatements)
        self.path = path
        self.readOnly = readOnly
        self.manager = manager
        self.logger = logger
        self.transactionIdleTimeout = transactionIdleTimeout
        pool = SQLiteConnectionPool(path: path, readOnly: readOnly, maximum: maximumConnections, waitTimeout: connectionWaitTimeout)
        maximumOpenCursors = max(1, maximumConnections) / 2
        // Open one connection now, so that a bad path fails at start-up rather than at the first call.
        do {
            let first = try SQLiteConnection(path: path, readOnly: readOnly, create: !readOnly)
            first.close()
        } catch {
            throw FlightError(.unavailable, "cannot open database \(path): \(error)")
        }
        fingerprint = readOnly ? try SQLiteFingerprint(path: path) : nil
        if readOnly { manager.register(SQLitePullRunner(reference: .init(self)), forKind: Self.pullTaskKind) }
        let period = max(min(transactionIdleTimeout / 4, .seconds(10)), .milliseconds(100))
        sweeper.withLock {
            $0 = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    guard let self else { return }
                    self.endIdleTransactions()
                    await self.dropStaleCursors()
                }
            }
        }
    }

    /// Rolls back and forgets the transactions matching `condition`; returns how many.
    @discardableResult
    func endTransactions(where condition: (SQLiteTransaction) -> Bool) -> Int {
        let ended = transactions.withLock { table -> [SQLiteTransaction] in
            let matching = table.filter { condition($0.value) }
            for key in matching.keys { table[key] = nil }
            return Array(matching.values)
        }
        for transaction in ended { releaseWhenUnused(transaction) }
        return ended.count
    }

    /// Returns a forgotten transaction's connection to the pool (which rolls back what is
    /// left open) once its open cursors are closed and the commands and streams still using
    /// it are done.
    func releaseWhenUnused(_ transaction: SQLiteTransaction) {
        Task {
            await dropCursors { $0.transaction === transaction }
            await transaction.waitUntilUnused()
            pool.release(transaction.connection)
        }
    }

    func endIdleTransactions() {
        let timeout = transactionIdleTimeout
        let count = endTransactions { $0.idle > timeout }
        if count > 0 { logger.notice("rolled back \(count) transaction(s) idle for more than \(timeout)") }
        // Clients that vanish without closing their statements (or their session) would
        // otherwise fill the table for good.
        let now = ContinuousClock.now, limit = preparedStatementIdleTimeout
        let dropped = prepared.removeAll { now - $0.lastUsed > limit }
        if dropped > 0 { logger.notice("closed \(dropped) prepared statement(s) unused for more than \(limit)") }
    }

    /// Rolls back open transactions and closes every connection.
    public func close() {
        sweeper.withLock { $0?.cancel() }
        let waiting = cursors.withLock { table in
            defer { table = [:] }
            return Array(table.values)
        }
        for cursor in waiting {
            Task { await release(cursor) }
        }
        let open = transactions.withLock { table in
            defer { table = [:] }
            return Array(table.values)
        }
        for transaction in open { releaseWhenUnused(transaction) }
        pool.close()
    }

    /// Runs `body` with a lease on the connection of `transaction`, or on a pooled one when it
    /// is nil. A transaction's connection is locked per piece of work (`SQLiteLease.run`), not
    /// for all of `body`, so that a result stream waiting for its reader does not block the
    /// transaction's other commands (two cursors read in turn).
    ///
    /// Unless `keepsCursors` (reading and planning queries), the transaction's open cursors are
    /// closed first: what they would read after the command is not defined. A pooled connection
    /// goes back to the pool afterwards unless `keepsConnection` says that `body`'s result now
    /// owns it (an open cursor).
    func withConnection<T: Sendable>(transaction: Data?, keepsCursors: Bool = false,
                                     keepsConnection: @Sendable (T) -> Bool = { _ in false },
                                     _ body: (SQLiteLease) async throws -> T) async throws -> T {
        // Any command but planning, reading and preparing queries may write.
        defer { if !keepsCursors { writingCommands.add(1, ordering: .releasing) } }
        if let transaction, !transaction.isEmpty {
            // Looked up and entered at once, so that a transaction being ended either is not
            // found or waits for this use before its connection goes back to the pool.
            let found = transactions.withLock { table -> SQLiteTransaction? in
                guard let open = table[transaction] else { return nil }
                open.enter()
                return open
            }
            guard let open = found else { throw FlightError(.notFound, "unknown transaction (it may have ended)") }
            defer { open.leave() }
            if !keepsCursors { await dropCursors { $0.transaction === open } }
            do {
                return try await body(SQLiteLease(connection: open.connection, transaction: open))
            } catch {
                throw Self.status(error)
            }
        }
        let connection = try await pool.acquire()
        let result: T
        do {
            result = try await body(SQLiteLease(connection: connection, transaction: nil))
        } catch {
            pool.release(connection)
            throw Self.status(error)
        }
        if !keepsConnection(result) { pool.release(connection) }
        return result
    }

    /// The gRPC status a client sees for `error`.
    static func status(_ error: any Error) -> any Error {
        switch error {
        case let error as FlightError:
            return error
        case is CancellationError:
            return FlightError(.cancelled, "the query was cancelled")
        case let error as SQLiteError:
            if error.isInterrupt { return FlightError(.cancelled, "the query was cancelled") }
            if error.isBusy { return FlightError(.unavailable, "the database is busy: \(error)") }
            if error.isReadOnly { return FlightError(.permissionDenied, "the database is read-only: \(error)") }
            if error.isConstraint { return FlightError(.failedPrecondition, "\(error)") }
            return FlightError(.invalidArgument, "\(error)")
        case let error as ArrowError:
            return FlightError(.invalidArgument, "\(error)")
        default:
            return FlightError(.internal, "\(error)")
        }
    }

    static func newHandle() -> Data { Data(FlightCrypto.randomBytes(16)) }

    /// Runs one step of talking to a client (reading an upload's next batch, sending a result
    /// batch), ending the call with ABORTED when it makes no progress for `stalledClientTimeout`.
    func withClientProgress<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = stalledClientTimeout
        return try await withThrowingTaskGroup(of: ClientProgress<T>.self) { group in
            group.addTask { .done(try await operation()) }
            group.addTask {
                try await Task.sleep(for: limit)
                return .stalled
            }
            defer { group.cancelAll() }
            guard case .done(let value)? = try await group.next() else {
                throw FlightError(.aborted, "\(what) made no progress for \(limit); the server ended the call")
            }
            return value
        }
    }
}

/// An open transaction: its connection, locked per piece of work, its savepoints, who opened
/// it, and who is using it.
final class SQLiteTransaction: Sendable {
    let connection: SQLiteConnection
    let lock = AsyncLock()
    /// Savepoint id → name.
    let savepoints = Mutex<[Data: String]>([:])
    /// The client connection that began it (`FlightCallContext.connectionID`).
    let owner: UInt64
    private let use = Mutex<(lastUsed: ContinuousClock.Instant, active: Int, idleWaiters: [CheckedContinuation<Void, Never>])>((.now, 0, []))

    init(connection: SQLiteConnection, owner: UInt64) {
        self.connection = connection
        self.owner = owner
    }

    /// Marks a command (or a result stream) using the transaction.
    func enter() { use.withLock { $0.active += 1 } }

    /// Marks it done.
    func leave() {
        let waiters = use.withLock { use -> [CheckedContinuation<Void, Never>] in
            use.lastUsed = .now
            use.active -= 1
            guard use.active == 0 else { return [] }
            defer { use.idleWaiters = [] }
            return use.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How long it has gone without a running command (zero while one runs).
    var idle: Duration { use.withLock { $0.active > 0 ? .zero : .now - $0.lastUsed } }

    /// Returns once no command or stream uses the transaction.
    func waitUntilUnused() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = use.withLock { use -> Bool in
                if use.active == 0 { return true }
                use.idleWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// How one step of talking to a client ended (see `SQLiteEngine.withClientProgress`).
enum ClientProgress<T: Sendable>: Sendable {
    case done(T)
    case stalled
}

/// A connection lent to one call: its own pooled connection, or a transaction's, shared.
struct SQLiteLease: Sendable {
    let connection: SQLiteConnection
    let transaction: SQLiteTransaction?

    /// Runs blocking SQLite work on the connection, off the cooperative threads; on a
    /// transaction's connection, under its lock. A cancelled task interrupts the work.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard let transaction else { return try await SQLiteWork.run(on: connection, work) }
        return try await transaction.lock.withLock { try await SQLiteWork.run(on: connection, work) }
    }

    /// Runs clean-up work that must happen even when the call was cancelled.
    func runRegardless<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard let transaction else { return try await SQLiteWork.runRegardless(work) }
        return try await transaction.lock.withLock { try await SQLiteWork.runRegardless(work) }
    }
}

/// A prepared statement: its SQL, the transaction it belongs to, and its bound parameters.
struct PreparedStatement: PreparedStatementRecord {
    var sql: String
    var transaction: Data?
    /// The client connection that made it; it is closed with that connection's session.
    var owner: UInt64
    /// When a call last used it.
    var lastUsed = ContinuousClock.now
    var datasetSchema: Schema
    var parameterSchema: Schema
    var isQuery: Bool
    var parameters: [RecordBatch] = []
}

extension SQLiteEngine {
    /// The type of every parameter a prepared statement publishes: SQLite does not type
    /// parameters, so a union of the values it stores (text, blob, integer, real).
    static let parameterType = DataType.union(.dense, [
        Field("string", .utf8),
        Field("bytes", .binary),
        Field("bigint", .int64),
        Field("double", .float64),
    ], typeIDs: [0, 1, 2, 3])
}
