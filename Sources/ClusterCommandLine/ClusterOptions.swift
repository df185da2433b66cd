import ArgumentParser
import FlightManager
import FlightRPC
import Foundation
import Logging

/// The flags every server of this package takes to join a cluster. Without `--zookeeper`
/// a server runs alone on a `LocalFlightManager`.
public struct ClusterOptions: ParsableArguments {
    @Option(name: .customLong("zookeeper"), help: "Join the cluster registered in ZooKeeper: HOST:PORT[,HOST:PORT...][/chroot].")
    public var zookeeper: String?
    @Option(name: .customLong("node-id"), help: "This node's stable name in the cluster (default: HOST:PORT it listens on).")
    public var nodeID: String?
    @Option(help: "The public location clients are given for this node (default: the listening address).")
    public var advertise: String?
    @Option(name: .customLong("internal-port"), help: "Serve pushed partitions on a port of their own, without login: the put descriptor is the credential (0 picks one).")
    public var internalPort: Int?
    @Option(name: .customLong("internal-advertise"), help: "The location peers and producers push to (default: the internal or public listening address).")
    public var internalAdvertise: String?
    @Option(name: .customLong("cluster-secret-file"), help: "A file of at least 32 bytes that signs tickets and tokens; the same file on every node.")
    public var clusterSecretFile: String?
    @Option(name: .customLong("zookeeper-session-timeout"), help: "Seconds after which a node that stopped answering leaves the cluster.")
    public var zookeeperSessionTimeout: Double = 4

    public init() {}

    public func validate() throws {
        if zookeeper != nil {
            guard clusterSecretFile != nil else {
                throw ValidationError("--zookeeper needs --cluster-secret-file: every node must check the others' tickets")
            }
        } else if nodeID != nil || advertise != nil || internalAdvertise != nil {
            throw ValidationError("--node-id, --advertise and --internal-advertise need --zookeeper")
        }
        if let internalPort, !(0...65535).contains(internalPort) { throw ValidationError("--internal-port must be in 0...65535") }
        guard (1...600).contains(zookeeperSessionTimeout) else {
            throw ValidationError("--zookeeper-session-timeout must be 1 to 600 seconds")
        }
        if let nodeID, nodeID.isEmpty || nodeID.contains("/") {
            throw ValidationError("--node-id may not be empty or contain '/'")
        }
    }

    /// The cluster secret's bytes, when `--cluster-secret-file` is given.
    public func secret() throws -> [UInt8]? {
        guard let clusterSecretFile else { return nil }
        guard let bytes = FileManager.default.contents(atPath: clusterSecretFile), bytes.count >= 32 else {
            throw ValidationError("--cluster-secret-file must hold at least 32 bytes")
        }
        return [UInt8](bytes)
    }

    /// The manager these flags ask for: a `ZooKeeperFlightManager` (not yet joined: call
    /// ``join(_:listening:)`` once the server listens) or a `LocalFlightManager`.
    public func makeManager(secret: [UInt8], logger: Logger) throws -> any FlightManager {
        guard let zookeeper else { return LocalFlightManager(secret: secret) }
        return try ZooKeeperFlightManager(connectString: zookeeper, secret: secret,
                                          sessionTimeout: .milliseconds(Int64(zookeeperSessionTimeout * 1000)), logger: logger)
    }

    /// The internal endpoint `--internal-port` asks for: a server of pushed partitions only.
    public func startInternalEndpoint(_ manager: any FlightManager, host: String) throws -> FlightServer? {
        guard let internalPort else { return nil }
        return try FlightServer(service: ClusterService.internalEndpoint(manager), location: .grpc(host: host, port: internalPort))
    }

    /// Joins the cluster as the server listening at `location` (and `internal`, its internal
    /// endpoint, when it has one); nothing for a local manager.
    public func join(_ manager: any FlightManager, listening location: Location, internal internalLocation: Location? = nil) async throws {
        guard let cluster = manager as? ZooKeeperFlightManager else { return }
        let defaultID = location.uri.split(separator: "/").last.map(String.init) ?? location.uri
        let node = NodeInfo(id: nodeID ?? defaultID, location: advertise.map(Location.init(uri:)) ?? location,
                            internalLocation: internalAdvertise.map(Location.init(uri:)) ?? internalLocation)
        try await cluster.join(as: node)
    }

    /// Leaves the cluster at once (a clean stop); nothing for a local manager.
    public func leave(_ manager: any FlightManager) async {
        await (manager as? ZooKeeperFlightManager)?.leave()
    }

    /// Runs a started `server` as a node until SIGINT or SIGTERM: starts the internal endpoint
    /// (`--internal-port`), joins the cluster, prints `listening on <location>`, then, on the
    /// signal, leaves the cluster first (so that no new FlightInfo names this node) and shuts
    /// both servers down, giving running calls `grace`.
    public func serve(_ server: FlightServer, manager: any FlightManager, host: String, grace: Duration, logger: Logger) async throws {
        let signals = TerminationSignals()
        var internalServer: FlightServer?
        do {
            internalServer = try startInternalEndpoint(manager, host: host)
            try await join(manager, listening: server.location, internal: internalServer?.location)
        } catch {
            await server.shutdown(grace: .zero)
            await internalServer?.shutdown(grace: .zero)
            throw error
        }
        print("listening on \(server.location)")
        fflush(nil)
        let number = await signals.wait()
        logger.notice("signal \(number): shutting down")
        await leave(manager)
        await server.shutdown(grace: grace)
        await internalServer?.shutdown(grace: grace)
    }

    /// Sends the process's logs to standard error at `level` (call once, first thing).
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
