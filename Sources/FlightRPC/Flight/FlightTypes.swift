import ArrowCore
import Foundation
import SwiftProtobuf

/// What a client asks a Flight service for: a path or an opaque command.
public enum FlightDescriptor: Sendable, Hashable {
    /// A path of names, like a file path.
    case path([String])
    /// An opaque command the service understands (for Flight SQL, a packed protobuf `Any`).
    case command([UInt8])

    init(_ proto: Arrow_Flight_Protocol_FlightDescriptor) {
        switch proto.type {
        case .cmd: self = .command([UInt8](proto.cmd))
        default: self = .path(proto.path)
        }
    }

    var proto: Arrow_Flight_Protocol_FlightDescriptor {
        var out = Arrow_Flight_Protocol_FlightDescriptor()
        switch self {
        case .path(let path):
            out.type = .path
            out.path = path
        case .command(let command):
            out.type = .cmd
            out.cmd = Data(command)
        }
        return out
    }
}

/// An opaque key that a DoGet redeems for a stream of record batches.
public struct Ticket: Sendable, Hashable {
    /// The bytes the service understands.
    public var bytes: [UInt8]
    /// Creates a ticket.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// A ticket holding UTF-8 text.
    public init(_ text: String) { bytes = Array(text.utf8) }
}

/// Where a Flight service can be reached: `grpc://host:port`, `grpc+tls://host:port`,
/// `grpc+unix:///path`, or `arrow-flight-reuse-connection://?` (the connection the
/// FlightInfo came on).
public struct Location: Sendable, Hashable, CustomStringConvertible {
    /// The URI.
    public var uri: String
    /// Creates a location from a URI.
    public init(uri: String) { self.uri = uri }
    /// Plaintext gRPC over TCP.
    public static func grpc(host: String, port: Int) -> Location { Location(uri: "grpc://\(hostForURI(host)):\(port)") }
    /// gRPC over TLS.
    public static func grpcTLS(host: String, port: Int) -> Location { Location(uri: "grpc+tls://\(hostForURI(host)):\(port)") }
    /// gRPC over a Unix domain socket.
    public static func grpcUnix(path: String) -> Location { Location(uri: "grpc+unix://\(path)") }
    /// "Use the connection this FlightInfo came on."
    public static let reuseConnection = Location(uri: "arrow-flight-reuse-connection://?")

    public var description: String { uri }

    private static func hostForURI(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The transport address and whether TLS is used.
    func parse() throws(FlightError) -> (address: SocketAddress, tls: Bool, host: String) {
        func split(_ rest: Substring) throws(FlightError) -> (String, Int) {
            var hostPort = rest
            if let slash = hostPort.firstIndex(of: "/") { hostPort = hostPort[..<slash] }
            let host: Substring, port: Substring
            if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
                host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
                port = hostPort[close...].dropFirst(2)
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = hostPort[..<colon]
                port = hostPort[hostPort.index(after: colon)...]
            } else {
                throw FlightError(.invalidArgument, "location \(uri) has no port")
            }
            guard let number = Int(port), number >= 0, number < 65536 else { throw FlightError(.invalidArgument, "location \(uri) has a bad port") }
            return (String(host), number)
        }
        if uri.hasPrefix("grpc+unix://") {
            return (.unix(path: String(uri.dropFirst("grpc+unix://".count))), false, "localhost")
        }
        if uri.hasPrefix("grpc+tls://") {
            let (host, port) = try split(uri.dropFirst("grpc+tls://".count))
            return (.tcp(host: host, port: port), true, host)
        }
        for prefix in ["grpc+tcp://", "grpc://"] where uri.hasPrefix(prefix) {
            let (host, port) = try split(uri.dropFirst(prefix.count))
            return (.tcp(host: host, port: port), false, host)
        }
        throw FlightError(.invalidArgument, "unsupported location \(uri)")
    }
}

