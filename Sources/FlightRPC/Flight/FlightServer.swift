import ArrowCore
import Foundation
import SwiftProtobuf

/// Options of a Flight server.
public struct FlightServerOptions: Sendable {
    /// TLS: PEM certificate chain and key; with `clientCA`, clients must present a certificate.
    public var tls: (certificateChain: String, privateKey: String, clientCA: String?)?
    /// Basic-to-Bearer authentication; nil serves everyone.
    public var authenticator: BasicAuthenticator?
    /// The largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maximumReceiveMessageSize: Int
    /// How response batches are split and compressed.
    public var write: FlightWriteOptions
    /// I/O threads.
    public var threads: Int
    /// Code run around every call, in order (and in reverse order when calls end).
    public var middleware: [any FlightServerMiddleware]
    /// The receive window of each stream, in bytes (how much a client may send ahead).
    public var streamWindow: Int
    /// The receive window of each connection, in bytes.
    public var connectionWindow: Int
    /// How long a new connection has to finish its TLS handshake and send the HTTP/2 preface
    /// before it is closed, so that clients that connect and stall cannot hold sockets.
    public var handshakeTimeout: Duration
    /// How long a client connection may go without a call before the server closes it (with
    /// GOAWAY first, so that clients connect again for their next call, as ours and gRPC's
    /// do); nil keeps idle connections open. Server state kept per connection (sessions,
    /// transactions) ends with it.
    public var idleTimeout: Duration?

    /// Creates options.
    public init(tls: (certificateChain: String, privateKey: String, clientCA: String?)? = nil, authenticator: BasicAuthenticator? = nil,
                maximumReceiveMessageSize: Int = 64 << 20, write: FlightWriteOptions = FlightWriteOptions(), threads: Int = 2,
                middleware: [any FlightServerMiddleware] = [], streamWindow: Int = 8 << 20, connectionWindow: Int = 64 << 20,
                handshakeTimeout: Duration = .seconds(10), idleTimeout: Duration? = .seconds(900)) {
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.tls = tls
        self.authenticator = authenticator
        self.maximumReceiveMessageSize = maximumReceiveMessageSize
        self.write = write
        self.threads = threads
        self.middleware = middleware
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
    }
}

/// Code that runs around every call a `FlightServer` serves: logging, metrics, custom checks.
public protocol FlightServerMiddleware: Sendable {
    /// Runs before the service method, after authentication. Throw (a `FlightError`) to refuse
    /// the call; `context.addResponseHeader` adds response metadata.
    func callStarted(method: String, context: FlightCallContext) async throws
    /// Runs when the call has ended, with its status (code `.ok` for success).
    func callEnded(method: String, context: FlightCallContext, status: FlightError) async
}

extension FlightServerMiddleware {
    public func callStarted(method: String, context: FlightCallContext) async throws {}
    public func callEnded(method: String, context: FlightCallContext, status: FlightError) async {}
}

/// Serves a `FlightService` over gRPC: plaintext or TLS TCP, or a Unix domain socket.
public final class FlightServer: Sendable {
    private let core: GRPCServerCore
    private let group: EventLoopGroup
    /// The bound TCP port (useful with port 0), or 0 for a Unix socket.
    public let port: Int
    /// The location clients connect to.
    public let location: Location

    /// Starts serving `service` at `requested` (`grpc://host:port`, `grpc+tls://host:port`,
    /// `grpc+unix:///path`; port 0 picks a free port).
    public init(service: some FlightService, location requested: Location, options: FlightServerOptions = FlightServerOptions()) throws {
        let (address, useTLS, host) = try requested.parse()
        var tlsContext: TLSContext?
        if useTLS {
            guard let tls = options.tls else { throw FlightError(.invalidArgument, "a grpc+tls location needs TLS options") }
            tlsContext = try TLSContext.server(certificateChain: tls.certificateChain, privateKey: tls.privateKey, clientCA: tls.clientCA)
        }
        var settings = HTTP2Settings()
        settings.maximumReceiveMessageSize = options.maximumReceiveMessageSize
        settings.messageLayout = FlightDataMessage.bodyOffset
        settings.streamWindow = Int32(clamping: options.streamWindow)
        settings.connectionWindow = Int32(clamping: options.connectionWindow)
        settings.handshakeTimeout = options.handshakeTimeout
        settings.idleTimeout = options.idleTimeout
        group = try EventLoopGroup(threads: options.threads, name: "flight-server")
        let dispatcher = FlightDispatcher(service: service, options: options)
        core = try GRPCServerCore(address: address, group: group, tls: tlsContext, settings: settings) { call in
            await dispatcher.handle(call)
        }
        port = core.port
        switch address {
        case .tcp: location = Location(uri: "\(useTLS ? "grpc+tls" : "grpc")://\(host.contains(":") ? "[\(host)]" : host):\(core.port)")
        case .unix: location = requested
        }
    }

