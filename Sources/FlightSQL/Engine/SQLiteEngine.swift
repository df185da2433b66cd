import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import Logging
import Synchronization

/// A Flight SQL server over one SQLite database file: the embedded default engine.
///
/// - Queries run on pooled connections (WAL mode: readers never wait for the writer) and go
///   through the `FlightManager`, which issues the endpoints' tickets; metadata is answered
///   from SQLite's catalog.
/// - A transaction holds one connection until it ends; every command that names it runs
///   there, one at a time. Prepared statements remember the transaction they were made in.
/// - Blocking SQLite work runs on its own threads; a cancelled call interrupts its statement.
/// - Result types come from declared column types, and from the values themselves where
///   SQLite's typing is dynamic (expressions, untyped columns): see `SQLiteTypeMapping`.
public final class SQLiteEngine: FlightSQLService {
    /// The database file.
    public let path: String
    /// Whether every statement that writes is refused.
    public let readOnly: Bool
    let manager: any FlightManager
    let logger: Logger
    let pool: SQLiteConnectionPool
    let transactions = Mutex<[Data: SQLiteTransaction]>([:])
    let prepared = Mutex<[Data: PreparedStatement]>([:])
    /// Session options by client connection (`FlightCallContext.peer`).
    let sessions = Mutex<[String: [String: SessionOptionValue]]>([:])
    /// How long a transaction may go unused before it is rolled back and its connection freed.
    public let transactionIdleTimeout: Duration
    private let sweeper = Mutex<Task<Void, Never>?>(nil)
    /// Prepared statements a server keeps at most; more are refused with RESOURCE_EXHAUSTED.
    let maximumPreparedStatements = 10_000
    /// Parameter rows one prepared statement keeps at most.
    let maximumParameterRows = 1_000_000

    /// An engine serving the database at `path` (created if missing, unless `readOnly`),
    /// publishing query results through `manager`, with at most `maximumConnections` open.
    /// A transaction unused for `transactionIdleTimeout` is rolled back, so that clients that
    /// vanish without ending theirs do not hold connections and locks for ever; a call that
    /// waits `connectionWaitTimeout` for a free connection fails with RESOURCE_EXHAUSTED.
    public init(path: String, readOnly: Bool = false, manager: any FlightManager = LocalFlightManager(),
                maximumConnections: Int = 64, transactionIdleTimeout: Duration = .seconds(300),
                connectionWaitTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "flight-sql.sqlite")) throws {
        self.path = path
        self.readOnly = readOnly
        self.manager = manager
        self.logger = logger
        self.transactionIdleTimeout = transactionIdleTimeout
        pool = SQLiteConnectionPool(path: path, readOnly: readOnly, maximum: maximumConnections, waitTimeout: connectionWaitTimeout)
        // Open one connection now, so that a bad path fails at start-up rather than at the first call.
        do {
            let first = try SQLiteConnection(path: path, readOnly: readOnly, create: !readOnly)
            first.close()
        } catch {
            throw FlightError(.unavailable, "cannot open database \(path): \(error)")
        }
        let period = min(transactionIdleTimeout / 4, .seconds(10))
        sweeper.withLock {
            $0 = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    self?.endIdleTransactions()
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
        for transaction in ended {
            Task {
                // Wait for a command still running in it; release rolls back.
                await transaction.lock.lock()
                pool.release(transaction.connection)
                transaction.lock.unlock()
            }
        }
        return ended.count
    }

    func endIdleTransactions() {
        let timeout = transactionIdleTimeout
        let count = endTransactions { $0.idle > timeout }
        if count > 0 { logger.notice("rolled back \(count) transaction(s) idle for more than \(timeout)") }
    }

    /// Rolls back open transactions and closes every connection.
    public func close() {
        sweeper.withLock { $0?.cancel() }
        let open = transactions.withLock { table in
            defer { table = [:] }
            return Array(table.values)
        }
        for transaction in open { pool.release(transaction.connection) }
        pool.close()
    }

    /// Runs `body` on the connection of `transaction`, or on a pooled one when it is nil.
    func withConnection<T: Sendable>(transaction: Data?, _ body: (SQLiteConnection) async throws -> T) async throws -> T {
        if let transaction, !transaction.isEmpty {
            guard let open = transactions.withLock({ $0[transaction] }) else {
                throw FlightError(.notFound, "unknown transaction (it may have ended)")
            }
            open.enter()
            defer { open.leave() }
            return try await open.lock.withLock {
                do {
                    return try await body(open.connection)
                } catch {
                    throw Self.status(error)
                }
            }
        }
        let connection = try await pool.acquire()
        defer { pool.release(connection) }
        do {
            return try await body(connection)
        } catch {
            throw Self.status(error)
        }
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
}

/// An open transaction: its connection, serialised, its savepoints, who opened it and when it
/// was last used.
final class SQLiteTransaction: Sendable {
    let connection: SQLiteConnection
    let lock = AsyncLock()
    /// Savepoint id → name.
    let savepoints = Mutex<[Data: String]>([:])
    /// The client connection that began it (`FlightCallContext.peer`).
    let peer: String
    private let use = Mutex<(lastUsed: ContinuousClock.Instant, active: Int)>((.now, 0))

    init(connection: SQLiteConnection, peer: String) {
        self.connection = connection
        self.peer = peer
    }

    /// Marks a command (or a result stream) running in the transaction.
    func enter() { use.withLock { $0.active += 1 } }
    /// Marks it done.
    func leave() { use.withLock { $0 = (.now, $0.active - 1) } }
    /// How long it has gone without a running command (zero while one runs).
    var idle: Duration { use.withLock { $0.active > 0 ? .zero : .now - $0.lastUsed } }
}

/// A prepared statement: its SQL, the transaction it belongs to, and its bound parameters.
struct PreparedStatement: Sendable {
    var sql: String
    var transaction: Data?
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
