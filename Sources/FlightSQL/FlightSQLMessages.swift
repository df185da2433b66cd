import FlightRPC
import Foundation
import SwiftProtobuf

// Short names for the Flight SQL messages (generated from Protos/FlightSql.proto).

/// A SQL query to run (GetFlightInfo, GetSchema).
public typealias CommandStatementQuery = Arrow_Flight_Protocol_Sql_CommandStatementQuery
/// A Substrait plan to run (GetFlightInfo, GetSchema).
public typealias CommandStatementSubstraitPlan = Arrow_Flight_Protocol_Sql_CommandStatementSubstraitPlan
/// A Substrait plan and its version.
public typealias SubstraitPlan = Arrow_Flight_Protocol_Sql_SubstraitPlan
/// The ticket of a statement query's result.
public typealias TicketStatementQuery = Arrow_Flight_Protocol_Sql_TicketStatementQuery
/// A prepared statement to run, or whose parameters DoPut binds.
public typealias CommandPreparedStatementQuery = Arrow_Flight_Protocol_Sql_CommandPreparedStatementQuery
/// A SQL update (DoPut); answered with a row count.
public typealias CommandStatementUpdate = Arrow_Flight_Protocol_Sql_CommandStatementUpdate
/// A prepared update (DoPut with parameter rows); answered with a row count.
public typealias CommandPreparedStatementUpdate = Arrow_Flight_Protocol_Sql_CommandPreparedStatementUpdate
/// Bulk ingest of an Arrow stream into a table (DoPut).
public typealias CommandStatementIngest = Arrow_Flight_Protocol_Sql_CommandStatementIngest
/// The server's information (GetSqlInfo).
public typealias CommandGetSqlInfo = Arrow_Flight_Protocol_Sql_CommandGetSqlInfo
/// The type information in XDBC terms.
public typealias CommandGetXdbcTypeInfo = Arrow_Flight_Protocol_Sql_CommandGetXdbcTypeInfo
/// The catalogs.
public typealias CommandGetCatalogs = Arrow_Flight_Protocol_Sql_CommandGetCatalogs
/// The database schemas, filtered.
public typealias CommandGetDbSchemas = Arrow_Flight_Protocol_Sql_CommandGetDbSchemas
/// The tables, filtered, optionally with their schemas.
public typealias CommandGetTables = Arrow_Flight_Protocol_Sql_CommandGetTables
/// The table types.
public typealias CommandGetTableTypes = Arrow_Flight_Protocol_Sql_CommandGetTableTypes
/// A table's primary key columns.
public typealias CommandGetPrimaryKeys = Arrow_Flight_Protocol_Sql_CommandGetPrimaryKeys
/// The foreign keys that refer to a table's primary key.
public typealias CommandGetExportedKeys = Arrow_Flight_Protocol_Sql_CommandGetExportedKeys
/// A table's foreign keys.
public typealias CommandGetImportedKeys = Arrow_Flight_Protocol_Sql_CommandGetImportedKeys
/// The foreign keys of one table that refer to another's primary key.
public typealias CommandGetCrossReference = Arrow_Flight_Protocol_Sql_CommandGetCrossReference
/// Creates a prepared statement from SQL.
public typealias ActionCreatePreparedStatementRequest = Arrow_Flight_Protocol_Sql_ActionCreatePreparedStatementRequest
/// Creates a prepared statement from a Substrait plan.
public typealias ActionCreatePreparedSubstraitPlanRequest = Arrow_Flight_Protocol_Sql_ActionCreatePreparedSubstraitPlanRequest
/// A prepared statement's handle and schemas.
public typealias ActionCreatePreparedStatementResult = Arrow_Flight_Protocol_Sql_ActionCreatePreparedStatementResult
/// Closes a prepared statement.
public typealias ActionClosePreparedStatementRequest = Arrow_Flight_Protocol_Sql_ActionClosePreparedStatementRequest
/// Begins a transaction.
public typealias ActionBeginTransactionRequest = Arrow_Flight_Protocol_Sql_ActionBeginTransactionRequest
/// A new transaction's id.
public typealias ActionBeginTransactionResult = Arrow_Flight_Protocol_Sql_ActionBeginTransactionResult
/// Commits or rolls back a transaction.
public typealias ActionEndTransactionRequest = Arrow_Flight_Protocol_Sql_ActionEndTransactionRequest
/// Begins a savepoint in a transaction.
public typealias ActionBeginSavepointRequest = Arrow_Flight_Protocol_Sql_ActionBeginSavepointRequest
/// A new savepoint's id.
public typealias ActionBeginSavepointResult = Arrow_Flight_Protocol_Sql_ActionBeginSavepointResult
/// Releases or rolls back to a savepoint.
public typealias ActionEndSavepointRequest = Arrow_Flight_Protocol_Sql_ActionEndSavepointRequest
/// The deprecated cancel request (superseded by CancelFlightInfo).
public typealias ActionCancelQueryRequest = Arrow_Flight_Protocol_Sql_ActionCancelQueryRequest
/// The deprecated cancel result.
public typealias ActionCancelQueryResult = Arrow_Flight_Protocol_Sql_ActionCancelQueryResult
/// An update's row count, the PutResult of update and ingest DoPuts.
public typealias DoPutUpdateResult = Arrow_Flight_Protocol_Sql_DoPutUpdateResult
/// The PutResult of binding parameters: optionally a new prepared statement handle.
public typealias DoPutPreparedStatementResult = Arrow_Flight_Protocol_Sql_DoPutPreparedStatementResult
/// The identifiers of the GetSqlInfo items.
public typealias SqlInfo = Arrow_Flight_Protocol_Sql_SqlInfo
/// Foreign key update and delete rules.
public typealias UpdateDeleteRules = Arrow_Flight_Protocol_Sql_UpdateDeleteRules
/// XDBC (JDBC/ODBC) data type codes.
public typealias XdbcDataType = Arrow_Flight_Protocol_Sql_XdbcDataType

