import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation

/// A query over the engine's database: one partition, produced on this node, or run by any
/// node with the same read-only copy (see `partition(sql:parameters:transaction:)`).
struct SQLiteQuery: DistributedQuery {
    let schema: Schema
    var heldBytes = 0
    let partition: QueryPartition

    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] { [partition] }
}

/// What running a statement at planning time gave.
enum PlannedStatement: Sendable {
    /// A statement without result columns ran: the rows it changed.
    case changed(Int64)
    /// The whole result is already here: a small query, or DML with RETURNING.
    case complete(Schema, [RecordBatch], changed: Int64)
    /// A query to stream when the client reads it, with this schema.
    case query(Schema)
}

/// A `SQLiteBatchReader` shared between the calls that advance it, one at a time.
final class ReaderBox: @unchecked Sendable {
    let reader: SQLiteBatchReader
    init(_ reader: SQLiteBatchReader) { self.reader = reader }
    func next() throws -> RecordBatch? { try reader.next() }
}

/// A query's first rows, read at planning time: its schema (from declared types and, for
/// untyped columns, the values), and the whole result when it is small.
enum SQLiteSample {
    /// Rows read at planning time; a result of fewer is sent without running the query again.
    static let rows = 1024
    /// Text and blob bytes read at planning time at most.
    static let bytes = 8 << 20

    /// Reads up to `rows` rows once. A result that ends within them (an aggregate, a lookup)
    /// is complete; otherwise the query runs again, from the start, when it is read.
    static func run(_ statement: SQLiteStatement) throws -> PlannedStatement {
        let columns = statement.columnCount
        let held = SQLiteHeldRows(columns: columns)
        var finished = false
        while held.count < rows && held.byteCount < bytes {
            guard try statement.step() else {
                finished = true
                break
            }
            held.append(from: statement)
        }
        statement.reset()
        let schema = Schema((0..<columns).map { c in
            Field(statement.columnName(c), SQLiteTypeMapping.arrowType(declared: statement.declaredType(c)) ?? held.valueType(column: c))
        })
        guard finished else { return .query(schema) }
        let batch = try SQLiteBatchReader(statement: statement, schema: schema).batch(of: held)
        return .complete(schema, batch.length > 0 ? [batch] : [], changed: 0)
    }
}

extension SQLiteEngine {
    /// The rows to execute a statement with: one per parameter row, or one without parameters.
    static func executions(_ statement: SQLiteStatement, _ parameters: [RecordBatch]) -> [(batch: RecordBatch, row: Int)?] {
        guard statement.parameterCount > 0 else { return [nil] }
        var rows: [(batch: RecordBatch, row: Int)?] = []
        for batch in parameters {
            for row in 0..<batch.length { rows.append((batch, row)) }
        }
        return rows.isEmpty ? [nil] : rows
    }

    /// Prepares `sql`, runs it now if it writes (or fully, if its result is small), and
    /// otherwise says with what schema its result will stream.
    func plan(sql: String, parameters: [RecordBatch], transaction: Data?) async throws -> PlannedStatement {
        let readOnly = readOnly
        return try await withConnection(transaction: transaction) { lease in
            let connection = lease.connection
            return try await lease.run {
                let statement = try connection.prepare(sql)
                let executions = Self.executions(statement, parameters)
                if statement.columnCount > 0 && statement.isReadOnly && executions.count == 1 {
                    if let first = executions[0] { try SQLiteParameterBinder.bind(first.batch, row: first.row, to: statement) }
                    return try SQLiteSample.run(statement)
                }
                if readOnly && !statement.isReadOnly {
                    throw FlightError(.permissionDenied, "the server is read-only")
                }
                return try Self.execute(statement, executions, on: connection)
            }
        }
    }

    /// Runs a statement once per execution, atomically when there are several, collecting
    /// any result rows (RETURNING, or a query run once per parameter row).
    /// Result bytes `execute` collects at most (RETURNING rows, a query run per parameter row).
    static let maximumCollectedBytes = 256 << 20

