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
    /// Prepared statements a server keeps at most; more are refused with RESOURCE_EXHAUSTED.
    let maximumPreparedStatements = 10_000
    /// Parameter rows one prepared statement keeps at most.
    let maximumParameterRows = 1_000_000

    /// An engine serving the database at `path` (created if missing, unless `readOnly`),
    /// publishing query results through `manager`, with at most `maximumConnections` open.
    public init(path: String, readOnly: Bool = false, manager: any FlightManager = LocalFlightManager(),
                maximumConnections: Int = 64, logger: Logger = Logger(label: "flight-sql.sqlite")) throws {
        self.path = path
        self.readOnly = readOnly
        self.manager = manager
        self.logger = logger
        pool = SQLiteConnectionPool(path: path, readOnly: readOnly, maximum: maximumConnections)
        // Open one connection now, so that a bad path fails at start-up rather than at the first call.
        do {
            let first = try SQLiteConnection(path: path, readOnly: readOnly, create: !readOnly)
            first.close()
        } catch {
            throw FlightError(.unavailable, "cannot open database \(path): \(error)")
        }
    }

    /// Rolls back open transactions and closes every connection.
    public func close() {
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

/// An open transaction: its connection, serialised, and its savepoints.
final class SQLiteTransaction: Sendable {
    let connection: SQLiteConnection
    let lock = AsyncLock()
    /// Savepoint id → name.
    let savepoints = Mutex<[Data: String]>([:])

    init(connection: SQLiteConnection) { self.connection = connection }
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