/// The action types of Flight SQL.
public enum FlightSQLAction {
    /// Body `ActionCreatePreparedStatementRequest`; result `ActionCreatePreparedStatementResult`.
    public static let createPreparedStatement = "CreatePreparedStatement"
    /// Body `ActionCreatePreparedSubstraitPlanRequest`; result `ActionCreatePreparedStatementResult`.
    public static let createPreparedSubstraitPlan = "CreatePreparedSubstraitPlan"
    /// Body `ActionClosePreparedStatementRequest`; no result.
    public static let closePreparedStatement = "ClosePreparedStatement"
    /// Body `ActionBeginTransactionRequest`; result `ActionBeginTransactionResult`.
    public static let beginTransaction = "BeginTransaction"
    /// Body `ActionEndTransactionRequest`; no result.
    public static let endTransaction = "EndTransaction"
    /// Body `ActionBeginSavepointRequest`; result `ActionBeginSavepointResult`.
    public static let beginSavepoint = "BeginSavepoint"
    /// Body `ActionEndSavepointRequest`; no result.
    public static let endSavepoint = "EndSavepoint"
    /// Deprecated by the standard `CancelFlightInfo` action.
    public static let cancelQuery = "CancelQuery"
}

/// Packing and unpacking Flight SQL messages in `google.protobuf.Any`, as they travel.
public enum FlightSQLAny {
    /// `message` packed in an `Any` and serialised.
    public static func pack(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        do {
            let any = try Google_Protobuf_Any(message: message)
            return try any.serializedBytes()
        } catch {
            // Packing a generated message into Any cannot fail: it has no required fields.
            return []
        }
    }

    /// Decodes serialised `Any` bytes; throws `FlightError(.invalidArgument)` for malformed bytes.
    public static func decode(_ bytes: [UInt8]) throws(FlightError) -> Google_Protobuf_Any {
        do {
            return try Google_Protobuf_Any(serializedBytes: bytes)
        } catch {
            throw FlightError(.invalidArgument, "malformed Flight SQL command: not a google.protobuf.Any")
        }
    }

    /// The message in `any` as `M`; throws `FlightError(.invalidArgument)` when it is another
    /// message or malformed.
    public static func unpack<M: SwiftProtobuf.Message>(_ any: Google_Protobuf_Any, as type: M.Type = M.self) throws(FlightError) -> M {
        do {
            return try M(unpackingAny: any)
        } catch {
            throw FlightError(.invalidArgument, "malformed \(M.protoMessageName)")
        }
    }

    /// The message name an `Any`'s type URL names (the part after the last `/`).
    public static func messageName(_ any: Google_Protobuf_Any) -> String {
        guard let slash = any.typeURL.lastIndex(of: "/") else { return any.typeURL }
        return String(any.typeURL[any.typeURL.index(after: slash)...])
    }
}

extension SwiftProtobuf.Message {
    /// The message serialised (not packed in `Any`): the body of action results.
    var bytes: [UInt8] {
        (try? serializedBytes()) ?? []
    }
}
