import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation
import SparkConnect

/// The parameters a statement runs with.
enum SparkArguments: Sendable {
    case none
    case positional([Spark_Connect_Expression.Literal])
    case named([String: Spark_Connect_Expression.Literal])

    var positional: [Spark_Connect_Expression.Literal] {
        if case .positional(let values) = self { return values }
        return []
    }

    var named: [String: Spark_Connect_Expression.Literal] {
        if case .named(let values) = self { return values }
        return [:]
    }
}

/// What running a statement as a Spark command gave.
enum SparkCommandResult: Sendable {
    /// Spark ran it (DDL, DML, SHOW ...): its rows, if any, are here.
    case ran(Schema, [RecordBatch])
    /// A query, not run yet: the relation to run.
    case query(Spark_Connect_Relation)
}

extension SparkEngine {
    /// Runs `plan` and waits for its end; a cancelled task interrupts the Spark operation.
    func drain(_ plan: Spark_Connect_Plan, on client: SparkConnectClient) async throws -> [Spark_Connect_ExecutePlanResponse] {
        let operation = UUID()
        var responses: [Spark_Connect_ExecutePlanResponse] = []
        var held = 0
        do {
            try await withTaskCancellationHandler {
                for try await response in client.execute(plan, operationID: operation) {
                    if case .arrowBatch(let batch) = response.responseType {
                        held += batch.data.count
                        guard held <= Self.maximumHeldBytes else {
                            throw FlightError(.resourceExhausted, "the command returns more than \(Self.maximumHeldBytes >> 20) MiB")
                        }
                    }
                    responses.append(response)
                }
            } onCancel: {
                Task { _ = try? await client.interrupt(operationID: operation) }
            }
        } catch {
            Task { try? await client.release(operationID: operation) }
            throw Self.status(error)
        }
        return responses
    }

    /// Decodes the Arrow IPC stream of a local relation or an `arrow_batch`.
    static func decode(_ data: Data) throws(FlightError) -> (Schema, [RecordBatch]) {
        let buffer = data.withUnsafeBytes { Buffer(copying: $0) }
        do {
            let result = try IPCStreamReader.readAll(buffer)
            return (result.schema, result.batches.filter { $0.length > 0 })
        } catch {
            throw FlightError(.internal, "Spark sent Arrow data that does not decode: \(error)")
        }
    }

    /// Sends `sql` to Spark as a command: Spark runs DDL and DML (and SHOW, DESCRIBE ...) at
    /// once and returns their rows; a query comes back as a relation, not run.
    func command(_ sql: String, _ arguments: SparkArguments, on session: SparkSession) async throws -> SparkCommandResult {
        let plan = SparkConnectClient.sqlCommandPlan(sql, positional: arguments.positional, named: arguments.named)
        var relation: Spark_Connect_Relation?
        var schema: Schema?
        var batches: [RecordBatch] = []
        for response in try await drain(plan, on: session.client) {
            switch response.responseType {
            case .sqlCommandResult(let result)?:
                relation = result.relation
            case .arrowBatch(let batch)?:
                let (batchSchema, decoded) = try Self.decode(batch.data)
                schema = schema ?? batchSchema
                batches += decoded
            default:
                break
            }
        }
        // SET and RESET may change the session's time zone.
        if ["SET", "RESET"].contains(SparkSQLText(sql).firstKeyword) { try await session.refreshTimeZone() }
        guard let relation else { return .ran(schema ?? Schema([]), batches) }
        switch relation.relType {
        case .localRelation(let local)?:
            guard local.hasData else { return .ran(Schema([]), []) }
            let (localSchema, rows) = try Self.decode(local.data)
            return .ran(localSchema, rows)
        default:
            return .query(relation)
        }
    }

    /// The rows of a command or query, all in memory: for metadata.
    func collect(_ sql: String, on session: SparkSession) async throws -> [RecordBatch] {
        switch try await command(sql, .none, on: session) {
        case .ran(_, let batches):
            return batches
        case .query(let relation):
            var plan = Spark_Connect_Plan()
            plan.root = relation
            var batches: [RecordBatch] = []
            for response in try await drain(plan, on: session.client) {
                if case .arrowBatch(let batch)? = response.responseType { batches += try Self.decode(batch.data).1 }
            }
            return batches
        }
    }