    static func execute(_ statement: SQLiteStatement, _ executions: [(batch: RecordBatch, row: Int)?],
                        on connection: SQLiteConnection) throws -> PlannedStatement {
        let atomic = executions.count > 1
        let savepoint = "flight_sql_execute_\(UInt64.random(in: 0...UInt64.max))"
        if atomic { try connection.execute("SAVEPOINT \(savepoint)") }
        do {
            let before = connection.totalChanges
            var batches: [RecordBatch] = []
            var held = 0
            let schema = statement.columnCount > 0 ? try SQLiteTypeMapping.inferSchema(statement, sampleRows: 0) : nil
            for execution in executions {
                statement.reset()
                statement.clearBindings()
                if let execution { try SQLiteParameterBinder.bind(execution.batch, row: execution.row, to: statement) }
                if let schema {
                    let reader = try SQLiteBatchReader(statement: statement, schema: schema)
                    while let batch = try reader.next() {
                        batches.append(batch)
                        held += batch.bufferBytes
                        // These rows wait in memory for the client: bounded.
                        guard held <= maximumCollectedBytes else {
                            throw FlightError(.resourceExhausted, "the statement returns more than \(maximumCollectedBytes >> 20) MiB run this way; run it once per call")
                        }
                    }
                } else {
                    while try statement.step() {}
                }
            }
            if atomic { try connection.execute("RELEASE \(savepoint)") }
            let changed = connection.totalChanges - before
            if let schema { return .complete(schema, batches, changed: changed) }
            return .changed(changed)
        } catch {
            // Only a savepoint rolled back is released: releasing one that is not would keep
            // the partial work (and commit it, outside a transaction).
            if atomic, (try? connection.execute("ROLLBACK TO \(savepoint)")) != nil {
                try? connection.execute("RELEASE \(savepoint)")
            }
            throw error
        }
    }

    /// Streams the result of `sql` (run once per parameter row) to `sink`, preparing the next
    /// batch while the last one is being sent.
    func stream(sql: String, parameters: [RecordBatch], transaction: Data?, into sink: RecordBatchSink) async throws {
        try await withConnection(transaction: transaction) { lease in
            let connection = lease.connection
            let statement = try await lease.run { try connection.prepare(sql) }
            do {
                for execution in Self.executions(statement, parameters) {
                    let box = try await lease.run {
                        statement.reset()
                        statement.clearBindings()
                        if let execution { try SQLiteParameterBinder.bind(execution.batch, row: execution.row, to: statement) }
                        return ReaderBox(try SQLiteBatchReader(statement: statement, schema: sink.schema))
                    }
                    var next = try await lease.run { try box.next() }
                    while let batch = next {
                        async let following = lease.run { try box.next() }
                        try await withClientProgress("the reader of the result") { try await sink.write(batch) }
                        next = try await following
                    }
                }
            } catch {
                try? await lease.runRegardless { statement.finalize() }
                throw error
            }
            // Finalized as a piece of work of the lease: a transaction's connection may be
            // running another call's statement.
            try await lease.runRegardless { statement.finalize() }
        }
    }

    /// The FlightInfo of a statement: planned here, published through the manager.
    func flightInfo(sql: String, parameters: [RecordBatch], transaction: Data?, descriptor: FlightDescriptor) async throws -> FlightInfo {
        let info: FlightInfo
        switch try await plan(sql: sql, parameters: parameters, transaction: transaction) {
        case .changed(let count):
            return FlightInfo(schema: Schema([]), descriptor: descriptor, endpoints: [], totalRecords: count)
        case .complete(let schema, let batches, let changed):
            let held = QueryPartition.local { sink in
                for batch in batches { try await sink.write(batch) }
            }
            var complete = try await manager.distribute(SQLiteQuery(schema: schema, heldBytes: batches.reduce(0) { $0 + $1.bufferBytes },
                                                                    partition: held), for: descriptor)
            complete.totalRecords = schema.fields.isEmpty ? changed : Int64(batches.reduce(0) { $0 + $1.length })
            info = complete
        case .query(let schema):
            info = try await manager.distribute(SQLiteQuery(schema: schema, partition: partition(sql: sql, parameters: parameters, transaction: transaction)),
                                                for: descriptor)
        }
        return FlightSQLTickets.wrap(info)
    }

    // MARK: FlightSQLService: statements

    public func flightInfoStatement(_ command: CommandStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        logger.debug("statement", metadata: ["peer": "\(context.peer)", "sql": "\(command.query)"])
        return try await flightInfo(sql: command.query, parameters: [],
                             transaction: command.hasTransactionID ? command.transactionID : nil, descriptor: descriptor)
    }

    public func schemaStatement(_ command: CommandStatementQuery, context: FlightCallContext) async throws -> Schema {
        try await withConnection(transaction: command.hasTransactionID ? command.transactionID : nil) { lease in
            let connection = lease.connection
            return try await lease.run {
                let statement = try connection.prepare(command.query)
                return statement.columnCount == 0 ? Schema([]) : try SQLiteTypeMapping.inferSchema(statement, sampleRows: SQLiteSample.rows)
            }
        }
    }

    public func doGetStatement(_ ticket: TicketStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        do {
            try await manager.stream(Ticket([UInt8](ticket.statementHandle)), to: writer, context: context)
        } catch {
            throw Self.status(error)
        }
    }

