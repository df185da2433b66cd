import ArrowCore
import FlightRPC
import Foundation

/// Any Flight service with its manager's endpoints added:
/// - the `cluster-members` action, which answers one JSON object per live member (`id`,
///   `location`, `internal_location`, `started_at` in ISO 8601, `active_streams` as it last
///   published it);
/// - DoPut with one of the manager's put descriptors: a pushed partition (``PushTarget``).
///
/// Every other call goes to the service unchanged.
public struct ClusterService<Base: FlightService>: FlightService {
    /// The DoAction type that lists the cluster's members.
    public static var clusterMembers: String { "cluster-members" }

    /// The service calls are passed to.
    public let base: Base
    /// The manager asked for the members.
    public let manager: any FlightManager

    /// `base` with the actions of `manager` added.
    public init(_ base: Base, manager: any FlightManager) {
        self.base = base
        self.manager = manager
    }

    /// The JSON object `cluster-members` answers for `member`.
    public static func json(_ member: NodeInfo) -> [UInt8] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let object: [String: Any] = [
            "id": member.id,
            "location": member.location?.uri ?? NSNull(),
            "internal_location": member.internalLocation?.uri ?? NSNull(),
            "started_at": formatter.string(from: member.startedAt),
            "active_streams": member.activeStreams,
        ]
        return (try? [UInt8](JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))) ?? []
    }

    public func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        guard action.type == Self.clusterMembers else {
            return try await base.doAction(action, results: results, context: context)
        }
        for member in try await manager.members() {
            try await results.send(FlightResult(body: Self.json(member)))
        }
    }

    public func listActions(context: FlightCallContext) async throws -> [ActionType] {
        var actions: [ActionType]
        do {
            actions = try await base.listActions(context: context)
        } catch let error as FlightError where error.code == .unimplemented {
            actions = []
        }
        actions.append(ActionType(type: Self.clusterMembers, description: "The cluster's live members, one JSON object each"))
        return actions
    }

    public func handshake(_ requests: FlightPayloadStream, responses: FlightResponseWriter<[UInt8]>, context: FlightCallContext) async throws {
        try await base.handshake(requests, responses: responses, context: context)
    }
    public func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws {
        try await base.listFlights(criteria: criteria, responses: responses, context: context)
    }
    public func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        try await base.getFlightInfo(descriptor, context: context)
    }
    public func pollFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> PollInfo {
        try await base.pollFlightInfo(descriptor, context: context)
    }
    public func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        try await base.getSchema(descriptor, context: context)
    }
    public func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        try await base.doGet(ticket, writer: writer, context: context)
    }
    public func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        // The first message carries the descriptor.
        _ = try await reader.schema()
        if PartitionBroker.isPutDescriptor(reader.descriptor) {
            return try await manager.receive(reader, results: results, context: context)
        }
        try await base.doPut(reader, results: results, context: context)
    }
    public func doExchange(_ reader: FlightRecordBatchReader, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        try await base.doExchange(reader, writer: writer, context: context)
    }
}

/// A service with nothing of its own: what an internal endpoint wraps.
public struct NoFlightService: FlightService {
    /// The empty service.
    public init() {}
}

extension ClusterService where Base == NoFlightService {
    /// An internal endpoint: pushed partitions and `cluster-members`, nothing else.
    public static func internalEndpoint(_ manager: any FlightManager) -> ClusterService<NoFlightService> {
        ClusterService(NoFlightService(), manager: manager)
    }
}
