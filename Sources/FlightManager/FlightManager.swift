import ArrowCore
import FlightRPC
import Foundation

/// One Flight server of a cluster, as its peers and clients see it.
public struct NodeInfo: Sendable, Hashable, CustomStringConvertible {
    /// A name unique in the cluster (stable across restarts when the operator sets it).
    public var id: String
    /// Where clients read this node's partitions. Nil for a single embedded node: its
    /// endpoints then carry no location, and clients read on the connection they already have.
    public var location: Location?
    /// Where peers push partitions to this node (may be a private address).
    public var internalLocation: Location?
    /// When the node started serving, to the millisecond.
    public var startedAt: Date
    /// The partitions the node was streaming when it last said so (a cluster's members say
    /// within a second of a change); planning puts the least busy members first.
    public var activeStreams: Int

    /// A node named `id`, reached by clients at `location` and by peers at `internalLocation`.
    public init(id: String, location: Location? = nil, internalLocation: Location? = nil, startedAt: Date = Date(),
                activeStreams: Int = 0) {
        self.id = id
        self.location = location
        self.internalLocation = internalLocation
        self.activeStreams = activeStreams
        self.startedAt = Date(timeIntervalSince1970: (startedAt.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// `id@location`, for logs.
    public var description: String { "\(id)@\(location?.uri ?? "(this connection)")" }
}

/// Spreads one query's results over the Flight servers of a cluster.
///
/// A server that plans a query calls ``distribute(_:for:)`` and returns the `FlightInfo` it
/// gets: one endpoint per partition, each naming the nodes that can serve it. When a client
/// reads an endpoint, the node it reached calls ``stream(_:to:context:)`` with the ticket.
/// Tickets are signed, so any node of the cluster checks them without shared memory.
///
/// Completion is explicit: a stream ends without error only after every batch the partition
/// produced was written. A partition that fails or is cancelled ends its stream with an error.
public protocol FlightManager: Sendable {
    /// This server.
    var node: NodeInfo { get }

    /// The servers that are live now, this one included.
    func members() async throws -> [NodeInfo]

    /// Plans `query` over the live members: the `FlightInfo` a client reads it by, and where
    /// the producers of its `.external` partitions push them.
    func plan(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> QueryPlan

    /// Plans `query` over the live members and returns the `FlightInfo` a client reads it by.
    func distribute(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> FlightInfo

    /// Writes the partition `ticket` names to `writer`: its schema first, then its batches.
    /// Throws `FlightError(.notFound)` for an unknown or expired ticket and
    /// `FlightError(.cancelled)` once the query was cancelled.
    func stream(_ ticket: Ticket, to writer: FlightRecordBatchWriter, context: FlightCallContext) async throws

    /// Receives a pushed partition: a DoPut whose descriptor is a put descriptor of this
    /// manager (``PushTarget/descriptor``). Answers one `PutResult` per stored batch and ends
    /// when the producer's declared totals match; see ``PushTarget``.
    func receive(_ upload: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws

    /// Cancels the query behind `info`: running partitions stop, unread ones are dropped.
    func cancel(_ info: FlightInfo) async -> CancelStatus

    /// Runs `.pull` tasks of `kind` with `runner` from now on (replacing an earlier one).
    /// Every node that may be offered for a kind must have registered a runner for it.
    func register(_ runner: any PartitionRunner, forKind kind: String)
}

extension FlightManager {
    public func distribute(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> FlightInfo {
        try await plan(query, for: descriptor).info
    }
}

/// A planned query: what its readers get, and where its `.external` partitions are pushed.
public struct QueryPlan: Sendable {
    /// The result, one endpoint per partition.
    public var info: FlightInfo
    /// One target per `.external` partition, in the order of the partitions.
    public var pushTargets: [PushTarget]

    /// A plan of `info` with `pushTargets`.
    public init(info: FlightInfo, pushTargets: [PushTarget] = []) {
        self.info = info
        self.pushTargets = pushTargets
    }
}

/// Where the producer of one `.external` partition sends it.
///
/// The producer opens a DoPut at `location` with `descriptor` (a command descriptor signed with
/// the cluster secret, valid until the query's tickets expire) and sends batches of the query's
/// schema. Each `PutResult` acknowledges what the node stored: `{"batches": N, "rows": N}`. The
/// last message carries the totals in its `app_metadata`: `{"total_batches": N, "total_rows": N}`
/// (a metadata-only message, or the last batch's). The node answers `"complete": true` when
/// they match; a producer that fails, vanishes, stops before its totals or declares other totals
/// than it sent fails the reader's stream with a status, never a short result. A producer waits
/// (its writes suspend) while the reader is slow or has not come yet, up to the manager's wait
/// timeout.
public struct PushTarget: Sendable, Hashable {
    /// The partition's index among the query's endpoints.
    public var partition: Int
    /// The node that serves the partition to its reader.
    public var node: NodeInfo
    /// The node's internal endpoint (nil: the server that planned the query, in process).
    public var location: Location?
    /// The signed put descriptor.
    public var descriptor: FlightDescriptor

    /// A target of partition `partition` on `node`.
    public init(partition: Int, node: NodeInfo, location: Location?, descriptor: FlightDescriptor) {
        self.partition = partition
        self.node = node
        self.location = location
        self.descriptor = descriptor
    }
}

/// A query whose results can be split into partitions.
public protocol DistributedQuery: Sendable {
    /// The schema of every partition's batches.
    var schema: Schema { get }
    /// The partitions, planned for `members` (never empty). Returning none is a valid empty result.
    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition]
    /// Bytes the query's partitions keep in memory until they are read (a result already
    /// computed), so that a manager can bound what waits for readers. Zero by default.
    var heldBytes: Int { get }
}

extension DistributedQuery {
    public var heldBytes: Int { 0 }
}

/// How one partition of a query is produced.
public enum QueryPartition: Sendable {
    /// Produced on the planning node when a client reads it. Only the planning node can
    /// serve it; use this for work tied to local state (an open transaction, a temporary table).
    case local(@Sendable (RecordBatchSink) async throws -> Void)
    /// A serialisable task any node with a runner for its kind can run when a client reads it.
    /// `nodes` are the locations offered for it, in order of preference (empty: the planner);
    /// a client that fails on one may try the next.
    case pull(PartitionTask, nodes: [NodeInfo])
    /// Produced on the planning node, as soon as it is planned, and pushed to `node`, which
    /// serves it to the client (the producer waits for the reader, within bounded memory).
    case push(to: NodeInfo, produce: @Sendable (RecordBatchSink) async throws -> Void)
    /// Produced by another process (a worker of the user's), which pushes it to `to` (nil: the
    /// manager picks a member) with the ``PushTarget`` of the query's plan.
    case external(to: NodeInfo?)
}

/// A partition as data: `kind` selects the ``PartitionRunner`` that runs `payload`.
public struct PartitionTask: Sendable, Hashable {
    /// The runner's name, for example `parquet.row-groups`.
    public var kind: String
    /// The runner's own description of the work, for example a path and a row-group range.
    public var payload: [UInt8]

    /// A task for the runner registered as `kind`.
    public init(kind: String, payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }
}

/// Runs pull tasks of one kind on the node a client reads them from.
///
/// A task must give the same batches, in the same order, every time and on every node that
/// runs it: a reader whose stream broke may read the partition again from another location and
/// skip the batches it already had.
public protocol PartitionRunner: Sendable {
    /// Writes the batches of `task` to `sink`, each with the sink's schema.
    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws

    /// The query of `task` was cancelled (CancelFlightInfo, on the node it reached): called
    /// there once for each pull task of the result, so that a runner keeping something for its
    /// tasks (files staged for them) can free it now rather than when the tickets expire. The
    /// tasks' streams stop with CANCELLED on every node. The default does nothing.
    func cancelled(_ task: PartitionTask) async
}

extension PartitionRunner {
    public func cancelled(_ task: PartitionTask) async {}
}

/// Where a partition writes its batches. The writer suspends while the reader is slow.
public struct RecordBatchSink: Sendable {
    /// The schema every batch must have.
    public let schema: Schema
    private let writeBatch: @Sendable (RecordBatch) async throws -> Void

    /// A sink that checks each batch against `schema` and hands it to `write`.
    public init(schema: Schema, write: @escaping @Sendable (RecordBatch) async throws -> Void) {
        self.schema = schema
        self.writeBatch = write
    }

    /// Writes one batch under the sink's schema. Throws `CancellationError` once the task is
    /// cancelled, and `FlightError(.internal)` when a
    /// column's type differs from the schema's, or a non-nullable field's column holds nulls:
    /// a client must get exactly the schema it was promised.
    public func write(_ batch: RecordBatch) async throws {
        // Every partition's batches pass here: a cancelled query stops at its next batch even
        // when the writer never has to wait.
        try Task.checkCancellation()
        guard batch.columns.count == schema.fields.count else {
            throw FlightError(.internal, "partition produced \(batch.columns.count) columns where \(schema.fields.count) were promised")
        }
        for (field, column) in zip(schema.fields, batch.columns) {
            guard column.type == field.type else {
                throw FlightError(.internal, "partition produced \(column.type) for column '\(field.name)' where \(field.type) was promised")
            }
            guard field.nullable || column.nullCount == 0 else {
                throw FlightError(.internal, "partition produced nulls in non-nullable column '\(field.name)'")
            }
        }
        let labelled = batch.schema == schema ? batch : try RecordBatch(schema: schema, columns: batch.columns, length: batch.length)
        try await writeBatch(labelled)
    }
}
