import ArrowCore
import Foundation
import SwiftProtobuf
import Synchronization

/// Per-call options.
public struct FlightCallOptions: Sendable {
    /// Extra request headers (lower-case names; `-bin` names carry base64 values).
    public var headers: [(name: String, value: String)]
    /// The call's deadline, sent as `grpc-timeout` and enforced by the client.
    public var timeout: Duration?

    /// Creates options.
    public init(headers: [(name: String, value: String)] = [], timeout: Duration? = nil) {
        self.headers = headers
        self.timeout = timeout
    }
}

/// Options of a Flight client connection.
public struct FlightClientOptions: Sendable {
    /// A PEM file of CA certificates to trust for `grpc+tls` (nil: the system store).
    public var trustedCertificates: String?
    /// A client certificate and key (PEM) for mutual TLS.
    public var clientCertificate: (certificateChain: String, privateKey: String)?
    /// Skips server certificate verification (tests only).
    public var disableServerVerification: Bool
    /// The TLS server name to verify, when it differs from the location's host.
    public var serverNameOverride: String?
    /// The largest response message accepted.
    public var maximumReceiveMessageSize: Int
    /// How uploaded batches are split and compressed.
    public var write: FlightWriteOptions
    /// How long to wait for the TCP connection.
    public var connectTimeout: Duration
    /// The receive window of each call, in bytes (how much a server may send ahead).
    public var streamWindow: Int
    /// The receive window of the connection, in bytes.
    public var connectionWindow: Int

    /// Creates options.
    public init(trustedCertificates: String? = nil, clientCertificate: (certificateChain: String, privateKey: String)? = nil,
                disableServerVerification: Bool = false, serverNameOverride: String? = nil,
                maximumReceiveMessageSize: Int = 64 << 20, write: FlightWriteOptions = FlightWriteOptions(),
                streamWindow: Int = 8 << 20, connectionWindow: Int = 64 << 20, connectTimeout: Duration = .seconds(20)) {
        self.trustedCertificates = trustedCertificates
        self.clientCertificate = clientCertificate
        self.disableServerVerification = disableServerVerification
        self.serverNameOverride = serverNameOverride
        self.maximumReceiveMessageSize = maximumReceiveMessageSize
        self.write = write
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
        self.connectTimeout = connectTimeout
    }
}

/// A DoGet (or DoExchange response) stream: the schema, then record batches. Reading stops
/// with the server's error status if the call failed.
public typealias FlightStream = FlightRecordBatchReader

/// A client of one Flight service. Calls may run concurrently from many tasks; they share
/// one HTTP/2 connection.
public final class FlightClient: Sendable {
    private let channel: GRPCChannel
    private let options: FlightClientOptions
    /// The location this client is connected to.
    public var location: Location { channel.location }
    private let bearer = BearerToken()

    private final class BearerToken: @unchecked Sendable {
        private let lock = NSLock()
        private var value: String?
        func get() -> String? { lock.withLock { value } }
        func set(_ token: String?) { lock.withLock { value = token } }
    }

    /// Connects to `location`.
    public init(location: Location, options: FlightClientOptions = FlightClientOptions()) async throws {
        channel = try await GRPCChannel(location: location, options: options, messageLayout: FlightDataMessage.bodyOffset)
        self.options = options
    }

    /// The Bearer token of the last successful `authenticateBasicToken`, sent with every call;
    /// other servers of the same cluster accept it too.
    public var bearerToken: String? { bearer.get() }

    /// Closes the connection.
    public func close() {
        channel.close()
    }

    // MARK: - Calls

    private func open(_ method: String, _ callOptions: FlightCallOptions) async throws -> GRPCClientCall {
        var headers = callOptions.headers
        if let token = bearer.get(), !headers.contains(where: { $0.name == "authorization" }) {
            headers.append((name: "authorization", value: "Bearer \(token)"))
        }
        return try await channel.open(FlightDispatcher.prefix + method, metadata: headers, timeout: callOptions.timeout)
    }

