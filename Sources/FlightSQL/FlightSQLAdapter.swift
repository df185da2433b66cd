import ArrowCore
import FlightRPC
import SwiftProtobuf

/// Serves a ``FlightSQLService`` as a `FlightService`: decodes the `Any`-packed commands of
/// descriptors, tickets, DoPut streams and action bodies, routes them to the service, and
/// encodes its answers the way Flight SQL clients expect (action results packed in `Any`,
/// DoPut results serialised in `PutResult.app_metadata`).
///
/// Metadata commands get a `FlightInfo` with the specification's schema and one endpoint whose
/// ticket is the command itself; its DoGet asks the service for rows.
public struct FlightSQLAdapter<Service: FlightSQLService>: FlightService {
    /// The service requests are routed to.
    public let service: Service

    /// An adapter for `service`.
    public init(_ service: Service) { self.service = service }

    private static func name<M: SwiftProtobuf.Message>(_: M.Type) -> String { M.protoMessageName }

    private func command(of descriptor: FlightDescriptor) throws(FlightError) -> Google_Protobuf_Any {
        guard case .command(let bytes) = descriptor else {
            throw FlightError(.invalidArgument, "Flight SQL takes command descriptors, not paths")
        }
        return try FlightSQLAny.decode(bytes)
    }

    private func unknown(_ any: Google_Protobuf_Any, in rpc: String) -> FlightError {
        FlightError(.invalidArgument, "\(rpc) does not take '\(any.typeURL)'")
    }

    /// The fixed schema of a metadata command, or nil for another message.
    private func metadataSchema(_ any: Google_Protobuf_Any) throws(FlightError) -> Schema? {
        switch FlightSQLAny.messageName(any) {
        case Self.name(CommandGetCatalogs.self): return FlightSQLSchemas.catalogs
        case Self.name(CommandGetDbSchemas.self): return FlightSQLSchemas.dbSchemas
        case Self.name(CommandGetTables.self):
            let command: CommandGetTables = try FlightSQLAny.unpack(any)
            return command.includeSchema ? FlightSQLSchemas.tablesWithSchema : FlightSQLSchemas.tables
        case Self.name(CommandGetTableTypes.self): return FlightSQLSchemas.tableTypes
        case Self.name(CommandGetPrimaryKeys.self): return FlightSQLSchemas.primaryKeys
        case Self.name(CommandGetExportedKeys.self), Self.name(CommandGetImportedKeys.self),
             Self.name(CommandGetCrossReference.self): return FlightSQLSchemas.foreignKeys
        case Self.name(CommandGetXdbcTypeInfo.self): return FlightSQLSchemas.xdbcTypeInfo
        case Self.name(CommandGetSqlInfo.self): return FlightSQLSchemas.sqlInfo
        default: return nil
        }
    }

    // MARK: FlightService

    public func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws {
        try await service.handshake(requests, responses: responses, context: context)
    }

