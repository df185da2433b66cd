import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation

/// A query over the engine's database: one partition, produced on this node, or run by any
/// node with the same read-only copy (see `partition(sql:parameters:transaction:cursor:)`).
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
    /// A query to stream when the client reads it, with this schema: from the open cursor
    /// `cursor` when it still waits, else run again.
    case query(Schema, cursor: Data?)
}

/// A `SQLiteBatchReader` shared between the calls that advance it, one at a time.
final class ReaderBox: @unchecked Sendable {
    let reader: SQLiteBatchReader
    init(_ reader: SQLiteBatchReader) { self.reader = reader }
    func next() throws -> RecordBatch? { try reader.next() }
}

/// A query's first rows, read while planning it and again as the first batch of its result:
/// they give its schema (from declared types and, for untyped columns, the values), and the
/// whole result when it is small. The first batch of a result is always these rows, so that
/// a query run again gives the same batches.
struct SQLiteSample {
    /// Rows read at planning time at most; a result of fewer is sent from memory.
    static let rows = 1024
    /// Text and blob bytes read at planning time at most.
    static let bytes = 8 << 20

    let held: SQLiteHeldRows
    /// Whether the statement has no rows beyond those held (it is then done, not reset).
    let finished: Bool

    /// Steps `statement` for up to `rows` rows (or `bytes` of text and blobs); leaves it where
    /// it stopped.
    init(_ statement: SQLiteStatement) throws {
        let held = SQLiteHeldRows(columns: statement.columnCount)
        var finished = false
        while held.count < Self.rows && held.byteCount < Self.bytes {
            guard try statement.step() else {
                finished = true
                break
            }
            held.append(from: statement)
        }
        self.held = held
        self.finished = finished
    }

    /// The schema of `statement`'s result: declared types, and the held values' for the rest.
    func schema(of statement: SQLiteStatement) -> Schema {
        Schema((0..<statement.columnCount).map { c in
            Field(statement.columnName(c), SQLiteTypeMapping.arrowType(declared: statement.declaredType(c)) ?? held.valueType(column: c))
        })
    }
}