    private func send<M: SwiftProtobuf.Message>(_ call: GRPCClientCall, _ message: M) async throws {
        try await channel.send(call, message)
    }

    /// Throws the call's status if it is not OK.
    private func check(_ call: GRPCClientCall) async throws {
        try await channel.check(call)
    }

    /// Decodes every response message of a finished-sending call, then checks the status.
    private func responses<M: SwiftProtobuf.Message>(_ call: GRPCClientCall, _ type: M.Type) async throws -> [M] {
        try await channel.responses(call, type)
    }

    private func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, _ response: Response.Type, _ options: FlightCallOptions
    ) async throws -> Response {
        let call = try await open(method, options)
        try await send(call, request)
        call.closeSend()
        let all = try await responses(call, response)
        guard let first = all.first else { throw FlightError(.internal, "\(method) returned no message") }
        return first
    }

    /// Basic authentication: a Handshake carrying the credentials; the Bearer token the server
    /// returns is sent with every later call of this client. Returns the token.
    @discardableResult
    public func authenticateBasicToken(username: String, password: String, options: FlightCallOptions = FlightCallOptions()) async throws -> String {
        var callOptions = options
        let basic = Data("\(username):\(password)".utf8).base64EncodedString()
        callOptions.headers.append((name: "authorization", value: "Basic \(basic)"))
        let call = try await open("Handshake", callOptions)
        call.closeSend()
        _ = try await responses(call, Arrow_Flight_Protocol_HandshakeResponse.self)
        let headers = await call.headers.wait()
        guard let value = headers.first(where: { $0.name == "authorization" })?.value, value.hasPrefix("Bearer ") else {
            throw FlightError(.unauthenticated, "the server returned no bearer token")
        }
        let token = String(value.dropFirst(7))
        bearer.set(token)
        return token
    }

    /// A raw Handshake: sends `payloads`, returns the server's payloads.
    public func handshake(_ payloads: [[UInt8]], options: FlightCallOptions = FlightCallOptions()) async throws -> [[UInt8]] {
        let call = try await open("Handshake", options)
        for payload in payloads {
            var request = Arrow_Flight_Protocol_HandshakeRequest()
            request.payload = Data(payload)
            try await send(call, request)
        }
        call.closeSend()
        return try await responses(call, Arrow_Flight_Protocol_HandshakeResponse.self).map { [UInt8]($0.payload) }
    }

    /// The flights the service lists for `criteria`.
    public func listFlights(criteria: [UInt8] = [], options: FlightCallOptions = FlightCallOptions()) async throws -> [FlightInfo] {
        let call = try await open("ListFlights", options)
        var request = Arrow_Flight_Protocol_Criteria()
        request.expression = Data(criteria)
        try await send(call, request)
        call.closeSend()
        var infos: [FlightInfo] = []
        for proto in try await responses(call, Arrow_Flight_Protocol_FlightInfo.self) { infos.append(try FlightInfo(proto)) }
        return infos
    }

    /// How to get the data `descriptor` names.
    public func getFlightInfo(_ descriptor: FlightDescriptor, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightInfo {
        try FlightInfo(try await unary("GetFlightInfo", descriptor.proto, Arrow_Flight_Protocol_FlightInfo.self, options))
    }

    /// The state of a long-running query.
    public func pollFlightInfo(_ descriptor: FlightDescriptor, options: FlightCallOptions = FlightCallOptions()) async throws -> PollInfo {
        try PollInfo(try await unary("PollFlightInfo", descriptor.proto, Arrow_Flight_Protocol_PollInfo.self, options))
    }

    /// The schema of the data `descriptor` names.
    public func getSchema(_ descriptor: FlightDescriptor, options: FlightCallOptions = FlightCallOptions()) async throws -> Schema {
        let result = try await unary("GetSchema", descriptor.proto, Arrow_Flight_Protocol_SchemaResult.self, options)
        return try decodeSchema([UInt8](result.schema))
    }

    /// The batches `ticket` names, as they arrive.
    public func doGet(_ ticket: Ticket, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightStream {
        let call = try await open("DoGet", options)
        var request = Arrow_Flight_Protocol_Ticket()
        request.ticket = Data(ticket.bytes)
        try await send(call, request)
        call.closeSend()
        return FlightRecordBatchReader(call.messages, onEnd: { [self] in try await check(call) }, onCancel: { call.cancel() })
    }

    /// Uploads batches: returns a writer (call `finish()` when done) and the server's results.
    public func doPut(_ descriptor: FlightDescriptor, options: FlightCallOptions = FlightCallOptions()) async throws -> FlightPutCall {
        let call = try await open("DoPut", options)
        return FlightPutCall(call: call, writer: FlightRecordBatchWriter(options: self.options.write, descriptor: descriptor) { parts in
            try await call.send(parts)
        }, client: self)
    }

    /// Batches both ways: a writer for requests and a reader for responses.
    public func doExchange(_ descriptor: FlightDescriptor, options: FlightCallOptions = FlightCallOptions()) async throws
        -> (writer: FlightRecordBatchWriter, reader: FlightStream, finish: @Sendable () -> Void) {
        let call = try await open("DoExchange", options)
        let writer = FlightRecordBatchWriter(options: self.options.write, descriptor: descriptor) { parts in try await call.send(parts) }
        let reader = FlightRecordBatchReader(call.messages, onEnd: { [self] in try await check(call) }, onCancel: { call.cancel() })
        return (writer, reader, { call.closeSend() })
    }

    /// Runs an action and returns its results.
    public func doAction(_ action: Action, options: FlightCallOptions = FlightCallOptions()) async throws -> [FlightResult] {
        let call = try await open("DoAction", options)
        var request = Arrow_Flight_Protocol_Action()
        request.type = action.type
        request.body = Data(action.body)
        try await send(call, request)
        call.closeSend()
        return try await responses(call, Arrow_Flight_Protocol_Result.self).map { FlightResult(body: [UInt8]($0.body)) }
    }

    /// The actions the service offers.
    public func listActions(options: FlightCallOptions = FlightCallOptions()) async throws -> [ActionType] {
        let call = try await open("ListActions", options)
        try await send(call, Arrow_Flight_Protocol_Empty())
        call.closeSend()
        return try await responses(call, Arrow_Flight_Protocol_ActionType.self).map { ActionType(type: $0.type, description: $0.description_p) }
    }

    fileprivate func putResults(_ call: GRPCClientCall) async throws -> [PutResult] {
        try await responses(call, Arrow_Flight_Protocol_PutResult.self).map { PutResult(appMetadata: [UInt8]($0.appMetadata)) }
    }
}

/// An upload in progress (DoPut). Dropping every copy without `finish()` cancels the upload,
/// so an abandoned call does not hold its stream until the connection closes.
public struct FlightPutCall: Sendable {
    let call: GRPCClientCall
    /// Writes the batches; the descriptor goes with the first message.
    public let writer: FlightRecordBatchWriter
    let client: FlightClient
    private let guardian: CancelOnDrop

    init(call: GRPCClientCall, writer: FlightRecordBatchWriter, client: FlightClient) {
        self.call = call
        self.writer = writer
        self.client = client
        guardian = CancelOnDrop(call)
    }

    /// Ends the upload and returns the server's results once the call has finished.
    public func finish() async throws -> [PutResult] {
        guardian.disarm()
        call.closeSend()
        return try await client.putResults(call)
    }

    /// Abandons the upload (RST_STREAM).
    public func cancel() {
        guardian.disarm()
        call.cancel()
    }
}

/// Cancels a call when the last copy of its owner goes away, unless disarmed.
final class CancelOnDrop: Sendable {
    private let call: GRPCClientCall
    private let armed = Atomic<Bool>(true)

    init(_ call: GRPCClientCall) { self.call = call }

    func disarm() { armed.store(false, ordering: .relaxed) }

    deinit {
        if armed.load(ordering: .relaxed) { call.cancel() }
    }
}