    /// The Arrow schema of a relation's result.
    func schema(of relation: Spark_Connect_Relation, on session: SparkSession) async throws -> Schema {
        var plan = Spark_Connect_Plan()
        plan.root = relation
        do {
            return try SparkTypes.schema(await session.client.schema(of: plan), timeZone: session.timeZone)
        } catch {
            throw Self.status(error)
        }
    }

    /// The FlightInfo of a statement: a command's rows (run now), or a query run direct or
    /// distributed.
    func flightInfo(sql: String, arguments: SparkArguments, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let session = try await session(context)
        let info: FlightInfo
        switch try await command(sql, arguments, on: session) {
        case .ran(let schema, let batches):
            let held = QueryPartition.local { sink in
                for batch in batches { try await sink.write(batch) }
            }
            let parts = schema.fields.isEmpty ? [] : [held]
            var complete = try await manager.distribute(
                SparkQuery(schema: schema, heldBytes: batches.reduce(0) { $0 + $1.bufferBytes }, parts: parts), for: descriptor)
            complete.totalRecords = schema.fields.isEmpty ? -1 : Int64(batches.reduce(0) { $0 + $1.length })
            info = complete
        case .query(let relation):
            // A direct read keeps the session from the idle sweep while batches flow, however
            // long it takes.
            let slot = sessions.withLock { $0[context.connectionID] }
            info = try await query(relation, text: SparkSQLText(sql), session: session, descriptor: descriptor) { slot?.touch() }
        }
        return FlightSQLTickets.wrap(info)
    }

    /// How a query runs.
    enum Route: Equatable {
        case direct
        case distributed
        /// Distributed from the table's own files when they link, else direct.
        case tableFilesOrDirect
    }

    /// What auto mode learns from Spark's cost explain of a query.
    struct Estimate {
        /// Spark's `sizeInBytes` of the result.
        var bytes: Double
        /// Whether the plan scans a whole Parquet table, columns as the result has them.
        var wholeTable: Bool
    }

    /// How a query of `schema` runs in `mode` (the session's): distributed needs a staging
    /// directory, and a result Parquet carries (no intervals or void columns, no duplicate
    /// names), else it runs direct. Auto also needs Spark's `estimate` of the result: at
    /// ``SparkEngineConfiguration/distributedThresholdBytes`` or above, distributed; a scan of a
    /// whole table at ``SparkEngineConfiguration/tableFilesThresholdBytes`` or above, from the
    /// table's files when they link.
    func route(_ mode: SparkExecutionMode, schema: Schema, estimate: () async -> Estimate?) async throws -> Route {
        let portable = !schema.fields.isEmpty && schema.fields.allSatisfy { SparkTypes.parquetRoundTrips($0.type) }
            && Set(schema.fields.map { $0.name.lowercased() }).count == schema.fields.count
        switch mode {
        case .direct:
            return .direct
        case .distributed:
            guard staging != nil else {
                throw FlightError(.failedPrecondition, "execution_mode distributed needs a staging directory (--staging-dir)")
            }
            return portable ? .distributed : .direct
        case .auto:
            guard staging != nil, portable, let estimate = await estimate() else { return .direct }
            if estimate.bytes >= Double(configuration.distributedThresholdBytes) { return .distributed }
            if estimate.wholeTable, configuration.linksTableFiles, estimate.bytes >= Double(configuration.tableFilesThresholdBytes) {
                return .tableFilesOrDirect
            }
            return .direct
        }
    }