/// One place (or several equivalent places) to fetch part of a result.
public struct FlightEndpoint: Sendable, Hashable {
    /// The ticket to redeem with DoGet.
    public var ticket: Ticket
    /// Where to redeem it; empty means "the service that returned this endpoint".
    public var locations: [Location]
    /// When the ticket stops working, if it does.
    public var expirationTime: Date?
    /// Application metadata.
    public var appMetadata: [UInt8]

    /// Creates an endpoint.
    public init(ticket: Ticket, locations: [Location] = [], expirationTime: Date? = nil, appMetadata: [UInt8] = []) {
        self.ticket = ticket
        self.locations = locations
        self.expirationTime = expirationTime
        self.appMetadata = appMetadata
    }

    init(_ proto: Arrow_Flight_Protocol_FlightEndpoint) {
        ticket = Ticket([UInt8](proto.ticket.ticket))
        locations = proto.location.map { Location(uri: $0.uri) }
        expirationTime = proto.hasExpirationTime ? proto.expirationTime.date : nil
        appMetadata = [UInt8](proto.appMetadata)
    }

    var proto: Arrow_Flight_Protocol_FlightEndpoint {
        var out = Arrow_Flight_Protocol_FlightEndpoint()
        out.ticket.ticket = Data(ticket.bytes)
        out.location = locations.map { location in
            var l = Arrow_Flight_Protocol_Location()
            l.uri = location.uri
            return l
        }
        if let expirationTime { out.expirationTime = Google_Protobuf_Timestamp(date: expirationTime) }
        out.appMetadata = Data(appMetadata)
        return out
    }
}

/// How to get a result: its schema, and the endpoints that together hold its batches.
public struct FlightInfo: Sendable {
    /// The schema of every endpoint's stream.
    public var schema: Schema
    /// The descriptor this info answers.
    public var descriptor: FlightDescriptor
    /// The endpoints; read all of them (in order when `ordered`).
    public var endpoints: [FlightEndpoint]
    /// The number of records, or -1 when unknown.
    public var totalRecords: Int64
    /// The number of bytes, or -1 when unknown.
    public var totalBytes: Int64
    /// Whether the endpoints' order is the data's order.
    public var ordered: Bool
    /// Application metadata.
    public var appMetadata: [UInt8]

    /// Creates a FlightInfo.
    public init(schema: Schema, descriptor: FlightDescriptor, endpoints: [FlightEndpoint], totalRecords: Int64 = -1,
                totalBytes: Int64 = -1, ordered: Bool = false, appMetadata: [UInt8] = []) {
        self.schema = schema
        self.descriptor = descriptor
        self.endpoints = endpoints
        self.totalRecords = totalRecords
        self.totalBytes = totalBytes
        self.ordered = ordered
        self.appMetadata = appMetadata
    }

    init(_ proto: Arrow_Flight_Protocol_FlightInfo) throws(FlightError) {
        schema = try decodeSchema([UInt8](proto.schema))
        descriptor = FlightDescriptor(proto.flightDescriptor)
        endpoints = proto.endpoint.map(FlightEndpoint.init)
        totalRecords = proto.totalRecords
        totalBytes = proto.totalBytes
        ordered = proto.ordered
        appMetadata = [UInt8](proto.appMetadata)
    }

    var proto: Arrow_Flight_Protocol_FlightInfo {
        var out = Arrow_Flight_Protocol_FlightInfo()
        out.schema = Data(encodeSchema(schema))
        out.flightDescriptor = descriptor.proto
        out.endpoint = endpoints.map(\.proto)
        out.totalRecords = totalRecords
        out.totalBytes = totalBytes
        out.ordered = ordered
        out.appMetadata = Data(appMetadata)
        return out
    }
}

/// The state of a long-running query (PollFlightInfo).
public struct PollInfo: Sendable {
    /// What is known so far (possibly complete).
    public var info: FlightInfo?
    /// The descriptor to poll next, or nil when the query is complete.
    public var descriptor: FlightDescriptor?
    /// Progress in 0...1, if known.
    public var progress: Double?
    /// When the poll descriptor expires.
    public var expirationTime: Date?

