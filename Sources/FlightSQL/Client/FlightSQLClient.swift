import ArrowCore
import FlightRPC
import Foundation
import SwiftProtobuf

/// A transaction opened with ``FlightSQLClient/beginTransaction(options:)``.
public struct FlightSQLTransaction: Sendable, Hashable {
    /// The server's id of the transaction.
    public let id: Data
}

/// A savepoint opened with ``FlightSQLClient/beginSavepoint(_:in:options:)``.
public struct FlightSQLSavepoint: Sendable, Hashable {
    /// The server's id of the savepoint.
    public let id: Data
}

/// How bulk ingest treats the target table.
public enum FlightSQLIngestMode: Sendable, Hashable {
    /// Create the table; fail if it exists.
    case create
    /// Append to the table; fail if it does not exist.
    case append
    /// Replace the table (drop and create), creating it if missing.
    case replace
    /// Append to the table, creating it if missing.
    case createAppend

    var options: CommandStatementIngest.TableDefinitionOptions {
        var options = CommandStatementIngest.TableDefinitionOptions()
        switch self {
        case .create: (options.ifNotExist, options.ifExists) = (.create, .fail)
        case .append: (options.ifNotExist, options.ifExists) = (.fail, .append)
        case .replace: (options.ifNotExist, options.ifExists) = (.create, .replace)
        case .createAppend: (options.ifNotExist, options.ifExists) = (.create, .append)
        }
        return options
    }
}

/// A Flight SQL client: every command and action of the protocol over one `FlightClient`.
///
/// Queries return a `FlightInfo`; ``readAll(_:options:)`` and ``stream(_:options:)`` read
/// its endpoints, in parallel, connecting to other locations when an endpoint names them.
/// Metadata calls have typed forms (``catalogs(options:)``, ``tables(catalog:dbSchemaPattern:tablePattern:types:includeSchema:options:)``,
/// …) that decode the result rows.
public final class FlightSQLClient: Sendable {
    /// The Flight connection calls go through.
    public let flight: FlightClient
    /// The connections results are read through: `flight`, and one per other location.
    public let pool: FlightConnectionPool

    /// A client over an open Flight connection. `options` are used to connect to other
    /// locations that endpoints name.
    public init(_ flight: FlightClient, options: FlightClientOptions = FlightClientOptions()) {
        self.flight = flight
        pool = FlightConnectionPool(primary: flight, options: options)
    }

    /// Connects to `location`.
    public convenience init(location: Location, options: FlightClientOptions = FlightClientOptions()) async throws {
        self.init(try await FlightClient(location: location, options: options), options: options)
    }

    /// Closes the connection, and those opened to other locations.
    public func close() {
        pool.close()
        flight.close()
    }

    /// Basic authentication: the server's Bearer token is used for every later call.
    @discardableResult
    public func authenticate(username: String, password: String, options: FlightCallOptions = FlightCallOptions()) async throws -> String {
        try await flight.authenticateBasicToken(username: username, password: password, options: options)
    }

    private func descriptor(_ message: some SwiftProtobuf.Message) -> FlightDescriptor {
        .command(FlightSQLAny.pack(message))
    }

    private func info(_ message: some SwiftProtobuf.Message, _ options: FlightCallOptions) async throws -> FlightInfo {
        try await flight.getFlightInfo(descriptor(message), options: options)
    }

    private func action<R: SwiftProtobuf.Message>(_ type: String, _ request: some SwiftProtobuf.Message, returning: R.Type,
                                                  _ options: FlightCallOptions) async throws -> R {
        let results = try await flight.doAction(Action(type: type, body: FlightSQLAny.pack(request)), options: options)
        guard let first = results.first else { throw FlightError(.internal, "\(type) returned no result") }
        return try FlightSQLAny.unpack(FlightSQLAny.decode(first.body), as: R.self)
    }

