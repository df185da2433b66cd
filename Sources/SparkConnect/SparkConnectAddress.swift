import FlightRPC
import Foundation

/// Where a Spark Connect server is and how to talk to it: the `sc://` connection string of the
/// Spark Connect clients, `sc://host[:port]/;name=value;name=value`.
///
/// Parameters: `token` (a Bearer token; it implies TLS unless `use_ssl=false` is given),
/// `use_ssl` (`true`/`false`), `user_id`, `user_agent`, `session_id` (a UUID to reuse a
/// session). The port defaults to 15002. Unknown parameters are kept in ``parameters`` and sent
/// as call metadata, as other clients do.
public struct SparkConnectAddress: Sendable, Equatable, CustomStringConvertible {
    /// The default port of a Spark Connect server.
    public static let defaultPort = 15002

    public var host: String
    public var port: Int
    /// Whether calls go over TLS.
    public var useTLS: Bool
    /// The Bearer token sent with every call.
    public var token: String?
    public var userID: String?
    public var userAgent: String?
    /// A session to join instead of starting a new one.
    public var sessionID: UUID?
    /// Other parameters, sent as call metadata.
    public var parameters: [String: String]

    /// Parses a connection string; a malformed one is an error naming what is wrong.
    public init(_ text: String) throws {
        guard text.hasPrefix("sc://") else {
            throw SparkConnectError.invalidAddress("\(text): a Spark Connect address starts with sc://")
        }
        var rest = Substring(text.dropFirst(5))
        var parameterText = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            parameterText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // host, [v6]:port or host:port
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw SparkConnectError.invalidAddress("\(text): unclosed [ in the host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            rest = rest[colon...]
        } else {
            host = String(rest)
            rest = ""
        }
        guard !host.isEmpty else { throw SparkConnectError.invalidAddress("\(text): no host") }
        if rest.hasPrefix(":") {
            guard let value = Int(rest.dropFirst()), (1...65535).contains(value) else {
                throw SparkConnectError.invalidAddress("\(text): the port must be a number from 1 to 65535")
            }
            port = value
        } else {
            guard rest.isEmpty else { throw SparkConnectError.invalidAddress("\(text): unexpected \(rest) after the host") }
            port = Self.defaultPort
        }
        var parameters: [String: String] = [:]
        for part in parameterText.split(separator: ";", omittingEmptySubsequences: true) {
            guard let equals = part.firstIndex(of: "=") else {
                throw SparkConnectError.invalidAddress("\(text): parameter \(part) has no value (name=value)")
            }
            let name = String(part[..<equals])
            let value = String(part[part.index(after: equals)...]).removingPercentEncoding ?? String(part[part.index(after: equals)...])
            guard !name.isEmpty else { throw SparkConnectError.invalidAddress("\(text): a parameter has no name") }
            parameters[name] = value
        }
        token = parameters.removeValue(forKey: "token")
        userID = parameters.removeValue(forKey: "user_id")
        userAgent = parameters.removeValue(forKey: "user_agent")
        if let session = parameters.removeValue(forKey: "session_id") {
            guard let id = UUID(uuidString: session) else {
                throw SparkConnectError.invalidAddress("\(text): session_id \(session) is not a UUID")
            }
            sessionID = id
        }
        switch parameters.removeValue(forKey: "use_ssl")?.lowercased() {
        case nil: useTLS = token != nil
        case "true": useTLS = true
        case "false": useTLS = false
        case let other?: throw SparkConnectError.invalidAddress("\(text): use_ssl must be true or false, not \(other)")
        }
        self.parameters = parameters
    }

    /// The gRPC location of the server.
    public var location: Location {
        useTLS ? .grpcTLS(host: host, port: port) : .grpc(host: host, port: port)
    }

    /// The connection string, without the token.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var text = "sc://\(shownHost):\(port)"
        if useTLS { text += "/;use_ssl=true" }
        return text
    }
}

/// What can go wrong talking to Spark Connect, besides the statuses of its calls (`FlightError`).
public enum SparkConnectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A connection string that does not parse.
    case invalidAddress(String)
    /// The server answered with something the protocol does not allow.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .invalidAddress(let message): "invalid Spark Connect address: \(message)"
        case .protocolViolation(let message): "Spark Connect protocol violation: \(message)"
        }
    }
}
