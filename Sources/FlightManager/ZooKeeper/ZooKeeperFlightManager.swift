import ArrowCore
import FlightRPC
import Foundation
import Logging
import Synchronization

/// A manager for a cluster of Flight servers that find each other through ZooKeeper.
///
/// Each server registers an ephemeral znode `<root>/members/<id>` holding its ``NodeInfo``
/// and watches the others', so it always knows the live members without asking ZooKeeper on
/// the query path. A query's `.pull` partitions spread over every member: each endpoint
/// starts with another member and lists the rest after it, so that reads are even and a client
/// whose first location fails can read from the next. Tickets are signed with the cluster
/// secret and self-contained, so a pull query writes nothing to ZooKeeper and any member
/// serves any of its endpoints. `.local` partitions are served by the planning node.
///
/// Cancelling a query (``cancel(_:)``) on any node writes `<root>/cancelled/<query id>`; every
/// node watches that folder and stops the query's streams and producers. Markers are removed by
/// the first node that sees them after the query's tickets expired.
///
/// A clean ``leave()`` removes the node at once; a killed node disappears when its session
/// expires. A node that loses ZooKeeper keeps serving the streams it has; when its session
/// has expired it registers again on a new one.
public final class ZooKeeperFlightManager: FlightManager {
    /// The ZooKeeper servers, `host:port[,host:port...]`.
    public let servers: String
    /// The cluster's root znode: the connect string's chroot, or `/swift-arrow-flight`.
    public let root: String
    let client: ZooKeeperClient
    let broker: PartitionBroker
    let logger: Logger
    private let state = Mutex(ViewState())
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let publisher = Mutex<Task<Void, Never>?>(nil)
    /// How often the node looks whether its number of active streams changed, and publishes it.
    public static let loadInterval = Duration.milliseconds(500)

    private struct ViewState {
        var node: NodeInfo?
        /// The members by znode name.
        var members: [String: NodeInfo] = [:]
        /// Names whose data must be read again (deleted or changed since it was read).
        var stale: Set<String> = []
        /// The cancellation markers already applied.
        var cancellations: Set<String> = []
    }

    /// The default root when the connect string names no chroot.
    public static let defaultRoot = "/swift-arrow-flight"

    /// A manager for the cluster registered in ZooKeeper at `connectString`
    /// (`host:port[,host:port...][/chroot]`), signing tickets with `secret` (the same bytes
    /// on every node), with a ZooKeeper session of `sessionTimeout`. It connects at once and
    /// joins the cluster with ``join(as:)`` once its server listens.
    public init(connectString: String, secret: [UInt8], sessionTimeout: Duration = .seconds(4),
                ticketLifetime: Duration = .seconds(600), runners: [String: any PartitionRunner] = [:],
                maximumHeldQueries: Int = 100_000, maximumHeldBytes: Int = 1 << 30,
                logger: Logger = Logger(label: "flight-manager.zookeeper")) throws {
        let (servers, chroot) = try Self.parse(connectString)
        self.servers = servers
        root = chroot ?? Self.defaultRoot
        self.logger = logger
        client = try ZooKeeperClient(servers: servers, sessionTimeout: sessionTimeout, logger: logger)
        broker = PartitionBroker(secret: secret, ticketLifetime: ticketLifetime, runners: runners,
                                 maximumHeldQueries: maximumHeldQueries, maximumHeldBytes: maximumHeldBytes)
    }