    /// Plans a query: its schema from Spark's analysis, then its partitions.
    func query(_ relation: Spark_Connect_Relation, text: SparkSQLText, session: SparkSession, descriptor: FlightDescriptor,
               inUse: @escaping @Sendable () -> Void = {}) async throws -> FlightInfo {
        var plan = Spark_Connect_Plan()
        plan.root = relation
        let mode = session.options.withLock { $0.mode } ?? configuration.defaultMode
        // In auto mode Spark's size estimate is asked at once with the schema: two round trips
        // in parallel.
        let client = session.client, analysed = plan
        let explained: Task<String, any Error>? = mode == .auto && staging != nil
            ? Task { try await client.explain(analysed, mode: .cost) } : nil
        defer { explained?.cancel() }
        let schema = try await schema(of: relation, on: session)
        let route = try await route(mode, schema: schema) {
            // No estimate (Spark could not explain the plan): direct.
            guard let explained, let text = try? await explained.value, let bytes = SparkPlanEstimate.sizeInBytes(text) else { return nil }
            return Estimate(bytes: bytes, wholeTable: SparkTableFiles.scan(text)?.names == schema.fields.map(\.name))
        }
        // The plan auto mode explained serves again to find a whole-table scan.
        var explainedText: String?
        if route != .direct, let explained { explainedText = try? await explained.value }
        if route != .direct,
           let info = try await distributed(relation, schema: schema, text: text, session: session, descriptor: descriptor,
                                            explained: explainedText, tableFilesOnly: route == .tableFilesOrDirect) {
            return info
        }
        let direct = QueryPartition.local { sink in try await Self.streamDirect(analysed, client: client, into: sink, inUse: inUse) }
        var info = try await manager.distribute(SparkQuery(schema: schema, parts: [direct]), for: descriptor)
        info.ordered = text.ordersResult
        return info
    }

    /// Streams a query's Arrow batches from Spark's driver to `sink`, calling `inUse` for each;
    /// a cancelled read interrupts the Spark operation.
    static func streamDirect(_ plan: Spark_Connect_Plan, client: SparkConnectClient, into sink: RecordBatchSink,
                             inUse: @Sendable () -> Void = {}) async throws {
        let operation = UUID()
        do {
            try await withTaskCancellationHandler {
                for try await batch in client.batches(plan, operationID: operation) where batch.length > 0 {
                    inUse()
                    try await sink.write(try SparkTypes.conform(batch, to: sink.schema))
                }
            } onCancel: {
                Task { _ = try? await client.interrupt(operationID: operation) }
            }
        } catch {
            // A read that stops early (a client gone, a failed write) leaves nothing running.
            Task {
                _ = try? await client.interrupt(operationID: operation)
                try? await client.release(operationID: operation)
            }
            throw status(error)
        }
    }

    /// Stages the query's result in the staging directory (the table's own files, linked, for
    /// a scan of a whole table; else Spark's executors write it as Parquet), then returns
    /// endpoints of row-group ranges, pull partitions any node serves. With `tableFilesOnly`,
    /// nil when the table's files do not link.
    func distributed(_ relation: Spark_Connect_Relation, schema: Schema, text: SparkSQLText, session: SparkSession,
                     descriptor: FlightDescriptor, explained: String? = nil, tableFilesOnly: Bool = false) async throws -> FlightInfo? {
        guard let staging else { throw FlightError(.failedPrecondition, "no staging directory") }
        let id = UUID()
        var write = Spark_Connect_WriteOperation()
        write.input = relation
        write.source = "parquet"
        write.path = staging.directory(id)
        write.mode = .errorIfExists
        var command = Spark_Connect_Command()
        command.writeOperation = write
        var plan = Spark_Connect_Plan()
        plan.command = command
        let started = ContinuousClock.now
        do {
            // The table's columns the result reads, when its files are linked.
            var columns: [String]?
            if configuration.linksTableFiles {
                columns = await stageTableFiles(relation, schema: schema, client: session.client, explained: explained,
                                                into: staging.directory(id))
            }
            let linked = columns != nil
            if !linked {
                if tableFilesOnly { return nil }
                _ = try await drain(plan, on: session.client)
            }
            let (tasks, rows, bytes) = try staging.plan(id, targetBytes: configuration.partitionBytes, columns: columns)
            let parts = try tasks.map { task throws(FlightError) in QueryPartition.pull(try task.task, nodes: []) }
            var info = try await manager.distribute(SparkQuery(schema: schema, parts: parts), for: descriptor)
            info.ordered = text.ordersResult
            info.totalRecords = rows
            info.totalBytes = bytes
            let expires = info.endpoints.compactMap(\.expirationTime).max() ?? Date().addingTimeInterval(3600)
            try staging.publish(id, partitions: tasks.count, expires: expires)
            logger.debug("distributed result", metadata: [
                "query": "\(id)", "rows": "\(rows)", "endpoints": "\(tasks.count)", "spark": "\(ContinuousClock.now - started)",
                "files": "\(linked ? "the table's, linked" : "written by Spark")",
            ])
            return info
        } catch {
            staging.remove(id)
            throw Self.status(error)
        }
    }