    /// Stops accepting calls, lets running calls finish for up to `grace`, then closes.
    public func shutdown(grace: Duration = .seconds(5)) async {
        await core.shutdown(grace: grace)
        group.shutdown()
    }
}

/// Routes calls to the service's methods and applies authentication.
struct FlightDispatcher: Sendable {
    let service: any FlightService
    let options: FlightServerOptions
    static let prefix = "/arrow.flight.protocol.FlightService/"

    func handle(_ call: GRPCServerCall) async {
        guard call.path.hasPrefix(Self.prefix) else {
            call.finish(FlightError(.unimplemented, "unknown service method \(call.path)"))
            return
        }
        let method = String(call.path.dropFirst(Self.prefix.count))
        var identity: String?
        if let authenticator = options.authenticator, method != "Handshake" {
            let header = call.metadata.first { $0.name == "authorization" }?.value ?? ""
            guard header.hasPrefix("Bearer "), let user = authenticator.validate(token: String(header.dropFirst(7))) else {
                call.finish(FlightError(.unauthenticated, header.isEmpty ? "no bearer token: authenticate with Handshake first" : "invalid or expired bearer token"))
                return
            }
            identity = user
        }
        let context = FlightCallContext(peer: call.peer, headers: call.metadata, deadline: call.deadline, identity: identity, call: call)
        var started: [any FlightServerMiddleware] = []
        var status = FlightError(.ok, "")
        do {
            for middleware in options.middleware {
                try await middleware.callStarted(method: method, context: context)
                started.append(middleware)
            }
            try await run(method, call, context)
        } catch {
            status = FlightError.from(error)
        }
        for middleware in started.reversed() { await middleware.callEnded(method: method, context: context, status: status) }
        call.finish(status.code == .ok ? nil : status)
    }

    private func single<M: SwiftProtobuf.Message>(_ call: GRPCServerCall, _ type: M.Type) async throws -> M {
        var iterator = call.requests.makeAsyncIterator()
        guard let message = try await iterator.next() else { throw FlightError(.invalidArgument, "the request has no message") }
        do {
            return try M(serializedBytes: [UInt8](message.bytes))
        } catch {
            throw FlightError(.invalidArgument, "malformed \(M.protoMessageName) request")
        }
    }

    private func reply<M: SwiftProtobuf.Message>(_ call: GRPCServerCall, _ message: M) async throws {
        let bytes: [UInt8] = try message.serializedBytes()
        try await call.send([Buffer(copying: bytes)])
    }