    /// Creates a PollInfo.
    public init(info: FlightInfo?, descriptor: FlightDescriptor?, progress: Double? = nil, expirationTime: Date? = nil) {
        self.info = info
        self.descriptor = descriptor
        self.progress = progress
        self.expirationTime = expirationTime
    }

    init(_ proto: Arrow_Flight_Protocol_PollInfo) throws(FlightError) {
        info = proto.hasInfo ? try FlightInfo(proto.info) : nil
        descriptor = proto.hasFlightDescriptor ? FlightDescriptor(proto.flightDescriptor) : nil
        progress = proto.hasProgress ? proto.progress : nil
        expirationTime = proto.hasExpirationTime ? proto.expirationTime.date : nil
    }

    var proto: Arrow_Flight_Protocol_PollInfo {
        var out = Arrow_Flight_Protocol_PollInfo()
        if let info { out.info = info.proto }
        if let descriptor { out.flightDescriptor = descriptor.proto }
        if let progress { out.progress = progress }
        if let expirationTime { out.expirationTime = Google_Protobuf_Timestamp(date: expirationTime) }
        return out
    }
}

/// An action a service offers.
public struct ActionType: Sendable, Hashable {
    /// The action's name.
    public var type: String
    /// What it does.
    public var description: String
    /// Creates an action type.
    public init(type: String, description: String) {
        self.type = type
        self.description = description
    }
}

/// A request to run an action.
public struct Action: Sendable, Hashable {
    /// The action's name.
    public var type: String
    /// Its argument.
    public var body: [UInt8]
    /// Creates an action.
    public init(type: String, body: [UInt8] = []) {
        self.type = type
        self.body = body
    }
}

/// One result of an action.
public struct FlightResult: Sendable, Hashable {
    /// The result bytes.
    public var body: [UInt8]
    /// Creates a result.
    public init(body: [UInt8]) { self.body = body }
}

/// What a server answers to each DoPut message.
public struct PutResult: Sendable, Hashable {
    /// Application metadata.
    public var appMetadata: [UInt8]
    /// Creates a put result.
    public init(appMetadata: [UInt8]) { self.appMetadata = appMetadata }
}

/// The schema as Flight carries it: an encapsulated IPC schema message.
func encodeSchema(_ schema: Schema) -> [UInt8] {
    let message = IPCMessageWriter(schema: schema).schemaMessage()
    var bytes: [UInt8] = []
    for buffer in IPCMessageWriter.framed(message) { bytes.append(contentsOf: buffer.bytes) }
    return bytes
}

/// Decodes an encapsulated IPC schema message.
func decodeSchema(_ bytes: [UInt8]) throws(FlightError) -> Schema {
    guard !bytes.isEmpty else { return Schema([]) }
    do {
        let reader = try IPCStreamReader(Buffer(copying: bytes))
        return reader.schema
    } catch {
        throw FlightError(.invalidArgument, "malformed schema: \(error)")
    }
}

extension Schema {
    /// The schema as Flight and Flight SQL carry it: an encapsulated IPC schema message.
    public var ipcEncoded: [UInt8] { encodeSchema(self) }

    /// Decodes an encapsulated IPC schema message (empty bytes are the empty schema).
    /// Throws `FlightError(.invalidArgument)` for malformed bytes.
    public init(ipcEncoded bytes: [UInt8]) throws(FlightError) { self = try decodeSchema(bytes) }
}

extension FlightInfo {
    /// Decodes a serialised `FlightInfo` message (as Flight SQL's CancelQuery carries one).
    /// Throws `FlightError(.invalidArgument)` for malformed bytes.
    public init(serializedBytes bytes: [UInt8]) throws(FlightError) {
        let proto: Arrow_Flight_Protocol_FlightInfo
        do {
            proto = try Arrow_Flight_Protocol_FlightInfo(serializedBytes: bytes)
        } catch {
            throw FlightError(.invalidArgument, "malformed FlightInfo")
        }
        try self.init(proto)
    }

    /// The serialised `FlightInfo` message.
    public func serializedBytes() -> [UInt8] { (try? proto.serializedBytes()) ?? [] }
}