    /// Hard-links the files of a query that scans a Parquet table into `directory` (see
    /// ``SparkTableFiles``) and returns the files' columns the result reads; nil, with nothing
    /// left behind, when the query is anything else or a file does not fit. `explained`:
    /// Spark's explain of the plan in extended or cost mode, when it was asked already.
    func stageTableFiles(_ relation: Spark_Connect_Relation, schema: Schema, client: SparkConnectClient,
                         explained known: String?, into directory: String) async -> [String]? {
        var plan = Spark_Connect_Plan()
        plan.root = relation
        var explained = known
        if explained == nil { explained = try? await client.explain(plan, mode: .extended) }
        guard let explained, let scan = SparkTableFiles.scan(explained), scan.names == schema.fields.map(\.name),
              let files = try? await client.inputFiles(plan) else { return nil }
        return SparkTableFiles.stage(files, into: directory, columns: scan.columns, as: schema) ? scan.columns : nil
    }

    // MARK: FlightSQLService: statements

    public func flightInfoStatement(_ command: CommandStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        logger.debug("statement", metadata: ["peer": "\(context.peer)", "sql": "\(command.query)"])
        if command.hasTransactionID { throw FlightError(.invalidArgument, "Spark has no transactions") }
        return try await flightInfo(sql: command.query, arguments: .none, descriptor: descriptor, context: context)
    }

    public func schemaStatement(_ command: CommandStatementQuery, context: FlightCallContext) async throws -> Schema {
        let session = try await session(context)
        let text = SparkSQLText(command.query)
        guard text.isQuery else { return Schema([]) }
        var relation = Spark_Connect_Relation()
        var sql = Spark_Connect_SQL()
        sql.query = command.query
        relation.sql = sql
        return try await schema(of: relation, on: session)
    }

    public func doGetStatement(_ ticket: TicketStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        do {
            try await manager.stream(Ticket([UInt8](ticket.statementHandle)), to: writer, context: context)
        } catch {
            throw Self.status(error)
        }
    }

    /// Runs a statement; the rows it changed when Spark says (a `num_affected_rows` column,
    /// as Spark's DML on tables of v2 sources returns), else -1.
    func update(_ sql: String, _ arguments: SparkArguments, context: FlightCallContext) async throws -> Int64 {
        let session = try await session(context)
        switch try await command(sql, arguments, on: session) {
        case .ran(let schema, let batches):
            guard let column = schema.fields.firstIndex(where: { $0.name == "num_affected_rows" }),
                  let first = batches.first, first.length > 0,
                  let values = try? PrimitiveArray<Int64>(first.columns[column]), let count = values[0] else { return -1 }
            return count
        case .query(let relation):
            // A query sent as an update runs, and its rows are dropped.
            var plan = Spark_Connect_Plan()
            plan.root = relation
            var rows: Int64 = 0
            for try await batch in session.client.batches(plan) { rows += Int64(batch.length) }
            return rows
        }
    }

    public func doPutStatementUpdate(_ command: CommandStatementUpdate, context: FlightCallContext) async throws -> Int64 {
        logger.debug("update", metadata: ["peer": "\(context.peer)", "sql": "\(command.query)"])
        if command.hasTransactionID { throw FlightError(.invalidArgument, "Spark has no transactions") }
        return try await update(command.query, .none, context: context)
    }