    /// Splits `host:port,...[/chroot]` into the servers and the chroot.
    package static func parse(_ connectString: String) throws(FlightError) -> (servers: String, chroot: String?) {
        let trimmed = connectString.trimmingCharacters(in: .whitespaces)
        guard let slash = trimmed.firstIndex(of: "/") else {
            guard !trimmed.isEmpty else { throw FlightError(.invalidArgument, "empty ZooKeeper connect string") }
            return (trimmed, nil)
        }
        let servers = String(trimmed[..<slash])
        var chroot = String(trimmed[slash...])
        while chroot.count > 1 && chroot.hasSuffix("/") { chroot.removeLast() }
        let parts = chroot.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !servers.isEmpty, chroot == "/" || parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw FlightError(.invalidArgument, "malformed ZooKeeper connect string '\(connectString)'")
        }
        return (servers, chroot == "/" ? nil : chroot)
    }

    /// `<root>/members`.
    public var membersPath: String { root + "/members" }
    /// `<root>/cancelled`: one node per cancelled query.
    public var cancelledPath: String { root + "/cancelled" }

    /// This server; a placeholder before ``join(as:)``.
    public var node: NodeInfo { state.withLock { $0.node } ?? NodeInfo(id: "(not joined)") }

    /// Registers `node` in the cluster and starts watching the members. Fails when ZooKeeper
    /// cannot be reached within its operation timeout, or another live server has the same id.
    public func join(as node: NodeInfo) async throws {
        guard !node.id.isEmpty, !node.id.contains("/"), node.id != ".", node.id != ".." else {
            throw FlightError(.invalidArgument, "a node id may not be empty or contain '/': '\(node.id)'")
        }
        state.withLock { $0.node = node }
        try await client.createPath(membersPath)
        try await client.createPath(cancelledPath)
        try await client.createOwned(memberPath(node.id), data: NodeRecord(node).encoded())
        let events = client.events()
        try await reload()
        try await reloadCancellations()
        watcher.withLock { task in
            task = Task { [weak self] in
                for await event in events {
                    guard let self else { return }
                    await self.handle(event)
                }
            }
        }
        publisher.withLock { task in
            task = Task { [weak self] in
                var published = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.loadInterval)
                    guard let self else { return }
                    let now = self.broker.activeStreamCount
                    guard now != published else { continue }
                    var updated = node
                    updated.activeStreams = now
                    do {
                        try await self.client.updateOwned(self.memberPath(node.id), data: NodeRecord(updated).encoded())
                        published = now
                    } catch {
                        self.logger.debug("cannot publish this node's load: \(error)")
                    }
                }
            }
        }
        logger.info("joined the cluster at \(servers)\(root) as \(node)")
    }

    /// Leaves the cluster: the node's znode goes at once, and the session ends. When ZooKeeper
    /// does not answer within `timeout`, the node goes when its session expires instead.
    public func leave(timeout: Duration = .seconds(2)) async {
        watcher.withLock { $0?.cancel() }
        publisher.withLock { $0?.cancel() }
        if let node = state.withLock({ $0.node }) {
            let path = memberPath(node.id)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [client, logger] in
                    do {
                        try await client.deleteOwned(path)
                    } catch {
                        logger.warning("cannot remove \(path): \(error)")
                    }
                }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        }
        await client.close()
    }

    private func memberPath(_ id: String) -> String { membersPath + "/" + id }

    private func handle(_ event: ZooKeeperEvent) async {
        switch event {
        case .node(_, let path) where path == cancelledPath:
            do {
                try await reloadCancellations()
            } catch {
                logger.warning("cannot read the cancelled queries: \(error)")
            }
            return
        case .node(let kind, let path):
            if path.hasPrefix(membersPath + "/") {
                let name = String(path.dropFirst(membersPath.count + 1))
                state.withLock { _ = $0.stale.insert(name) }
                if kind == .deleted { state.withLock { _ = $0.members.removeValue(forKey: name) } }
            } else if path != membersPath {
                return
            }
        case .connected, .sessionRestarted:
            // Watches were set again by the library (or must be, on a new session); a
            // reload reads what changed in between.
            try? await reloadCancellations()
        case .disconnected:
            return
        }
        do {
            try await reload()
        } catch {
            // The next connection event reloads.
            logger.warning("cannot read the cluster's members: \(error)")
        }
    }

    /// Reads the members' names (watching them) and the data of new or changed ones.
    private func reload() async throws {
        let names = try await client.children(membersPath, watch: true)
        let (known, stale) = state.withLock { ($0.members, $0.stale) }
        var members: [String: NodeInfo] = [:]
        for name in names {
            if let member = known[name], !stale.contains(name) {
                members[name] = member
                continue
            }
            state.withLock { _ = $0.stale.remove(name) }
            do {
                let (bytes, _) = try await client.data(memberPath(name), watch: true)
                members[name] = try NodeRecord(decoding: bytes).node
            } catch let error as ZooKeeperError where error.isNoNode {
                continue
            } catch let error as FlightError {
                logger.warning("ignoring member \(name): \(error.message)")
            }
        }
        // A member that changes while it is read is marked stale again by its watch event,
        // whose reload reads it once more.
        let joinedOrLeft = state.withLock { state -> Bool in
            // Only a change of who and where is logged; loads change every few seconds.
            let changed = state.members.mapValues(\.description) != members.mapValues(\.description)
            state.members = members
            return changed
        }
        if joinedOrLeft {
            logger.info("cluster members: \(Self.sorted(members).map(\.description).joined(separator: ", "))")
        }
    }

    private static func sorted(_ members: [String: NodeInfo]) -> [NodeInfo] {
        members.values.sorted { $0.id < $1.id }
    }

    /// The live members as last seen, this node included once it has joined. No ZooKeeper
    /// round trip: the view is kept up to date by watches.
    public func members() async throws -> [NodeInfo] { currentMembers() }

    private func currentMembers() -> [NodeInfo] {
        state.withLock { state in
            var members = Self.sorted(state.members)
            // This node serves while its session is being renewed, even if the view lost it.
            if let node = state.node, !members.contains(where: { $0.id == node.id }) {
                members.append(node)
                members.sort { $0.id < $1.id }
            }
            return members
        }
    }

    public func register(_ runner: any PartitionRunner, forKind kind: String) {
        broker.register(runner, forKind: kind)
    }

    public func plan(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> QueryPlan {
        try await broker.plan(query, for: descriptor, planner: try joined(), members: currentMembers())
    }

    private func joined() throws(FlightError) -> NodeInfo {
        guard let node = state.withLock({ $0.node }) else {
            throw FlightError(.unavailable, "this server has not joined its cluster yet")
        }
        return node
    }

    public func stream(_ ticket: Ticket, to writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        try await broker.stream(ticket, to: writer, context: context, servingNode: try joined().id)
    }

    public func receive(_ upload: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        let node = try joined()
        try await broker.receive(upload, descriptor: try await PartitionBroker.putDescriptor(of: upload), results: results, servingNode: node.id)
    }

    /// Cancels the query behind `info` here and, through a marker in ZooKeeper, on every node.
    public func cancel(_ info: FlightInfo) async -> CancelStatus {
        var status = CancelStatus.notCancellable
        for (id, expiry) in broker.queries(of: info) {
            guard broker.cancelQuery(id, expiry: expiry) else { continue }
            let name = id.map { String(format: "%02x", $0) }.joined()
            do {
                try await createMarker(name, expiry: expiry)
                if status != .cancelling { status = .cancelled }
            } catch let error as ZooKeeperError where error.isNodeExists {
                // Another node cancelled it first.
                continue
            } catch {
                logger.warning("cannot tell the cluster that query \(name) was cancelled: \(error)")
                status = .cancelling
            }
        }
        if status != .notCancellable { await broker.tellRunners(cancelled: info) }
        return status
    }

    /// Writes the marker of a cancelled query (and its folder, after an ensemble started anew).
    private func createMarker(_ name: String, expiry: Int64) async throws {
        do {
            try await client.create(cancelledPath + "/" + name, data: Array(String(expiry).utf8))
        } catch let error as ZooKeeperError where error.isNoNode {
            try await client.createPath(cancelledPath)
            try await client.create(cancelledPath + "/" + name, data: Array(String(expiry).utf8))
        }
    }

    /// Applies new cancellation markers, and removes those whose query's tickets have expired.
    private func reloadCancellations() async throws {
        let names: [String]
        do {
            names = try await client.children(cancelledPath, watch: true)
        } catch let error as ZooKeeperError where error.isNoNode {
            try await client.createPath(cancelledPath)
            names = try await client.children(cancelledPath, watch: true)
        }
        let seen = state.withLock { state in
            state.cancellations.formIntersection(names)
            return state.cancellations
        }
        let now = Int64(Date().timeIntervalSince1970)
        for name in names where !seen.contains(name) {
            guard let id = Self.queryID(hex: name) else { continue }
            let expiry: Int64
            do {
                expiry = Int64(String(decoding: try await client.data(cancelledPath + "/" + name).bytes, as: UTF8.self)) ?? 0
            } catch let error as ZooKeeperError where error.isNoNode {
                continue
            }
            if expiry <= now {
                try? await client.delete(cancelledPath + "/" + name)
                continue
            }
            broker.cancelQuery(id, expiry: expiry)
            state.withLock { _ = $0.cancellations.insert(name) }
        }
    }

    private static func queryID(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var id: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            id.append(byte)
        }
        return id
    }
}

