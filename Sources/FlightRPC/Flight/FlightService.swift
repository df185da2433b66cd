import ArrowCore
import Synchronization

/// What a service method knows about the call it serves.
public struct FlightCallContext: Sendable {
    /// The client's address (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `unix:`).
    public let peer: String
    /// Request metadata, lower-case names, reserved gRPC headers removed.
    public let headers: [(name: String, value: String)]
    /// When the client's deadline expires, if it set one.
    public let deadline: ContinuousClock.Instant?
    /// Who the client authenticated as, when the server has an authenticator.
    public let identity: String?
    let call: GRPCServerCall

    /// The client's HTTP/2 connection: the same for every call it carries, unique in the
    /// process. Unlike `peer`, it tells apart clients behind one address (Unix sockets, proxies).
    public var connectionID: UInt64 { call.connection.id }

    /// Runs `handler` once the client's connection is gone (soon, if it already is): for what a
    /// service keeps per connection, such as a session. The handler must not block.
    public func whenConnectionCloses(_ handler: @escaping @Sendable () -> Void) {
        call.connection.whenClosed(handler)
    }

    /// The first value of request header `name` (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// Adds response metadata, sent before the first response message (or with the status).
    public func addResponseHeader(_ name: String, _ value: String) {
        call.addResponseHeaders([(name.lowercased(), value)])
    }
}

/// Sends the messages of a server-streaming response.
public struct FlightResponseWriter<Value: Sendable>: Sendable {
    let sendValue: @Sendable (Value) async throws -> Void

    /// Sends one value; suspends while the client is slow.
    public func send(_ value: Value) async throws { try await sendValue(value) }
}

/// An Arrow Flight service: one async method per RPC. Every method has a default that
/// answers UNIMPLEMENTED, so a service overrides only what it supports.
///
/// Throw `FlightError` to choose the status a client sees; any other error becomes UNKNOWN.
/// Methods run as tasks; a cancelled call (client reset, deadline) cancels the task.
public protocol FlightService: Sendable {
    /// Handshake: exchange of opaque payloads, for custom authentication.
    func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws
    /// The flights available under `criteria`.
    func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws
    /// How to get the data a descriptor names.
    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo
    /// The state of a long-running query.
    func pollFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> PollInfo
    /// The schema of the data a descriptor names.
    func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema
    /// The batches a ticket names.
    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws
    /// Batches uploaded by the client (`reader.descriptor` says where to).
    func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws
    /// Batches both ways.
    func doExchange(_ reader: FlightRecordBatchReader, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws
    /// Runs an action.
    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws
    /// The actions this service offers.
    func listActions(context: FlightCallContext) async throws -> [ActionType]
}

extension FlightService {
    public func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "Handshake is not implemented")
    }
    public func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "ListFlights is not implemented")
    }
    public func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        throw FlightError(.unimplemented, "GetFlightInfo is not implemented")
    }
    public func pollFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> PollInfo {
        throw FlightError(.unimplemented, "PollFlightInfo is not implemented")
    }
    public func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        throw FlightError(.unimplemented, "GetSchema is not implemented")
    }
    public func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "DoGet is not implemented")
    }
    public func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "DoPut is not implemented")
    }
    public func doExchange(_ reader: FlightRecordBatchReader, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "DoExchange is not implemented")
    }
    public func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        throw FlightError(.unimplemented, "DoAction is not implemented")
    }
    public func listActions(context: FlightCallContext) async throws -> [ActionType] {
        throw FlightError(.unimplemented, "ListActions is not implemented")
    }
}

/// The payloads of a Handshake's request messages, in order.
public struct FlightPayloadStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let messages: GRPCInbound

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: GRPCInbound.AsyncIterator
        public mutating func next() async throws -> [UInt8]? {
            guard let message = try await base.next() else { return nil }
            do {
                let request = try Arrow_Flight_Protocol_HandshakeRequest(serializedBytes: [UInt8](message.bytes))
                return [UInt8](request.payload)
            } catch {
                throw FlightError(.invalidArgument, "malformed HandshakeRequest")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: messages.makeAsyncIterator()) }
}
