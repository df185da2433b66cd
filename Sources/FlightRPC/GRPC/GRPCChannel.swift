import ArrowCore
import Foundation
import SwiftProtobuf
import Synchronization

/// A client connection to any gRPC service whose messages are protobuf: the call layer under
/// `FlightClient`, offered to the other targets of this package (the Spark Connect client) so
/// that a second service rides the same transport.
///
/// Calls may run concurrently from many tasks; they share one HTTP/2 connection. Failures are
/// `FlightError`s carrying the gRPC status; the server's `grpc-status-details-bin` trailer,
/// when sent, is in ``FlightError/statusDetails``.
package final class GRPCChannel: Sendable {
    /// The connection new calls open on, a reconnection under way, and whether `close()` ran.
    private struct State {
        var connection: GRPCClientConnection
        var reconnecting: Task<GRPCClientConnection, any Error>?
        var closed = false
    }

    private let state: Mutex<State>
    private let connect: @Sendable () async throws -> GRPCClientConnection
    /// The location this channel is connected to.
    package let location: Location

    /// Connects to `location` (`grpc://`, `grpc+tcp://`, `grpc+tls://` or `grpc+unix://`) with the
    /// TLS and HTTP/2 settings of `options`. `messageLayout` places the bodies of received
    /// messages (Flight aligns Arrow bodies); nil keeps each message as it came.
    init(location: Location, options: FlightClientOptions, messageLayout: MessageLayout?) async throws {
        let (address, useTLS, host) = try location.parse()
        var tls: TLSContext?
        if useTLS {
            tls = try TLSContext.client(trustedCA: options.trustedCertificates,
                                        certificateChain: options.clientCertificate?.certificateChain,
                                        privateKey: options.clientCertificate?.privateKey,
                                        verify: !options.disableServerVerification)
        }
        guard let group = EventLoopGroup.shared else { throw FlightError(.internal, "cannot start I/O threads") }
        var settings = HTTP2Settings()
        settings.maximumReceiveMessageSize = options.maximumReceiveMessageSize
        settings.messageLayout = messageLayout
        settings.streamWindow = Int32(clamping: options.streamWindow)
        settings.connectionWindow = Int32(clamping: options.connectionWindow)
        settings.connectTimeout = options.connectTimeout
        let serverName = options.serverNameOverride ?? host, context = tls, http2 = settings
        connect = {
            do {
                return try await GRPCClientConnection.connect(address, tls: context, serverName: serverName, group: group, settings: http2)
            } catch let error as TransportError {
                throw FlightError(.unavailable, "cannot connect to \(location): \(error)")
            }
        }
        state = Mutex(State(connection: try await connect()))
        self.location = location
    }

    /// Connects to `location` for a protobuf service other than Flight.
    package convenience init(location: Location, options: FlightClientOptions = FlightClientOptions()) async throws {
        try await self.init(location: location, options: options, messageLayout: nil)
    }

    /// Closes the connection; calls in flight end with UNAVAILABLE, and later calls fail.
    package func close() {
        let connection = state.withLock { state -> GRPCClientConnection in
            state.closed = true
            state.reconnecting?.cancel()
            return state.connection
        }
        connection.close()
    }

    /// Opens a call of `path` (`/package.Service/Method`). When the connection has gone away
    /// before the call could start (the server sent GOAWAY, closed an idle connection, or the
    /// connection was reset), the channel connects again, once, and opens the call there:
    /// nothing of the call was sent, so nothing runs twice.
    func open(_ path: String, metadata: [(name: String, value: String)], timeout: Duration?) async throws -> GRPCClientCall {
        let pairs = metadata.map { ($0.name, $0.value) }
        let (current, closed) = state.withLock { ($0.connection, $0.closed) }
        guard !closed else { throw FlightError(.unavailable, "the client was closed") }
        do {
            return try await current.openCall(path: path, metadata: pairs, timeout: timeout)
        } catch let error as FlightError where error.code == .unavailable {
            let fresh = try await reconnect(replacing: current, after: error)
            return try await fresh.openCall(path: path, metadata: pairs, timeout: timeout)
        }
    }

    /// A new connection in place of `stale`; concurrent callers share one attempt.
    private func reconnect(replacing stale: GRPCClientConnection, after error: FlightError) async throws -> GRPCClientConnection {
        let connect = connect
        let attempt = try state.withLock { state throws(FlightError) -> Task<GRPCClientConnection, any Error>? in
            guard !state.closed else { throw error }
            if state.connection !== stale { return nil }
            if let running = state.reconnecting { return running }
            let task = Task { try await connect() }
            state.reconnecting = task
            return task
        }
        guard let attempt else { return state.withLock { $0.connection } }
        do {
            let fresh = try await attempt.value
            let superseded = state.withLock { state -> Bool in
                if state.reconnecting == attempt { state.reconnecting = nil }
                guard !state.closed else { return true }
                if state.connection === stale { state.connection = fresh }
                return false
            }
            if superseded {
                fresh.close()
                throw error
            }
            return state.withLock { $0.connection }
        } catch {
            state.withLock { state in if state.reconnecting == attempt { state.reconnecting = nil } }
            throw error
        }
    }

    /// Sends one request message.
    func send<M: SwiftProtobuf.Message>(_ call: GRPCClientCall, _ message: M) async throws {
        let bytes: [UInt8] = try message.serializedBytes()
        try await call.send([Buffer(copying: bytes)])
    }

    /// Throws the call's status if it is not OK.
    func check(_ call: GRPCClientCall) async throws {
        let status = await call.status.wait()
        if status.code != .ok { throw status }
    }

    /// Decodes one response message; a malformed one cancels the call.
    static func decode<M: SwiftProtobuf.Message>(_ message: Buffer, as type: M.Type, of call: GRPCClientCall) throws -> M {
        do {
            return try M(serializedBytes: [UInt8](message.bytes))
        } catch {
            call.cancel()
            throw FlightError(.internal, "malformed \(M.protoMessageName) response")
        }
    }

    /// When reading a call's messages failed because the call ended, the call's status says
    /// why (a cancellation or a reset carries the server's status in its trailers).
    static func statusOrError(_ call: GRPCClientCall, _ error: any Error) async -> any Error {
        if let flight = error as? FlightError, flight.code == .cancelled || flight.code == .unavailable {
            let status = await call.status.wait()
            if status.code != .ok { return status }
        }
        return error
    }

    /// Decodes every response message of a finished-sending call, then checks the status.
    func responses<M: SwiftProtobuf.Message>(_ call: GRPCClientCall, _ type: M.Type) async throws -> [M] {
        var out: [M] = []
        do {
            for try await message in call.messages { out.append(try Self.decode(message, as: M.self, of: call)) }
        } catch {
            throw await Self.statusOrError(call, error)
        }
        try await check(call)
        return out
    }

    /// A unary call: one request, one response.
    package func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, _ request: Request, as response: Response.Type,
        metadata: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) async throws -> Response {
        let call = try await open(path, metadata: metadata, timeout: timeout)
        try await send(call, request)
        call.closeSend()
        let all = try await responses(call, response)
        guard let first = all.first else { throw FlightError(.internal, "\(path) returned no message") }
        return first
    }

    /// A server-streaming call: one request, the responses as they arrive.
    package func serverStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, _ request: Request, as response: Response.Type,
        metadata: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) async throws -> GRPCResponseStream<Response> {
        let call = try await open(path, metadata: metadata, timeout: timeout)
        try await send(call, request)
        call.closeSend()
        return GRPCResponseStream(call: call)
    }
}

/// The responses of a server-streaming call, decoded, as they arrive. The sequence ends when
/// the call ends with OK and throws the call's status otherwise; reading slowly slows the
/// server (flow control). Iterate it once.
package struct GRPCResponseStream<Message: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    package typealias Element = Message
    let call: GRPCClientCall

    /// Cancels the call (RST_STREAM CANCEL); the server sees its call cancelled.
    package func cancel() {
        call.cancel()
    }

    /// The response headers, once they have arrived (empty for a trailers-only response).
    package var headers: [(name: String, value: String)] {
        get async { await call.headers.wait() }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: GRPCInbound.AsyncIterator
        let call: GRPCClientCall
        var done = false

        package mutating func next() async throws -> Message? {
            guard !done else { return nil }
            let message: Buffer?
            do {
                message = try await base.next()
            } catch {
                done = true
                throw await GRPCChannel.statusOrError(call, error)
            }
            guard let message else {
                done = true
                let status = await call.status.wait()
                if status.code != .ok { throw status }
                return nil
            }
            return try GRPCChannel.decode(message, as: Message.self, of: call)
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: call.messages.makeAsyncIterator(), call: call)
    }
}