/// A member's znode: its ``NodeInfo`` as JSON, with a format version.
package struct NodeRecord: Codable, Equatable {
    var version: Int
    var id: String
    var location: String?
    var internalLocation: String?
    var startedAt: Double
    var activeStreams: Int?

    static let currentVersion = 1

    enum CodingKeys: String, CodingKey {
        case version, id, location
        case internalLocation = "internal_location"
        case startedAt = "started_at"
        case activeStreams = "active_streams"
    }

    package init(_ node: NodeInfo) {
        version = Self.currentVersion
        id = node.id
        location = node.location?.uri
        internalLocation = node.internalLocation?.uri
        startedAt = node.startedAt.timeIntervalSince1970
        activeStreams = node.activeStreams
    }

    package init(decoding bytes: [UInt8]) throws(FlightError) {
        do {
            self = try JSONDecoder().decode(NodeRecord.self, from: Data(bytes))
        } catch {
            throw FlightError(.internal, "malformed member record: \(error)")
        }
        guard version >= 1 else { throw FlightError(.internal, "member record of unknown version \(version)") }
    }

    package var node: NodeInfo {
        NodeInfo(id: id, location: location.map(Location.init(uri:)), internalLocation: internalLocation.map(Location.init(uri:)),
                 startedAt: Date(timeIntervalSince1970: startedAt), activeStreams: max(0, activeStreams ?? 0))
    }

    package func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? [UInt8](encoder.encode(self))) ?? []
    }
}