    public func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let any = try command(of: descriptor)
        switch FlightSQLAny.messageName(any) {
        case Self.name(CommandStatementQuery.self):
            return try await service.flightInfoStatement(FlightSQLAny.unpack(any), descriptor: descriptor, context: context)
        case Self.name(CommandStatementSubstraitPlan.self):
            return try await service.flightInfoSubstraitPlan(FlightSQLAny.unpack(any), descriptor: descriptor, context: context)
        case Self.name(CommandPreparedStatementQuery.self):
            return try await service.flightInfoPreparedStatement(FlightSQLAny.unpack(any), descriptor: descriptor, context: context)
        default:
            guard let schema = try metadataSchema(any), case .command(let bytes) = descriptor else {
                throw unknown(any, in: "GetFlightInfo")
            }
            return FlightInfo(schema: schema, descriptor: descriptor, endpoints: [FlightEndpoint(ticket: Ticket(bytes))])
        }
    }

    public func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        let any = try command(of: descriptor)
        switch FlightSQLAny.messageName(any) {
        case Self.name(CommandStatementQuery.self):
            return try await service.schemaStatement(FlightSQLAny.unpack(any), context: context)
        case Self.name(CommandStatementSubstraitPlan.self):
            return try await service.schemaSubstraitPlan(FlightSQLAny.unpack(any), context: context)
        case Self.name(CommandPreparedStatementQuery.self):
            return try await service.schemaPreparedStatement(FlightSQLAny.unpack(any), context: context)
        default:
            guard let schema = try metadataSchema(any) else { throw unknown(any, in: "GetSchema") }
            return schema
        }
    }

    public func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        let any = try FlightSQLAny.decode(ticket.bytes)
        let batch: RecordBatch
        switch FlightSQLAny.messageName(any) {
        case Self.name(TicketStatementQuery.self):
            return try await service.doGetStatement(FlightSQLAny.unpack(any), writer: writer, context: context)
        case Self.name(CommandPreparedStatementQuery.self):
            return try await service.doGetPreparedStatement(FlightSQLAny.unpack(any), writer: writer, context: context)
        case Self.name(CommandGetCatalogs.self):
            batch = try MetadataBatches.catalogs(await service.catalogs(context: context))
        case Self.name(CommandGetDbSchemas.self):
            batch = try MetadataBatches.dbSchemas(await service.dbSchemas(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetTables.self):
            let command: CommandGetTables = try FlightSQLAny.unpack(any)
            batch = try MetadataBatches.tables(await service.tables(command, context: context), includeSchema: command.includeSchema)
        case Self.name(CommandGetTableTypes.self):
            batch = try MetadataBatches.tableTypes(await service.tableTypes(context: context))
        case Self.name(CommandGetPrimaryKeys.self):
            batch = try MetadataBatches.primaryKeys(await service.primaryKeys(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetExportedKeys.self):
            batch = try MetadataBatches.foreignKeys(await service.exportedKeys(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetImportedKeys.self):
            batch = try MetadataBatches.foreignKeys(await service.importedKeys(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetCrossReference.self):
            batch = try MetadataBatches.foreignKeys(await service.crossReference(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetXdbcTypeInfo.self):
            batch = try MetadataBatches.xdbcTypeInfo(await service.xdbcTypeInfo(FlightSQLAny.unpack(any), context: context))
        case Self.name(CommandGetSqlInfo.self):
            let command: CommandGetSqlInfo = try FlightSQLAny.unpack(any)
            batch = try MetadataBatches.sqlInfo(await service.sqlInfo(context: context), requested: command.info)
        default:
            throw unknown(any, in: "DoGet")
        }
        try await writer.begin(batch.schema)
        try await writer.write(batch)
    }

    public func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        let schema = try await reader.schema()
        guard let descriptor = reader.descriptor else {
            guard schema != nil else {
                // What the ADBC Flight SQL driver (1.13) sends to ingest an empty table: no
                // message at all, so nothing names the table.
                throw FlightError(.invalidArgument,
                                  "the DoPut stream is empty: no descriptor and no schema arrived, so nothing names a command (to make an empty table, run CREATE TABLE)")
            }
            throw FlightError(.invalidArgument, "DoPut without a descriptor")
        }
        let any = try command(of: descriptor)
        switch FlightSQLAny.messageName(any) {
        case Self.name(CommandStatementUpdate.self):
            let count = try await service.doPutStatementUpdate(FlightSQLAny.unpack(any), context: context)
            try await results.send(Self.updateResult(count))
        case Self.name(CommandStatementSubstraitPlan.self):
            let count = try await service.doPutSubstraitPlanUpdate(FlightSQLAny.unpack(any), context: context)
            try await results.send(Self.updateResult(count))
        case Self.name(CommandPreparedStatementQuery.self):
            let result = try await service.doPutPreparedStatementQuery(FlightSQLAny.unpack(any), parameters: reader, context: context)
            try await results.send(PutResult(appMetadata: result.bytes))
        case Self.name(CommandPreparedStatementUpdate.self):
            let count = try await service.doPutPreparedStatementUpdate(FlightSQLAny.unpack(any), parameters: reader, context: context)
            try await results.send(Self.updateResult(count))
        case Self.name(CommandStatementIngest.self):
            let count = try await service.doPutStatementIngest(FlightSQLAny.unpack(any), data: reader, context: context)
            try await results.send(Self.updateResult(count))
        default:
            throw unknown(any, in: "DoPut")
        }
    }

    private static func updateResult(_ count: Int64) -> PutResult {
        var result = DoPutUpdateResult()
        result.recordCount = count
        return PutResult(appMetadata: result.bytes)
    }

    public func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        func request<M: SwiftProtobuf.Message>(_: M.Type) throws(FlightError) -> M {
            try FlightSQLAny.unpack(FlightSQLAny.decode(action.body), as: M.self)
        }
        func send(_ message: some SwiftProtobuf.Message) async throws {
            try await results.send(FlightResult(body: FlightSQLAny.pack(message)))
        }
        switch action.type {
        case FlightSQLAction.createPreparedStatement:
            try await send(service.createPreparedStatement(request(ActionCreatePreparedStatementRequest.self), context: context))
        case FlightSQLAction.createPreparedSubstraitPlan:
            try await send(service.createPreparedSubstraitPlan(request(ActionCreatePreparedSubstraitPlanRequest.self), context: context))
        case FlightSQLAction.closePreparedStatement:
            try await service.closePreparedStatement(request(ActionClosePreparedStatementRequest.self), context: context)
        case FlightSQLAction.beginTransaction:
            try await send(service.beginTransaction(request(ActionBeginTransactionRequest.self), context: context))
        case FlightSQLAction.endTransaction:
            try await service.endTransaction(request(ActionEndTransactionRequest.self), context: context)
        case FlightSQLAction.beginSavepoint:
            try await send(service.beginSavepoint(request(ActionBeginSavepointRequest.self), context: context))
        case FlightSQLAction.endSavepoint:
            try await service.endSavepoint(request(ActionEndSavepointRequest.self), context: context)
        case FlightSQLAction.cancelQuery:
            let info = try FlightInfo(serializedBytes: [UInt8](request(ActionCancelQueryRequest.self).info))
            let status = try await service.cancelFlightInfo(info, context: context)
            var result = ActionCancelQueryResult()
            result.result = ActionCancelQueryResult.CancelResult(rawValue: status.rawValue) ?? .unspecified
            try await send(result)
        case FlightStandardAction.cancelFlightInfo:
            let status = try await service.cancelFlightInfo(FlightStandardAction.cancelFlightInfoRequest(action), context: context)
            try await results.send(FlightStandardAction.result(status))
        case FlightStandardAction.renewFlightEndpoint:
            let endpoint = try await service.renewFlightEndpoint(FlightStandardAction.renewFlightEndpointRequest(action), context: context)
            try await results.send(FlightStandardAction.result(endpoint))
        case FlightStandardAction.setSessionOptions:
            let errors = try await service.setSessionOptions(FlightStandardAction.setSessionOptionsRequest(action), context: context)
            try await results.send(FlightStandardAction.result(errors))
        case FlightStandardAction.getSessionOptions:
            try await results.send(FlightStandardAction.result(service.getSessionOptions(context: context)))
        case FlightStandardAction.closeSession:
            try await results.send(FlightStandardAction.result(service.closeSession(context: context)))
        default:
            throw FlightError(.invalidArgument, "unknown action type '\(action.type)'")
        }
    }

    public func listActions(context: FlightCallContext) async throws -> [ActionType] {
        [
            ActionType(type: FlightSQLAction.createPreparedStatement, description: "Prepare a SQL statement"),
            ActionType(type: FlightSQLAction.createPreparedSubstraitPlan, description: "Prepare a Substrait plan"),
            ActionType(type: FlightSQLAction.closePreparedStatement, description: "Release a prepared statement"),
            ActionType(type: FlightSQLAction.beginTransaction, description: "Begin a transaction"),
            ActionType(type: FlightSQLAction.endTransaction, description: "Commit or roll back a transaction"),
            ActionType(type: FlightSQLAction.beginSavepoint, description: "Begin a savepoint"),
            ActionType(type: FlightSQLAction.endSavepoint, description: "Release or roll back to a savepoint"),
            ActionType(type: FlightSQLAction.cancelQuery, description: "Cancel a query (deprecated: use CancelFlightInfo)"),
            ActionType(type: FlightStandardAction.cancelFlightInfo, description: "Cancel a query"),
            ActionType(type: FlightStandardAction.renewFlightEndpoint, description: "Extend an endpoint's expiration"),
            ActionType(type: FlightStandardAction.setSessionOptions, description: "Set session options"),
            ActionType(type: FlightStandardAction.getSessionOptions, description: "Get session options"),
            ActionType(type: FlightStandardAction.closeSession, description: "Close the session"),
        ]
    }
}
