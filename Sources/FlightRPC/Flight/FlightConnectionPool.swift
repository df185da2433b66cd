import Foundation
import Synchronization

/// The connections a reader of a multi-endpoint result uses: the one it has, and one per
/// other location an endpoint names, opened on first use and kept for the next endpoint
/// there. Every connection is opened with the same client options (TLS settings, limits),
/// and every call carries the same headers, with the first connection's Bearer token: the
/// nodes of one cluster accept one another's tokens.
///
/// A location of plain `grpc://` is never used when the first connection is on TLS, so that
/// a token learnt over TLS is not sent in clear text.
public final class FlightConnectionPool: Sendable {
    /// The connection the result came on.
    public let primary: FlightClient
    private let options: FlightClientOptions
    private let state = Mutex<[String: Task<FlightClient, any Error>]>([:])
    private let opened = Mutex<[FlightClient]>([])

    /// A pool around `primary`; `options` open the other connections.
    public init(primary: FlightClient, options: FlightClientOptions = FlightClientOptions()) {
        self.primary = primary
        self.options = options
    }

    /// Whether `location` means the connection the result came on.
    public static func isPrimary(_ location: Location) -> Bool {
        location.uri.hasPrefix("arrow-flight-reuse-connection:")
    }

    /// The locations of `endpoint` to try in turn: the primary connection when it names none
    /// or names the reuse-connection location, otherwise those it names, less plaintext ones
    /// when the primary connection is on TLS. Nil stands for the primary connection.
    public func candidates(for endpoint: FlightEndpoint) -> [Location?] {
        if endpoint.locations.isEmpty { return [nil] }
        let secure = primary.location.uri.hasPrefix("grpc+tls:")
        var out: [Location?] = []
        for location in endpoint.locations {
            if Self.isPrimary(location) {
                if !out.contains(where: { $0 == nil }) { out.append(nil) }
            } else if !secure || location.uri.hasPrefix("grpc+tls:") || location.uri.hasPrefix("grpc+unix:") {
                out.append(location)
            }
        }
        return out
    }

    /// The connection to `location` (nil: the primary one), opened once and shared.
    public func client(for location: Location?) async throws -> FlightClient {
        guard let location else { return primary }
        let options = options
        let task = state.withLock { tasks in
            if let task = tasks[location.uri] { return task }
            let task = Task { try await FlightClient(location: location, options: options) }
            tasks[location.uri] = task
            return task
        }
        do {
            let client = try await task.value
            opened.withLock { clients in if !clients.contains(where: { $0 === client }) { clients.append(client) } }
            return client
        } catch {
            // A failed connection is forgotten: the next endpoint there tries again.
            state.withLock { tasks in if tasks[location.uri] == task { tasks[location.uri] = nil } }
            throw error
        }
    }

    /// Forgets and closes the connection to `location` (after its stream broke: the node may
    /// be gone). The primary connection is kept.
    public func discard(_ location: Location?) {
        guard let location else { return }
        let task = state.withLock { tasks in tasks.removeValue(forKey: location.uri) }
        guard let task else { return }
        Task {
            if let client = try? await task.value {
                opened.withLock { clients in clients.removeAll { $0 === client } }
                client.close()
            }
        }
    }

    /// Call options for a call to `location`: `options`, with the primary connection's Bearer
    /// token for other locations (the primary client adds its own).
    public func callOptions(_ options: FlightCallOptions, for location: Location?) -> FlightCallOptions {
        guard location != nil, let token = primary.bearerToken, !options.headers.contains(where: { $0.name == "authorization" }) else {
            return options
        }
        var out = options
        out.headers.append((name: "authorization", value: "Bearer \(token)"))
        return out
    }

    /// Closes every connection the pool opened; the primary connection stays open.
    public func close() {
        let clients = opened.withLock { clients in
            defer { clients = [] }
            return clients
        }
        state.withLock { $0 = [:] }
        for client in clients { client.close() }
    }
}
