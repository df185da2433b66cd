import ArrowCore
import FlightRPC

/// A Flight SQL server: one async method per command and action. Every method has a default
/// that answers UNIMPLEMENTED, so a server overrides only what it supports.
///
/// ``FlightSQLAdapter`` turns a service into a `FlightService`: it decodes the `Any`-packed
/// commands, routes them here, and encodes the results. Metadata commands (catalogs, tables,
/// keys, type info, SQL info) return plain Swift rows; the adapter builds their batches under
/// the specification's exact schemas (``FlightSQLSchemas``), so a service cannot get those
/// wrong. Throw `FlightError` to choose the status a client sees.
public protocol FlightSQLService: Sendable {
    // MARK: Queries (GetFlightInfo, GetSchema, DoGet)

    /// Plans a SQL query; the endpoints' tickets come back to ``doGetStatement(_:writer:context:)``.
    func flightInfoStatement(_ command: CommandStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo
    /// Plans a Substrait plan.
    func flightInfoSubstraitPlan(_ command: CommandStatementSubstraitPlan, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo
    /// Plans a prepared statement with its bound parameters.
    func flightInfoPreparedStatement(_ command: CommandPreparedStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo
    /// The schema a SQL query would return, without running it.
    func schemaStatement(_ command: CommandStatementQuery, context: FlightCallContext) async throws -> Schema
    /// The schema a Substrait plan would return.
    func schemaSubstraitPlan(_ command: CommandStatementSubstraitPlan, context: FlightCallContext) async throws -> Schema
    /// The schema a prepared statement returns.
    func schemaPreparedStatement(_ command: CommandPreparedStatementQuery, context: FlightCallContext) async throws -> Schema
    /// Streams one endpoint of a statement's result.
    func doGetStatement(_ ticket: TicketStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws
    /// Streams a prepared statement's result, for tickets that carry the command itself.
    func doGetPreparedStatement(_ command: CommandPreparedStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws

    // MARK: Metadata (rows; the adapter builds the batches)

    /// The catalogs, in order.
    func catalogs(context: FlightCallContext) async throws -> [String]
    /// The database schemas matching the command's filter.
    func dbSchemas(_ command: CommandGetDbSchemas, context: FlightCallContext) async throws -> [DbSchemaRow]
    /// The tables matching the command's filters; each with its schema when `include_schema` is set.
    func tables(_ command: CommandGetTables, context: FlightCallContext) async throws -> [TableRow]
    /// The table types.
    func tableTypes(context: FlightCallContext) async throws -> [String]
    /// A table's primary key columns.
    func primaryKeys(_ command: CommandGetPrimaryKeys, context: FlightCallContext) async throws -> [PrimaryKeyRow]
    /// The foreign keys referring to a table.
    func exportedKeys(_ command: CommandGetExportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow]
    /// A table's foreign keys.
    func importedKeys(_ command: CommandGetImportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow]
    /// The foreign keys of the command's foreign table referring to its primary table.
    func crossReference(_ command: CommandGetCrossReference, context: FlightCallContext) async throws -> [ForeignKeyRow]
    /// The data types, all or only the command's `data_type`.
    func xdbcTypeInfo(_ command: CommandGetXdbcTypeInfo, context: FlightCallContext) async throws -> [XdbcTypeInfoRow]
    /// Every SqlInfo value the server knows; the adapter answers the ids a client asks for.
    func sqlInfo(context: FlightCallContext) async throws -> [UInt32: SqlInfoValue]

    // MARK: Updates and ingest (DoPut)

    /// Runs a SQL update; returns the number of rows changed (-1 if unknown).
    func doPutStatementUpdate(_ command: CommandStatementUpdate, context: FlightCallContext) async throws -> Int64
    /// Runs a Substrait plan that changes data; returns the number of rows changed.
    func doPutSubstraitPlanUpdate(_ command: CommandStatementSubstraitPlan, context: FlightCallContext) async throws -> Int64
    /// Binds the uploaded parameter rows to a prepared query. May return a new handle for the
    /// client to use from then on.
    func doPutPreparedStatementQuery(_ command: CommandPreparedStatementQuery, parameters: FlightRecordBatchReader,
                                     context: FlightCallContext) async throws -> DoPutPreparedStatementResult
    /// Runs a prepared update once per uploaded parameter row (once if none); returns rows changed.
    func doPutPreparedStatementUpdate(_ command: CommandPreparedStatementUpdate, parameters: FlightRecordBatchReader,
                                      context: FlightCallContext) async throws -> Int64
    /// Writes the uploaded batches to a table; returns the rows written.
    func doPutStatementIngest(_ command: CommandStatementIngest, data: FlightRecordBatchReader, context: FlightCallContext) async throws -> Int64

    // MARK: Actions

    /// Prepares a SQL statement.
    func createPreparedStatement(_ request: ActionCreatePreparedStatementRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult
    /// Prepares a Substrait plan.
    func createPreparedSubstraitPlan(_ request: ActionCreatePreparedSubstraitPlanRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult
    /// Releases a prepared statement.
    func closePreparedStatement(_ request: ActionClosePreparedStatementRequest, context: FlightCallContext) async throws
    /// Begins a transaction.
    func beginTransaction(_ request: ActionBeginTransactionRequest, context: FlightCallContext) async throws -> ActionBeginTransactionResult
    /// Commits or rolls back a transaction.
    func endTransaction(_ request: ActionEndTransactionRequest, context: FlightCallContext) async throws
    /// Begins a savepoint.
    func beginSavepoint(_ request: ActionBeginSavepointRequest, context: FlightCallContext) async throws -> ActionBeginSavepointResult
    /// Releases or rolls back to a savepoint.
    func endSavepoint(_ request: ActionEndSavepointRequest, context: FlightCallContext) async throws
    /// Cancels a running query (the standard CancelFlightInfo action; the deprecated
    /// CancelQuery action arrives here too).
    func cancelFlightInfo(_ info: FlightInfo, context: FlightCallContext) async throws -> CancelStatus
    /// Extends an endpoint's expiration.
    func renewFlightEndpoint(_ endpoint: FlightEndpoint, context: FlightCallContext) async throws -> FlightEndpoint
    /// Sets session options; returns the ones that failed.
    func setSessionOptions(_ options: [String: SessionOptionValue], context: FlightCallContext) async throws -> [String: SessionOptionError]
    /// The session's options.
    func getSessionOptions(context: FlightCallContext) async throws -> [String: SessionOptionValue]
    /// Ends the session.
    func closeSession(context: FlightCallContext) async throws -> CloseSessionStatus

    /// Handshake, for authentication other than the server's Basic authenticator.
    func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws
}

private func unimplemented(_ what: String) -> FlightError {
    FlightError(.unimplemented, "\(what) is not implemented by this server")
}

extension FlightSQLService {
    public func flightInfoStatement(_ command: CommandStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        throw unimplemented("CommandStatementQuery")
    }
    public func flightInfoSubstraitPlan(_ command: CommandStatementSubstraitPlan, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        throw unimplemented("CommandStatementSubstraitPlan")
    }
    public func flightInfoPreparedStatement(_ command: CommandPreparedStatementQuery, descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        throw unimplemented("CommandPreparedStatementQuery")
    }
    public func schemaStatement(_ command: CommandStatementQuery, context: FlightCallContext) async throws -> Schema {
        throw unimplemented("GetSchema of CommandStatementQuery")
    }
    public func schemaSubstraitPlan(_ command: CommandStatementSubstraitPlan, context: FlightCallContext) async throws -> Schema {
        throw unimplemented("GetSchema of CommandStatementSubstraitPlan")
    }
    public func schemaPreparedStatement(_ command: CommandPreparedStatementQuery, context: FlightCallContext) async throws -> Schema {
        throw unimplemented("GetSchema of CommandPreparedStatementQuery")
    }
    public func doGetStatement(_ ticket: TicketStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        throw unimplemented("DoGet of TicketStatementQuery")
    }
    public func doGetPreparedStatement(_ command: CommandPreparedStatementQuery, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        throw unimplemented("DoGet of CommandPreparedStatementQuery")
    }
    public func catalogs(context: FlightCallContext) async throws -> [String] { throw unimplemented("CommandGetCatalogs") }
    public func dbSchemas(_ command: CommandGetDbSchemas, context: FlightCallContext) async throws -> [DbSchemaRow] {
        throw unimplemented("CommandGetDbSchemas")
    }
    public func tables(_ command: CommandGetTables, context: FlightCallContext) async throws -> [TableRow] {
        throw unimplemented("CommandGetTables")
    }
    public func tableTypes(context: FlightCallContext) async throws -> [String] { throw unimplemented("CommandGetTableTypes") }
    public func primaryKeys(_ command: CommandGetPrimaryKeys, context: FlightCallContext) async throws -> [PrimaryKeyRow] {
        throw unimplemented("CommandGetPrimaryKeys")
    }
    public func exportedKeys(_ command: CommandGetExportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        throw unimplemented("CommandGetExportedKeys")
    }
    public func importedKeys(_ command: CommandGetImportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        throw unimplemented("CommandGetImportedKeys")
    }
    public func crossReference(_ command: CommandGetCrossReference, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        throw unimplemented("CommandGetCrossReference")
    }
    public func xdbcTypeInfo(_ command: CommandGetXdbcTypeInfo, context: FlightCallContext) async throws -> [XdbcTypeInfoRow] {
        throw unimplemented("CommandGetXdbcTypeInfo")
    }
    public func sqlInfo(context: FlightCallContext) async throws -> [UInt32: SqlInfoValue] { throw unimplemented("CommandGetSqlInfo") }
    public func doPutStatementUpdate(_ command: CommandStatementUpdate, context: FlightCallContext) async throws -> Int64 {
        throw unimplemented("CommandStatementUpdate")
    }
    public func doPutSubstraitPlanUpdate(_ command: CommandStatementSubstraitPlan, context: FlightCallContext) async throws -> Int64 {
        throw unimplemented("DoPut of CommandStatementSubstraitPlan")
    }
    public func doPutPreparedStatementQuery(_ command: CommandPreparedStatementQuery, parameters: FlightRecordBatchReader,
                                            context: FlightCallContext) async throws -> DoPutPreparedStatementResult {
        throw unimplemented("DoPut of CommandPreparedStatementQuery")
    }
    public func doPutPreparedStatementUpdate(_ command: CommandPreparedStatementUpdate, parameters: FlightRecordBatchReader,
                                             context: FlightCallContext) async throws -> Int64 {
        throw unimplemented("CommandPreparedStatementUpdate")
    }
    public func doPutStatementIngest(_ command: CommandStatementIngest, data: FlightRecordBatchReader, context: FlightCallContext) async throws -> Int64 {
        throw unimplemented("CommandStatementIngest")
    }
    public func createPreparedStatement(_ request: ActionCreatePreparedStatementRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult {
        throw unimplemented("CreatePreparedStatement")
    }
    public func createPreparedSubstraitPlan(_ request: ActionCreatePreparedSubstraitPlanRequest, context: FlightCallContext) async throws -> ActionCreatePreparedStatementResult {
        throw unimplemented("CreatePreparedSubstraitPlan")
    }
    public func closePreparedStatement(_ request: ActionClosePreparedStatementRequest, context: FlightCallContext) async throws {
        throw unimplemented("ClosePreparedStatement")
    }
    public func beginTransaction(_ request: ActionBeginTransactionRequest, context: FlightCallContext) async throws -> ActionBeginTransactionResult {
        throw unimplemented("BeginTransaction")
    }
    public func endTransaction(_ request: ActionEndTransactionRequest, context: FlightCallContext) async throws {
        throw unimplemented("EndTransaction")
    }
    public func beginSavepoint(_ request: ActionBeginSavepointRequest, context: FlightCallContext) async throws -> ActionBeginSavepointResult {
        throw unimplemented("BeginSavepoint")
    }
    public func endSavepoint(_ request: ActionEndSavepointRequest, context: FlightCallContext) async throws {
        throw unimplemented("EndSavepoint")
    }
    public func cancelFlightInfo(_ info: FlightInfo, context: FlightCallContext) async throws -> CancelStatus {
        throw unimplemented("CancelFlightInfo")
    }
    public func renewFlightEndpoint(_ endpoint: FlightEndpoint, context: FlightCallContext) async throws -> FlightEndpoint {
        throw unimplemented("RenewFlightEndpoint")
    }
    public func setSessionOptions(_ options: [String: SessionOptionValue], context: FlightCallContext) async throws -> [String: SessionOptionError] {
        throw unimplemented("SetSessionOptions")
    }
    public func getSessionOptions(context: FlightCallContext) async throws -> [String: SessionOptionValue] {
        throw unimplemented("GetSessionOptions")
    }
    public func closeSession(context: FlightCallContext) async throws -> CloseSessionStatus {
        throw unimplemented("CloseSession")
    }
    public func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws {
        throw unimplemented("Handshake")
    }
}