    private func run(_ method: String, _ call: GRPCServerCall, _ context: FlightCallContext) async throws {
        let service = self.service
        switch method {
        case "Handshake":
            if let authenticator = options.authenticator {
                try await basicHandshake(call, authenticator)
            } else {
                let responses = FlightResponseWriter<[UInt8]> { payload in
                    var response = Arrow_Flight_Protocol_HandshakeResponse()
                    response.payload = Data(payload)
                    try await reply(call, response)
                }
                try await service.handshake(FlightPayloadStream(messages: call.requests), responses: responses, context: context)
            }
        case "ListFlights":
            let criteria = try await single(call, Arrow_Flight_Protocol_Criteria.self)
            let responses = FlightResponseWriter<FlightInfo> { info in try await reply(call, info.proto) }
            try await service.listFlights(criteria: [UInt8](criteria.expression), responses: responses, context: context)
        case "GetFlightInfo":
            let descriptor = try await single(call, Arrow_Flight_Protocol_FlightDescriptor.self)
            try await reply(call, try await service.getFlightInfo(FlightDescriptor(descriptor), context: context).proto)
        case "PollFlightInfo":
            let descriptor = try await single(call, Arrow_Flight_Protocol_FlightDescriptor.self)
            try await reply(call, try await service.pollFlightInfo(FlightDescriptor(descriptor), context: context).proto)
        case "GetSchema":
            let descriptor = try await single(call, Arrow_Flight_Protocol_FlightDescriptor.self)
            let schema = try await service.getSchema(FlightDescriptor(descriptor), context: context)
            var result = Arrow_Flight_Protocol_SchemaResult()
            result.schema = Data(encodeSchema(schema))
            try await reply(call, result)
        case "DoGet":
            let ticket = try await single(call, Arrow_Flight_Protocol_Ticket.self)
            let writer = FlightRecordBatchWriter(options: options.write) { parts in try await call.send(parts) }
            try await service.doGet(Ticket([UInt8](ticket.ticket)), writer: writer, context: context)
        case "DoPut":
            let reader = FlightRecordBatchReader(call.requests)
            let results = FlightResponseWriter<PutResult> { result in
                var proto = Arrow_Flight_Protocol_PutResult()
                proto.appMetadata = Data(result.appMetadata)
                try await reply(call, proto)
            }
            try await service.doPut(reader, results: results, context: context)
        case "DoExchange":
            let reader = FlightRecordBatchReader(call.requests)
            let writer = FlightRecordBatchWriter(options: options.write) { parts in try await call.send(parts) }
            try await service.doExchange(reader, writer: writer, context: context)
        case "DoAction":
            let action = try await single(call, Arrow_Flight_Protocol_Action.self)
            let results = FlightResponseWriter<FlightResult> { result in
                var proto = Arrow_Flight_Protocol_Result()
                proto.body = Data(result.body)
                try await reply(call, proto)
            }
            try await service.doAction(Action(type: action.type, body: [UInt8](action.body)), results: results, context: context)
        case "ListActions":
            _ = try await single(call, Arrow_Flight_Protocol_Empty.self)
            for type in try await service.listActions(context: context) {
                var proto = Arrow_Flight_Protocol_ActionType()
                proto.type = type.type
                proto.description_p = type.description
                try await reply(call, proto)
            }
        default:
            throw FlightError(.unimplemented, "unknown Flight method \(method)")
        }
    }

    /// Basic credentials in the `authorization` header of the Handshake call (with zero or one
    /// request messages, as the C++, Java and Go clients send them) buy a Bearer token, returned
    /// in the `authorization` response header.
    private func basicHandshake(_ call: GRPCServerCall, _ authenticator: BasicAuthenticator) async throws {
        let header = call.metadata.first { $0.name == "authorization" }?.value ?? ""
        var credentials: (String, String)?
        // The Go client (ADBC) leaves out the base64 padding.
        var encoded = String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)
        while encoded.count % 4 != 0 { encoded += "=" }
        if header.hasPrefix("Basic "), let decoded = Data(base64Encoded: encoded) {
            let text = String(decoding: decoded, as: UTF8.self)
            if let colon = text.firstIndex(of: ":") {
                credentials = (String(text[..<colon]), String(text[text.index(after: colon)...]))
            }
        }
        for try await message in call.requests {
            // A one-message handshake may carry BasicAuth in the payload instead of the header.
            if credentials == nil, let request = try? Arrow_Flight_Protocol_HandshakeRequest(serializedBytes: [UInt8](message.bytes)),
               let basic = try? Arrow_Flight_Protocol_BasicAuth(serializedBytes: [UInt8](request.payload)), !basic.username.isEmpty {
                credentials = (basic.username, basic.password)
            }
        }
        guard let (user, password) = credentials else {
            throw FlightError(.unauthenticated, "Handshake needs Basic credentials in the authorization header")
        }
        guard await authenticator.check(user, password) else {
            throw FlightError(.unauthenticated, "invalid username or password")
        }
        let token = authenticator.issueToken(for: user)
        call.addResponseHeaders([("authorization", "Bearer \(token)")])
        var response = Arrow_Flight_Protocol_HandshakeResponse()
        response.payload = Data(token.utf8)
        try await reply(call, response)
    }
}