    private func actionWithoutResult(_ type: String, _ request: some SwiftProtobuf.Message, _ options: FlightCallOptions) async throws {
        _ = try await flight.doAction(Action(type: type, body: FlightSQLAny.pack(request)), options: options)
    }

    // MARK: Statements

    /// Plans a SQL query; read the result with ``readAll(_:options:)`` or ``stream(_:options:)``.
    public func execute(_ query: String, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandStatementQuery()
        command.query = query
        if let transaction { command.transactionID = transaction.id }
        return try await info(command, options)
    }

    /// The schema `query` would return, without running it.
    public func executeSchema(_ query: String, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> Schema {
        var command = CommandStatementQuery()
        command.query = query
        if let transaction { command.transactionID = transaction.id }
        return try await flight.getSchema(descriptor(command), options: options)
    }

    /// Runs SQL that changes data (one or more statements); returns the rows changed.
    public func executeUpdate(_ sql: String, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> Int64 {
        var command = CommandStatementUpdate()
        command.query = sql
        if let transaction { command.transactionID = transaction.id }
        return try await put(descriptor(command), batches: [], schema: Schema([]), options: options)
    }

    /// Plans a Substrait plan.
    public func executeSubstrait(_ plan: SubstraitPlan, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandStatementSubstraitPlan()
        command.plan = plan
        if let transaction { command.transactionID = transaction.id }
        return try await info(command, options)
    }

    /// Runs a Substrait plan that changes data; returns the rows changed.
    public func executeSubstraitUpdate(_ plan: SubstraitPlan, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> Int64 {
        var command = CommandStatementSubstraitPlan()
        command.plan = plan
        if let transaction { command.transactionID = transaction.id }
        return try await put(descriptor(command), batches: [], schema: Schema([]), options: options)
    }

    /// Uploads batches under `descriptor` and decodes the DoPutUpdateResult the server returns.
    private func put(_ descriptor: FlightDescriptor, batches: [RecordBatch], schema: Schema, options: FlightCallOptions) async throws -> Int64 {
        let call = try await flight.doPut(descriptor, options: options)
        try await call.writer.begin(schema)
        for batch in batches { try await call.writer.write(batch) }
        let results = try await call.finish()
        guard let result = results.first else { throw FlightError(.internal, "the server returned no update result") }
        do {
            return try DoPutUpdateResult(serializedBytes: result.appMetadata).recordCount
        } catch {
            throw FlightError(.internal, "malformed DoPutUpdateResult")
        }
    }

    /// Writes `batches` (all with `schema`) to `table`; returns the rows the server wrote.
    public func ingest(_ batches: [RecordBatch], schema: Schema, table: String, mode: FlightSQLIngestMode = .createAppend,
                       dbSchema: String? = nil, temporary: Bool = false, transaction: FlightSQLTransaction? = nil,
                       tableOptions: [String: String] = [:], options: FlightCallOptions = FlightCallOptions()) async throws -> Int64 {
        var command = CommandStatementIngest()
        command.table = table
        command.tableDefinitionOptions = mode.options
        if let dbSchema { command.schema = dbSchema }
        command.temporary = temporary
        if let transaction { command.transactionID = transaction.id }
        command.options = tableOptions
        return try await put(descriptor(command), batches: batches, schema: schema, options: options)
    }

    // MARK: Reading results

    /// A reader of the result `info` describes: its endpoints in parallel, through this
    /// client's connection pool (see ``FlightResultReader``).
    public func reader(_ info: FlightInfo, options: FlightReadOptions = FlightReadOptions()) -> FlightResultReader {
        FlightResultReader(info, pool: pool, options: options)
    }

    /// Every batch of a result, its endpoints read in parallel; batches keep endpoint order.
    public func readAll(_ info: FlightInfo, options: FlightCallOptions = FlightCallOptions()) async throws -> [RecordBatch] {
        try await reader(info, options: FlightReadOptions(ordered: true, callOptions: options)).readAll()
    }

    /// The batches of a result as they arrive, endpoints read in parallel within the default
    /// byte budget; order between endpoints is kept only when the result is ordered. Dropping
    /// the reader before its end stops the reads.
    public func stream(_ info: FlightInfo, options: FlightCallOptions = FlightCallOptions()) -> FlightResultReader {
        reader(info, options: FlightReadOptions(callOptions: options))
    }

    // MARK: Metadata

    /// GetCatalogs.
    public func getCatalogs(options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        try await info(CommandGetCatalogs(), options)
    }

    /// GetDbSchemas.
    public func getDbSchemas(catalog: String? = nil, pattern: String? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetDbSchemas()
        if let catalog { command.catalog = catalog }
        if let pattern { command.dbSchemaFilterPattern = pattern }
        return try await info(command, options)
    }

    /// GetTables.
    public func getTables(catalog: String? = nil, dbSchemaPattern: String? = nil, tablePattern: String? = nil, types: [String] = [],
                          includeSchema: Bool = false, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetTables()
        if let catalog { command.catalog = catalog }
        if let dbSchemaPattern { command.dbSchemaFilterPattern = dbSchemaPattern }
        if let tablePattern { command.tableNameFilterPattern = tablePattern }
        command.tableTypes = types
        command.includeSchema = includeSchema
        return try await info(command, options)
    }

    /// GetTableTypes.
    public func getTableTypes(options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        try await info(CommandGetTableTypes(), options)
    }

    /// GetPrimaryKeys.
    public func getPrimaryKeys(table: String, catalog: String? = nil, dbSchema: String? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetPrimaryKeys()
        command.table = table
        if let catalog { command.catalog = catalog }
        if let dbSchema { command.dbSchema = dbSchema }
        return try await info(command, options)
    }

    /// GetExportedKeys: the foreign keys referring to `table`.
    public func getExportedKeys(table: String, catalog: String? = nil, dbSchema: String? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetExportedKeys()
        command.table = table
        if let catalog { command.catalog = catalog }
        if let dbSchema { command.dbSchema = dbSchema }
        return try await info(command, options)
    }

    /// GetImportedKeys: `table`'s foreign keys.
    public func getImportedKeys(table: String, catalog: String? = nil, dbSchema: String? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetImportedKeys()
        command.table = table
        if let catalog { command.catalog = catalog }
        if let dbSchema { command.dbSchema = dbSchema }
        return try await info(command, options)
    }

    /// GetCrossReference: the foreign keys of `foreignTable` referring to `primaryTable`.
    public func getCrossReference(primaryTable: String, foreignTable: String, primaryDbSchema: String? = nil, foreignDbSchema: String? = nil,
                                  options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetCrossReference()
        command.pkTable = primaryTable
        command.fkTable = foreignTable
        if let primaryDbSchema { command.pkDbSchema = primaryDbSchema }
        if let foreignDbSchema { command.fkDbSchema = foreignDbSchema }
        return try await info(command, options)
    }

    /// GetXdbcTypeInfo, for every type or one XDBC type code.
    public func getXdbcTypeInfo(dataType: Int32? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetXdbcTypeInfo()
        if let dataType { command.dataType = dataType }
        return try await info(command, options)
    }

    /// GetSqlInfo for `ids` (every id the server knows when empty).
    public func getSqlInfo(_ ids: [UInt32] = [], options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandGetSqlInfo()
        command.info = ids
        return try await info(command, options)
    }

    /// The catalogs.
    public func catalogs(options: FlightCallOptions = FlightCallOptions()) async throws -> [String] {
        try await MetadataRows.strings(readAll(getCatalogs(options: options), options: options), column: 0)
    }

    /// The database schemas.
    public func dbSchemas(catalog: String? = nil, pattern: String? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> [DbSchemaRow] {
        try await MetadataRows.dbSchemas(readAll(getDbSchemas(catalog: catalog, pattern: pattern, options: options), options: options))
    }

    /// The tables, with their schemas when `includeSchema` is set.
    public func tables(catalog: String? = nil, dbSchemaPattern: String? = nil, tablePattern: String? = nil, types: [String] = [],
                       includeSchema: Bool = false, options: FlightCallOptions = FlightCallOptions()) async throws -> [TableRow] {
        let info = try await getTables(catalog: catalog, dbSchemaPattern: dbSchemaPattern, tablePattern: tablePattern, types: types,
                                       includeSchema: includeSchema, options: options)
        return try await MetadataRows.tables(readAll(info, options: options))
    }

    /// The table types.
    public func tableTypes(options: FlightCallOptions = FlightCallOptions()) async throws -> [String] {
        try await MetadataRows.strings(readAll(getTableTypes(options: options), options: options), column: 0)
    }

    /// SQL info values by id.
    public func sqlInfo(_ ids: [UInt32] = [], options: FlightCallOptions = FlightCallOptions()) async throws -> [UInt32: SqlInfoValue] {
        try await MetadataRows.sqlInfo(readAll(getSqlInfo(ids, options: options), options: options))
    }

    // MARK: Prepared statements

    /// Prepares `query` on the server.
    public func prepare(_ query: String, transaction: FlightSQLTransaction? = nil, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightSQLPreparedStatement {
        var request = ActionCreatePreparedStatementRequest()
        request.query = query
        if let transaction { request.transactionID = transaction.id }
        let result = try await action(FlightSQLAction.createPreparedStatement, request, returning: ActionCreatePreparedStatementResult.self, options)
        return try FlightSQLPreparedStatement(client: self, result: result)
    }

    // MARK: Transactions and savepoints

    /// Begins a transaction.
    public func beginTransaction(options: FlightCallOptions = FlightCallOptions()) async throws -> FlightSQLTransaction {
        let result = try await action(FlightSQLAction.beginTransaction, ActionBeginTransactionRequest(),
                                      returning: ActionBeginTransactionResult.self, options)
        return FlightSQLTransaction(id: result.transactionID)
    }

    /// Commits a transaction.
    public func commit(_ transaction: FlightSQLTransaction, options: FlightCallOptions = FlightCallOptions()) async throws {
        var request = ActionEndTransactionRequest()
        request.transactionID = transaction.id
        request.action = .commit
        try await actionWithoutResult(FlightSQLAction.endTransaction, request, options)
    }

    /// Rolls a transaction back.
    public func rollback(_ transaction: FlightSQLTransaction, options: FlightCallOptions = FlightCallOptions()) async throws {
        var request = ActionEndTransactionRequest()
        request.transactionID = transaction.id
        request.action = .rollback
        try await actionWithoutResult(FlightSQLAction.endTransaction, request, options)
    }

    /// Begins a savepoint named `name` in `transaction`.
    public func beginSavepoint(_ name: String, in transaction: FlightSQLTransaction, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightSQLSavepoint {
        var request = ActionBeginSavepointRequest()
        request.transactionID = transaction.id
        request.name = name
        let result = try await action(FlightSQLAction.beginSavepoint, request, returning: ActionBeginSavepointResult.self, options)
        return FlightSQLSavepoint(id: result.savepointID)
    }

    /// Releases a savepoint, keeping its work.
    public func release(_ savepoint: FlightSQLSavepoint, options: FlightCallOptions = FlightCallOptions()) async throws {
        var request = ActionEndSavepointRequest()
        request.savepointID = savepoint.id
        request.action = .release
        try await actionWithoutResult(FlightSQLAction.endSavepoint, request, options)
    }

    /// Rolls back to a savepoint, undoing the work done since it began, and ends it.
    public func rollback(to savepoint: FlightSQLSavepoint, options: FlightCallOptions = FlightCallOptions()) async throws {
        var request = ActionEndSavepointRequest()
        request.savepointID = savepoint.id
        request.action = .rollback
        try await actionWithoutResult(FlightSQLAction.endSavepoint, request, options)
    }

    /// Cancels a running query.
    public func cancel(_ info: FlightInfo, options: FlightCallOptions = FlightCallOptions()) async throws -> CancelStatus {
        try await flight.cancelFlightInfo(info, options: options)
    }

    // Internal: used by prepared statements.
    func preparedAction(_ type: String, _ request: some SwiftProtobuf.Message, options: FlightCallOptions) async throws {
        try await actionWithoutResult(type, request, options)
    }

    func preparedInfo(_ command: CommandPreparedStatementQuery, options: FlightCallOptions) async throws -> FlightInfo {
        try await info(command, options)
    }

    func bind(_ command: CommandPreparedStatementQuery, batches: [RecordBatch], schema: Schema, options: FlightCallOptions) async throws -> Data? {
        let call = try await flight.doPut(descriptor(command), options: options)
        try await call.writer.begin(schema)
        for batch in batches { try await call.writer.write(batch) }
        guard let result = try await call.finish().first, !result.appMetadata.isEmpty else { return nil }
        let decoded = try? DoPutPreparedStatementResult(serializedBytes: result.appMetadata)
        guard let decoded, decoded.hasPreparedStatementHandle else { return nil }
        return decoded.preparedStatementHandle
    }

    func preparedUpdate(_ command: CommandPreparedStatementUpdate, batches: [RecordBatch], schema: Schema, options: FlightCallOptions) async throws -> Int64 {
        try await put(descriptor(command), batches: batches, schema: schema, options: options)
    }
}

/// A statement prepared on the server. Bind parameters, execute as often as needed, then close.
public final class FlightSQLPreparedStatement: @unchecked Sendable {
    private let client: FlightSQLClient
    private let lock = NSLock()
    private var handle: Data
    private var parameters: (batches: [RecordBatch], schema: Schema)?
    /// The schema of the statement's result (empty for statements that change data).
    public let datasetSchema: Schema
    /// The schema of the parameters the statement takes.
    public let parameterSchema: Schema
    /// Whether the server says the statement changes data, when it says.
    public let isUpdate: Bool?

    init(client: FlightSQLClient, result: ActionCreatePreparedStatementResult) throws {
        self.client = client
        handle = result.preparedStatementHandle
        datasetSchema = try Schema(ipcEncoded: [UInt8](result.datasetSchema))
        parameterSchema = try Schema(ipcEncoded: [UInt8](result.parameterSchema))
        isUpdate = result.hasIsUpdate ? result.isUpdate : nil
    }

    private var currentHandle: Data { lock.withLock { handle } }

    /// Sets the parameter rows used by the next executions (one execution per row).
    public func bind(_ batches: [RecordBatch], schema: Schema) {
        lock.withLock { parameters = (batches, schema) }
    }

    /// Runs the query with the bound parameters.
    public func execute(options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        var command = CommandPreparedStatementQuery()
        command.preparedStatementHandle = currentHandle
        if let parameters = lock.withLock({ parameters }) {
            if let newHandle = try await client.bind(command, batches: parameters.batches, schema: parameters.schema, options: options) {
                lock.withLock { handle = newHandle }
                command.preparedStatementHandle = newHandle
            }
        }
        return try await client.preparedInfo(command, options: options)
    }

    /// Runs the update once per bound parameter row; returns the rows changed.
    public func executeUpdate(options: FlightCallOptions = FlightCallOptions()) async throws -> Int64 {
        var command = CommandPreparedStatementUpdate()
        command.preparedStatementHandle = currentHandle
        let bound = lock.withLock { parameters }
        return try await client.preparedUpdate(command, batches: bound?.batches ?? [], schema: bound?.schema ?? Schema([]), options: options)
    }

    /// Releases the statement on the server.
    public func close(options: FlightCallOptions = FlightCallOptions()) async throws {
        var request = ActionClosePreparedStatementRequest()
        request.preparedStatementHandle = currentHandle
        try await client.preparedAction(FlightSQLAction.closePreparedStatement, request, options: options)
    }
}
