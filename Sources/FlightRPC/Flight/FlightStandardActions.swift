import ArrowCore
import Foundation
import SwiftProtobuf

/// The result of cancelling a query (CancelFlightInfo).
public enum CancelStatus: Int, Sendable {
    case unspecified = 0
    case cancelled = 1
    case cancelling = 2
    case notCancellable = 3
}

/// A session option's value (SetSessionOptions, GetSessionOptions).
public enum SessionOptionValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case int64(Int64)
    case double(Double)
    case stringList([String])
    /// No value: setting it removes the option.
    case unset

    init(_ proto: Arrow_Flight_Protocol_SessionOptionValue) {
        switch proto.optionValue {
        case .stringValue(let v): self = .string(v)
        case .boolValue(let v): self = .bool(v)
        case .int64Value(let v): self = .int64(v)
        case .doubleValue(let v): self = .double(v)
        case .stringListValue(let v): self = .stringList(v.values)
        case nil: self = .unset
        }
    }

    var proto: Arrow_Flight_Protocol_SessionOptionValue {
        var out = Arrow_Flight_Protocol_SessionOptionValue()
        switch self {
        case .string(let v): out.stringValue = v
        case .bool(let v): out.boolValue = v
        case .int64(let v): out.int64Value = v
        case .double(let v): out.doubleValue = v
        case .stringList(let v): out.stringListValue.values = v
        case .unset: break
        }
        return out
    }
}

/// Why a session option was not set.
public enum SessionOptionError: Int, Sendable {
    case unspecified = 0
    case invalidName = 1
    case invalidValue = 2
    case error = 3
}

/// What closing a session did.
public enum CloseSessionStatus: Int, Sendable {
    case unspecified = 0
    case closed = 1
    case closing = 2
    case notCloseable = 3
}

/// The action types the Flight protocol defines, and the coding of their bodies and results,
/// for services (decode the request, encode the result) and clients (the reverse).
public enum FlightStandardAction {
    public static let cancelFlightInfo = "CancelFlightInfo"
    public static let renewFlightEndpoint = "RenewFlightEndpoint"
    public static let setSessionOptions = "SetSessionOptions"
    public static let getSessionOptions = "GetSessionOptions"
    public static let closeSession = "CloseSession"

    private static func decode<M: SwiftProtobuf.Message>(_ bytes: [UInt8], _ type: M.Type) throws(FlightError) -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw FlightError(.invalidArgument, "malformed \(M.protoMessageName)")
        }
    }

    private static func encode(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        (try? message.serializedBytes()) ?? []
    }

    /// The FlightInfo a CancelFlightInfo action names.
    public static func cancelFlightInfoRequest(_ action: Action) throws(FlightError) -> FlightInfo {
        try FlightInfo(try decode(action.body, Arrow_Flight_Protocol_CancelFlightInfoRequest.self).info)
    }

    /// The action that cancels `info`'s query.
    public static func cancelFlightInfoAction(_ info: FlightInfo) -> Action {
        var request = Arrow_Flight_Protocol_CancelFlightInfoRequest()
        request.info = info.proto
        return Action(type: cancelFlightInfo, body: encode(request))
    }

    /// The result body of a CancelFlightInfo action.
    public static func result(_ status: CancelStatus) -> FlightResult {
        var result = Arrow_Flight_Protocol_CancelFlightInfoResult()
        result.status = Arrow_Flight_Protocol_CancelStatus(rawValue: status.rawValue) ?? .unspecified
        return FlightResult(body: encode(result))
    }

    /// Decodes a CancelFlightInfo result.
    public static func cancelStatus(_ result: FlightResult) throws(FlightError) -> CancelStatus {
        CancelStatus(rawValue: try decode(result.body, Arrow_Flight_Protocol_CancelFlightInfoResult.self).status.rawValue) ?? .unspecified
    }

    /// The endpoint a RenewFlightEndpoint action names.
    public static func renewFlightEndpointRequest(_ action: Action) throws(FlightError) -> FlightEndpoint {
        FlightEndpoint(try decode(action.body, Arrow_Flight_Protocol_RenewFlightEndpointRequest.self).endpoint)
    }

    /// The action that asks for `endpoint` to be kept longer.
    public static func renewFlightEndpointAction(_ endpoint: FlightEndpoint) -> Action {
        var request = Arrow_Flight_Protocol_RenewFlightEndpointRequest()
        request.endpoint = endpoint.proto
        return Action(type: renewFlightEndpoint, body: encode(request))
    }

    /// The result body of a RenewFlightEndpoint action: the renewed endpoint.
    public static func result(_ endpoint: FlightEndpoint) -> FlightResult {
        FlightResult(body: encode(endpoint.proto))
    }

    /// Decodes a RenewFlightEndpoint result.
    public static func endpoint(_ result: FlightResult) throws(FlightError) -> FlightEndpoint {
        FlightEndpoint(try decode(result.body, Arrow_Flight_Protocol_FlightEndpoint.self))
    }

    /// The options a SetSessionOptions action sets.
    public static func setSessionOptionsRequest(_ action: Action) throws(FlightError) -> [String: SessionOptionValue] {
        try decode(action.body, Arrow_Flight_Protocol_SetSessionOptionsRequest.self).sessionOptions.mapValues(SessionOptionValue.init)
    }

    /// The action that sets session options.
    public static func setSessionOptionsAction(_ options: [String: SessionOptionValue]) -> Action {
        var request = Arrow_Flight_Protocol_SetSessionOptionsRequest()
        request.sessionOptions = options.mapValues(\.proto)
        return Action(type: setSessionOptions, body: encode(request))
    }

    /// The result body of SetSessionOptions: the options that were not set, and why.
    public static func result(_ errors: [String: SessionOptionError]) -> FlightResult {
        var result = Arrow_Flight_Protocol_SetSessionOptionsResult()
        result.errors = errors.mapValues { error in
            var e = Arrow_Flight_Protocol_SetSessionOptionsResult.Error()
            e.value = Arrow_Flight_Protocol_SetSessionOptionsResult.ErrorValue(rawValue: error.rawValue) ?? .unspecified
            return e
        }
        return FlightResult(body: encode(result))
    }

    /// Decodes a SetSessionOptions result.
    public static func sessionOptionErrors(_ result: FlightResult) throws(FlightError) -> [String: SessionOptionError] {
        try decode(result.body, Arrow_Flight_Protocol_SetSessionOptionsResult.self).errors.mapValues {
            SessionOptionError(rawValue: $0.value.rawValue) ?? .unspecified
        }
    }

    /// The action that reads the session's options.
    public static func getSessionOptionsAction() -> Action {
        Action(type: getSessionOptions, body: encode(Arrow_Flight_Protocol_GetSessionOptionsRequest()))
    }

    /// The result body of GetSessionOptions.
    public static func result(_ options: [String: SessionOptionValue]) -> FlightResult {
        var result = Arrow_Flight_Protocol_GetSessionOptionsResult()
        result.sessionOptions = options.mapValues(\.proto)
        return FlightResult(body: encode(result))
    }

    /// Decodes a GetSessionOptions result.
    public static func sessionOptions(_ result: FlightResult) throws(FlightError) -> [String: SessionOptionValue] {
        try decode(result.body, Arrow_Flight_Protocol_GetSessionOptionsResult.self).sessionOptions.mapValues(SessionOptionValue.init)
    }

    /// The action that closes the session.
    public static func closeSessionAction() -> Action {
        Action(type: closeSession, body: encode(Arrow_Flight_Protocol_CloseSessionRequest()))
    }

    /// The result body of CloseSession.
    public static func result(_ status: CloseSessionStatus) -> FlightResult {
        var result = Arrow_Flight_Protocol_CloseSessionResult()
        result.status = Arrow_Flight_Protocol_CloseSessionResult.Status(rawValue: status.rawValue) ?? .unspecified
        return FlightResult(body: encode(result))
    }

    /// Decodes a CloseSession result.
    public static func closeSessionStatus(_ result: FlightResult) throws(FlightError) -> CloseSessionStatus {
        CloseSessionStatus(rawValue: try decode(result.body, Arrow_Flight_Protocol_CloseSessionResult.self).status.rawValue) ?? .unspecified
    }
}