    public func cancelFlightInfo(_ info: FlightInfo, context: FlightCallContext) async throws -> CancelStatus {
        await manager.cancel(FlightSQLTickets.unwrap(info))
    }

    // MARK: Prepared statements

    /// The union every parameter of a prepared statement publishes: Spark types parameters by
    /// the values bound, so a client may send any of these (or plain columns of any type
    /// ``SparkParameters`` takes).
    static let parameterType = DataType.union(.dense, [
        Field("string", .utf8),
        Field("bytes", .binary),
        Field("bigint", .int64),
        Field("double", .float64),
        Field("boolean", .bool),
        Field("date", .date32),
        Field("timestamp", .timestamp(.microsecond, timeZone: "UTC")),
    ], typeIDs: [0, 1, 2, 3, 4, 5, 6])

    public func createPreparedStatement(_ request: ActionCreatePreparedStatementRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult {
        if request.hasTransactionID { throw FlightError(.invalidArgument, "Spark has no transactions") }
        let session = try await session(context)
        let text = SparkSQLText(request.query)
        guard text.namedMarkers.isEmpty || text.positionalMarkers == 0 else {
            throw FlightError(.invalidArgument, "a statement takes either ? or :name parameters, not both")
        }
        let names = text.namedMarkers.isEmpty ? (0..<text.positionalMarkers).map { "$\($0 + 1)" } : text.namedMarkers
        let parameterSchema = Schema(names.map { Field($0, Self.parameterType) })
        var dataset = Schema([])
        if text.isQuery {
            // Analysed with NULLs for the parameters: exact unless a parameter's type changes
            // the result's types; a statement Spark cannot analyse so says nothing yet.
            var null = Spark_Connect_Expression.Literal()
            null.null = SparkParameters.sparkType(.null)
            let plan = SparkConnectClient.sqlPlan(
                request.query, positional: Array(repeating: null, count: text.namedMarkers.isEmpty ? text.positionalMarkers : 0),
                named: Dictionary(uniqueKeysWithValues: text.namedMarkers.map { ($0, null) }))
            if let type = try? await session.client.schema(of: plan) {
                dataset = (try? SparkTypes.schema(type, timeZone: session.timeZone)) ?? Schema([])
            }
        }
        let statement = SparkPreparedStatement(sql: request.query, text: text, owner: context.connectionID,
                                               datasetSchema: dataset, parameterSchema: parameterSchema)
        let handle = try prepared.insert(statement)
        var result = ActionCreatePreparedStatementResult()
        result.preparedStatementHandle = handle
        result.datasetSchema = Data(dataset.ipcEncoded)
        result.parameterSchema = Data(parameterSchema.ipcEncoded)
        result.isUpdate = !text.isQuery
        return result
    }

    public func closePreparedStatement(_ request: ActionClosePreparedStatementRequest, context: FlightCallContext) async throws {
        try prepared.remove(request.preparedStatementHandle)
    }

    /// Reads a parameter upload, bounded.
    func readParameters(_ reader: FlightRecordBatchReader) async throws -> [RecordBatch] {
        try await PreparedStatementTable<SparkPreparedStatement>.readParameters(reader, maximumRows: 1_000_000,
                                                                                maximumBytes: maximumParameterBytes)
    }

    /// The arguments of each parameter row, by the statement's markers.
    static func arguments(_ statement: SparkPreparedStatement, _ batches: [RecordBatch]) throws(FlightError) -> [SparkArguments] {
        let text = statement.text
        guard text.positionalMarkers > 0 || !text.namedMarkers.isEmpty else { return [.none] }
        guard !batches.isEmpty else {
            throw FlightError(.invalidArgument, "the statement has parameters and none were bound")
        }
        var out: [SparkArguments] = []
        for batch in batches {
            if text.namedMarkers.isEmpty {
                guard batch.columns.count == text.positionalMarkers else {
                    throw FlightError(.invalidArgument,
                                      "the statement has \(text.positionalMarkers) parameters but the parameter batch has \(batch.columns.count) columns")
                }
                for row in 0..<batch.length { out.append(.positional(try SparkParameters.literals(batch, row: row))) }
            } else {
                // Columns named like the markers bind by name; otherwise (clients that name
                // parameter columns by position) by order of the markers' first appearance.
                let byName = Set(batch.schema.fields.map(\.name)).isSuperset(of: text.namedMarkers)
                guard byName || batch.columns.count == text.namedMarkers.count else {
                    throw FlightError(.invalidArgument,
                                      "the statement's parameters are \(text.namedMarkers.map { ":" + $0 }.joined(separator: ", ")); the parameter batch has columns \(batch.schema.fields.map(\.name).joined(separator: ", "))")
                }
                for row in 0..<batch.length {
                    if byName {
                        let named = try SparkParameters.namedLiterals(batch, row: row)
                        out.append(.named(named.filter { text.namedMarkers.contains($0.key) }))
                    } else {
                        let values = try SparkParameters.literals(batch, row: row)
                        out.append(.named(Dictionary(uniqueKeysWithValues: zip(text.namedMarkers, values))))
                    }
                }
            }
        }
        return out
    }

    public func doPutPreparedStatementQuery(_ command: CommandPreparedStatementQuery, parameters: FlightRecordBatchReader,
                                            context: FlightCallContext) async throws -> DoPutPreparedStatementResult {
        _ = try prepared.statement(command.preparedStatementHandle)
        try prepared.bind(command.preparedStatementHandle, try await readParameters(parameters))
        var result = DoPutPreparedStatementResult()
        result.preparedStatementHandle = command.preparedStatementHandle
        return result
    }

    public func flightInfoPreparedStatement(_ command: CommandPreparedStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let statement = try prepared.statement(command.preparedStatementHandle)
        let runs = try Self.arguments(statement, statement.parameters)
        guard runs.count == 1 else {
            throw FlightError(.invalidArgument, "a prepared query runs with one parameter row; \(runs.count) were bound")
        }
        return try await flightInfo(sql: statement.sql, arguments: runs[0], descriptor: descriptor, context: context)
    }

    public func schemaPreparedStatement(_ command: CommandPreparedStatementQuery, context: FlightCallContext) async throws -> Schema {
        try prepared.statement(command.preparedStatementHandle).datasetSchema
    }

    public func doPutPreparedStatementUpdate(_ command: CommandPreparedStatementUpdate, parameters: FlightRecordBatchReader,
                                             context: FlightCallContext) async throws -> Int64 {
        let statement = try prepared.statement(command.preparedStatementHandle)
        let batches = try await readParameters(parameters)
        var total: Int64 = 0
        for arguments in try Self.arguments(statement, batches.isEmpty ? statement.parameters : batches) {
            let count = try await update(statement.sql, arguments, context: context)
            total = count < 0 || total < 0 ? -1 : total + count
        }
        return total
    }
}

/// Spark's estimate of a plan's result size, read from `explain` in cost mode: the
/// `sizeInBytes` of the optimized plan's root (the first statistics of that section).
enum SparkPlanEstimate {
    static func sizeInBytes(_ explained: String) -> Double? {
        let section = explained.range(of: "== Optimized Logical Plan ==").map { String(explained[$0.upperBound...]) } ?? explained
        guard let found = section.range(of: "sizeInBytes=") else { return nil }
        let rest = section[found.upperBound...]
        let token = rest.prefix { $0 != "," && $0 != ")" }.trimmingCharacters(in: .whitespaces)
        let parts = token.split(separator: " ")
        guard let number = parts.first.flatMap({ Double($0) }) else { return nil }
        let units: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1024 * 1024, "GiB": 1024 * 1024 * 1024,
                                       "TiB": 1024 * 1024 * 1024 * 1024, "PiB": 1024 * 1024 * 1024 * 1024 * 1024,
                                       "EiB": 1024 * 1024 * 1024 * 1024 * 1024 * 1024]
        guard parts.count > 1 else { return number }
        guard let scale = units[String(parts[1])] else { return nil }
        return number * scale
    }
}