/// What the first look at a statement being planned gave.
enum SampledQuery: Sendable {
    /// A query: its first rows read (see `SQLiteOpenCursor.sample`).
    case query(SQLiteOpenCursor)
    /// A statement to run now: it writes, or runs once per parameter row.
    case execute(SQLiteStatement)
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
    /// otherwise reads its first rows and keeps its cursor open for the read of the result.
    func plan(sql: String, parameters: [RecordBatch], transaction: Data?) async throws -> PlannedStatement {
        let readOnly = readOnly
        let keepsConnection: @Sendable (PlannedStatement) -> Bool = { planned in
            if case .query(_, cursor: .some) = planned { true } else { false }
        }
        return try await withConnection(transaction: transaction, keepsCursors: true, keepsConnection: keepsConnection) { lease in
            let connection = lease.connection
            let sampled = try await lease.run { () throws -> SampledQuery in
                let statement = try connection.prepare(sql)
                let executions = Self.executions(statement, parameters)
                guard statement.columnCount > 0 && statement.isReadOnly && executions.count == 1 else {
                    if readOnly && !statement.isReadOnly {
                        statement.finalize()
                        throw FlightError(.permissionDenied, "the server is read-only")
                    }
                    return .execute(statement)
                }
                if let first = executions[0] { try SQLiteParameterBinder.bind(first.batch, row: first.row, to: statement) }
                return .query(try SQLiteOpenCursor.sample(statement, sql: sql, transaction: lease.transaction))
            }
            switch sampled {
            case .query(let cursor):
                if case .complete(let batches) = cursor.rows { return .complete(cursor.schema, batches, changed: 0) }
                return .query(cursor.schema, cursor: try await keepOpen(cursor, on: lease))
            case .execute(let statement):
                // What the transaction's open cursors would read after a write is not defined.
                if let transaction = lease.transaction { await dropCursors { $0.transaction === transaction } }
                defer { writingCommands.add(1, ordering: .releasing) }
                do {
                    return try await lease.run {
                        defer { statement.finalize() }
                        return try Self.execute(statement, Self.executions(statement, parameters), on: connection)
                    }
                } catch {
                    try? await lease.runRegardless { statement.finalize() }
                    throw error
                }
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

    /// Streams the result of `sql` to `sink`: from the cursor its plan left open when it still
    /// waits (`cursor`), else by running it again (once per parameter row) with the same
    /// batches: first the rows a plan samples, then batches of the reader's size.
    func stream(sql: String, parameters: [RecordBatch], transaction: Data?, cursor: Data?, into sink: RecordBatchSink) async throws {
        if let cursor, let open = takeCursor(cursor, sql: sql) {
            return try await stream(cursor: open, into: sink)
        }
        try await withConnection(transaction: transaction, keepsCursors: true) { lease in
            let connection = lease.connection
            let statement = try await lease.run { try connection.prepare(sql) }
            do {
                for execution in Self.executions(statement, parameters) {
                    let (box, first) = try await lease.run { () throws -> (ReaderBox?, RecordBatch) in
                        statement.reset()
                        statement.clearBindings()
                        if let execution { try SQLiteParameterBinder.bind(execution.batch, row: execution.row, to: statement) }
                        let sample = try SQLiteSample(statement)
                        guard statement.columnCount == sink.schema.fields.count else {
                            throw FlightError(.aborted, "the query now returns \(statement.columnCount) columns instead of \(sink.schema.fields.count): the database schema changed under it")
                        }
                        let reader = try SQLiteBatchReader(statement: statement, schema: sink.schema)
                        let first = try reader.batch(of: sample.held)
                        // A finished statement would run again if stepped: reset it, read no more.
                        if sample.finished { statement.reset() }
                        return (sample.finished ? nil : ReaderBox(reader), first)
                    }
                    try await send(first, then: box, on: lease, into: sink)
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

    /// The FlightInfo of a statement: planned here (unless `planned` already is), published
    /// through the manager.
    func flightInfo(sql: String, parameters: [RecordBatch], transaction: Data?, descriptor: FlightDescriptor,
                    planned: PlannedStatement? = nil) async throws -> FlightInfo {
        let info: FlightInfo
        let planned = if let planned { planned } else { try await plan(sql: sql, parameters: parameters, transaction: transaction) }
        switch planned {
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
        case .query(let schema, let cursor):
            let partition = partition(sql: sql, parameters: parameters, transaction: transaction, cursor: cursor)
            do {
                info = try await manager.distribute(SQLiteQuery(schema: schema, partition: partition), for: descriptor)
            } catch {
                if let cursor, let open = takeCursor(cursor, sql: sql) { await release(open) }
                throw error
            }
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
        try await withConnection(transaction: command.hasTransactionID ? command.transactionID : nil, keepsCursors: true) { lease in
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
        let keepsConnection: @Sendable ((PreparedStatement, SQLiteOpenCursor?)) -> Bool = { made in
            made.1?.isOpen == true && made.1?.transaction == nil
        }
        let stamp = changeStamp()
        let (statement, cursor) = try await withConnection(transaction: transaction, keepsCursors: true, keepsConnection: keepsConnection) { lease in
            let connection = lease.connection
            let made = try await lease.run { () throws -> (PreparedStatement, SQLiteOpenCursor?) in
                let statement = try connection.prepare(request.query)
                let isQuery = statement.columnCount > 0 && statement.isReadOnly
                let parameters = Schema((0..<statement.parameterCount).map { index in
                    Field(statement.parameterName(index) ?? "$\(index + 1)", SQLiteEngine.parameterType)
                })
                var dataset = Schema([])
                var cursor: SQLiteOpenCursor?
                if isQuery && statement.parameterCount == 0 {
                    // Its execution runs the same statement: the rows read here for the schema are
                    // its first rows, and the cursor goes on from them (see `planFromPreparation`).
                    let sampled = try SQLiteOpenCursor.sample(statement, sql: request.query, transaction: lease.transaction, stamp: stamp)
                    dataset = sampled.schema
                    cursor = sampled
                } else if statement.columnCount > 0 {
                    dataset = try SQLiteTypeMapping.inferSchema(statement, sampleRows: SQLiteSample.rows)
                }
                return (PreparedStatement(sql: request.query, transaction: transaction, owner: context.connectionID,
                                          datasetSchema: dataset, parameterSchema: parameters, isQuery: isQuery), cursor)
            }
            // A transaction's open cursor is one more use of it, from before it can be taken.
            if made.1?.isOpen == true { lease.transaction?.enter() }
            return made
        }
        let handle: Data
        do {
            handle = try prepared.insert(statement)
        } catch {
            if let cursor { await release(cursor) }
            throw error
        }
        if let cursor, keep(cursor, as: handle) == nil { await release(cursor) }
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
        if let cursor = cursors.withLock({ $0.removeValue(forKey: request.preparedStatementHandle) }) { await release(cursor) }
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
        let planned = try await planFromPreparation(command.preparedStatementHandle, sql: statement.sql)
        return try await flightInfo(sql: statement.sql, parameters: statement.parameters, transaction: statement.transaction,
                                    descriptor: descriptor, planned: planned)
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