extension FlightClient {
    private func singleResult(_ action: Action, _ options: FlightCallOptions) async throws -> FlightResult {
        guard let result = try await doAction(action, options: options).first else {
            throw FlightError(.internal, "\(action.type) returned no result")
        }
        return result
    }

    /// Asks the service to cancel the query behind `info`.
    public func cancelFlightInfo(_ info: FlightInfo, options: FlightCallOptions = FlightCallOptions()) async throws -> CancelStatus {
        try FlightStandardAction.cancelStatus(try await singleResult(FlightStandardAction.cancelFlightInfoAction(info), options))
    }

    /// Asks the service to keep `endpoint` valid longer; returns it with its new expiration.
    public func renewFlightEndpoint(_ endpoint: FlightEndpoint, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightEndpoint {
        try FlightStandardAction.endpoint(try await singleResult(FlightStandardAction.renewFlightEndpointAction(endpoint), options))
    }

    /// Sets session options; returns those that were refused, with the reason.
    public func setSessionOptions(_ values: [String: SessionOptionValue], options: FlightCallOptions = FlightCallOptions()) async throws
        -> [String: SessionOptionError] {
        try FlightStandardAction.sessionOptionErrors(try await singleResult(FlightStandardAction.setSessionOptionsAction(values), options))
    }

    /// The session's options.
    public func getSessionOptions(options: FlightCallOptions = FlightCallOptions()) async throws -> [String: SessionOptionValue] {
        try FlightStandardAction.sessionOptions(try await singleResult(FlightStandardAction.getSessionOptionsAction(), options))
    }

    /// Closes the session.
    public func closeSession(options: FlightCallOptions = FlightCallOptions()) async throws -> CloseSessionStatus {
        try FlightStandardAction.closeSessionStatus(try await singleResult(FlightStandardAction.closeSessionAction(), options))
    }
}

extension FlightCallContext {
    /// The bytes of binary request header `name` (which must end in `-bin`; gRPC sends such
    /// values base64-encoded), or nil when absent or not valid base64.
    public func binaryHeader(_ name: String) -> [UInt8]? {
        guard let value = header(name) else { return nil }
        var padded = value
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map { [UInt8]($0) }
    }
}

extension FlightCallOptions {
    /// Adds a binary header; `name` must end in `-bin`. The value is sent base64-encoded.
    public mutating func addBinaryHeader(_ name: String, _ value: [UInt8]) {
        headers.append((name: name.lowercased(), value: Data(value).base64EncodedString()))
    }
}