    public func doPutStatementUpdate(_ command: CommandStatementUpdate, context: FlightCallContext) async throws -> Int64 {
        try await withConnection(transaction: command.hasTransactionID ? command.transactionID : nil) { lease in
            let connection = lease.connection
            return try await lease.run {
                // A script of several statements is allowed here (executescript sends one).
                let before = connection.totalChanges
                // A read-only server's connections are opened read-only: SQLite refuses writes.
                try connection.execute(command.query)
                return connection.totalChanges - before
            }
        }
    }

    public func cancelFlightInfo(_ info: FlightInfo, context: FlightCallContext) async throws -> CancelStatus {
        await manager.cancel(FlightSQLTickets.unwrap(info))
    }

    // MARK: Prepared statements

    public func createPreparedStatement(_ request: ActionCreatePreparedStatementRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult {
        let transaction = request.hasTransactionID ? request.transactionID : nil
        logger.debug("prepare", metadata: ["peer": "\(context.peer)", "sql": "\(request.query)"])
        let statement = try await withConnection(transaction: transaction) { lease in
            let connection = lease.connection
            return try await lease.run {
                let statement = try connection.prepare(request.query)
                let isQuery = statement.columnCount > 0 && statement.isReadOnly
                let parameters = Schema((0..<statement.parameterCount).map { index in
                    Field(statement.parameterName(index) ?? "$\(index + 1)", SQLiteEngine.parameterType)
                })
                let dataset = statement.columnCount == 0 ? Schema([]) : try SQLiteTypeMapping.inferSchema(statement, sampleRows: SQLiteSample.rows)
                return PreparedStatement(sql: request.query, transaction: transaction, owner: context.connectionID,
                                         datasetSchema: dataset, parameterSchema: parameters, isQuery: isQuery)
            }
        }
        let handle = try prepared.insert(statement)
        endSessionWithConnection(context)
        var result = ActionCreatePreparedStatementResult()
        result.preparedStatementHandle = handle
        result.datasetSchema = Data(statement.datasetSchema.ipcEncoded)
        result.parameterSchema = Data(statement.parameterSchema.ipcEncoded)
        result.isUpdate = !statement.isQuery
        return result
    }

    public func closePreparedStatement(_ request: ActionClosePreparedStatementRequest, context: FlightCallContext) async throws {
        try prepared.remove(request.preparedStatementHandle)
    }

    func preparedStatement(_ handle: Data) throws(FlightError) -> PreparedStatement {
        try prepared.statement(handle)
    }

    /// Reads a parameter upload, bounded so that a client cannot fill the server's memory.
    func readParameters(_ reader: FlightRecordBatchReader) async throws -> [RecordBatch] {
        try await PreparedStatementTable<PreparedStatement>.readParameters(reader, maximumRows: maximumParameterRows,
                                                                           maximumBytes: maximumParameterBytes)
    }

    public func doPutPreparedStatementQuery(_ command: CommandPreparedStatementQuery, parameters: FlightRecordBatchReader,
                                            context: FlightCallContext) async throws -> DoPutPreparedStatementResult {
        _ = try preparedStatement(command.preparedStatementHandle)
        try prepared.bind(command.preparedStatementHandle, try await readParameters(parameters))
        var result = DoPutPreparedStatementResult()
        result.preparedStatementHandle = command.preparedStatementHandle
        return result
    }

    public func flightInfoPreparedStatement(_ command: CommandPreparedStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let statement = try preparedStatement(command.preparedStatementHandle)
        return try await flightInfo(sql: statement.sql, parameters: statement.parameters, transaction: statement.transaction, descriptor: descriptor)
    }

    public func schemaPreparedStatement(_ command: CommandPreparedStatementQuery, context: FlightCallContext) async throws -> Schema {
        try preparedStatement(command.preparedStatementHandle).datasetSchema
    }

    public func doPutPreparedStatementUpdate(_ command: CommandPreparedStatementUpdate, parameters: FlightRecordBatchReader,
                                             context: FlightCallContext) async throws -> Int64 {
        let statement = try preparedStatement(command.preparedStatementHandle)
        let batches = try await readParameters(parameters)
        let readOnly = readOnly
        let planned = try await withConnection(transaction: statement.transaction) { lease in
            let connection = lease.connection
            return try await lease.run {
                let prepared = try connection.prepare(statement.sql)
                if readOnly && !prepared.isReadOnly { throw FlightError(.permissionDenied, "the server is read-only") }
                return try Self.execute(prepared, Self.executions(prepared, batches.isEmpty ? statement.parameters : batches), on: connection)
            }
        }
        switch planned {
        case .changed(let count), .complete(_, _, let count): return count
        case .query: return -1
        }
    }
}
