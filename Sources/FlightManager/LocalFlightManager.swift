import ArrowCore
import FlightRPC
import Foundation
import Synchronization

/// The single-node manager: every partition is served by this process.
///
/// `.local` and `.push` partitions are kept in memory until each has been read to the end
/// once, or until their ticket expires unread; `.pull` partitions live only in their signed
/// ticket, which any number of reads may redeem until it expires (their endpoints say when).
/// Endpoints carry this node's location, or none when it has no public location, so clients
/// read on the connection they already have.
public final class LocalFlightManager: FlightManager {
    /// This process, the only member.
    public let node: NodeInfo
    let broker: PartitionBroker

    /// A manager for `node`, signing tickets with `secret` (32 random bytes by default; share
    /// it between nodes that must accept each other's tickets) that stay valid for
    /// `ticketLifetime`, running pull tasks with `runners` keyed by task kind. At most
    /// `maximumHeldQueries` queries, holding at most `maximumHeldBytes` of computed results
    /// (`DistributedQuery.heldBytes`), wait in memory for their first read; more are refused
    /// with RESOURCE_EXHAUSTED, so clients that plan queries and never read them cannot fill
    /// the server's memory.
    public init(node: NodeInfo = NodeInfo(id: "local"), secret: [UInt8] = BasicAuthenticator.randomSecret(),
                ticketLifetime: Duration = .seconds(600), runners: [String: any PartitionRunner] = [:],
                maximumHeldQueries: Int = 100_000, maximumHeldBytes: Int = 1 << 30) {
        self.node = node
        broker = PartitionBroker(secret: secret, ticketLifetime: ticketLifetime, runners: runners,
                                 maximumHeldQueries: maximumHeldQueries, maximumHeldBytes: maximumHeldBytes)
    }

    public func members() async throws -> [NodeInfo] { [node] }

    /// The number of queries whose partitions are held in memory (for tests and monitoring).
    public var heldQueryCount: Int { broker.heldQueryCount }

    public func register(_ runner: any PartitionRunner, forKind kind: String) {
        broker.register(runner, forKind: kind)
    }

    public func plan(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> QueryPlan {
        try await broker.plan(query, for: descriptor, planner: node, members: [node])
    }

    public func stream(_ ticket: Ticket, to writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        try await broker.stream(ticket, to: writer, context: context, servingNode: node.id)
    }

    public func receive(_ upload: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        try await broker.receive(upload, descriptor: try await PartitionBroker.putDescriptor(of: upload), results: results, servingNode: node.id)
    }

    public func cancel(_ info: FlightInfo) async -> CancelStatus {
        await broker.cancel(info)
    }
}
