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

    /// A node named `id`, reached by clients at `location` and by peers at `internalLocation`.
    public init(id: String, location: Location? = nil, internalLocation: Location? = nil, startedAt: Date = Date()) {
        self.id = id
        self.location = location
        self.internalLocation = internalLocation
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

    /// Plans `query` over the live members and returns the `FlightInfo` a client reads it by.
    func distribute(_ query: some DistributedQuery, for descriptor: FlightDescriptor) async throws -> FlightInfo

    /// Writes the partition `ticket` names to `writer`: its schema first, then its batches.
    /// Throws `FlightError(.notFound)` for an unknown or expired ticket and
    /// `FlightError(.cancelled)` once the query was cancelled.
    func stream(_ ticket: Ticket, to writer: FlightRecordBatchWriter, context: FlightCallContext) async throws

    /// Cancels the query behind `info`: running partitions stop, unread ones are dropped.
    func cancel(_ info: FlightInfo) async -> CancelStatus

    /// Runs `.pull` tasks of `kind` with `runner` from now on (replacing an earlier one).
    /// Every node that may be offered for a kind must have registered a runner for it.
    func register(_ runner: any PartitionRunner, forKind kind: String)
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

extension RecordBatch {
    /// The bytes of the batch's buffers (shared buffers counted once per use).
    public var bufferBytes: Int { columns.reduce(0) { $0 + $1.bufferBytes } }
}

extension ArrayData {
    /// The bytes of the array's buffers, children and dictionary.
    public var bufferBytes: Int {
        buffers.reduce(0) { $0 + $1.count } + children.reduce(0) { $0 + $1.bufferBytes } + (dictionary?.bufferBytes ?? 0)
    }
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
    /// Produced on the planning node and pushed to `node`, which serves it to the client.
    /// A single-node manager serves it as `.local`.
    case push(to: NodeInfo, produce: @Sendable (RecordBatchSink) async throws -> Void)
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
public protocol PartitionRunner: Sendable {
    /// Writes the batches of `task` to `sink`, each with the sink's schema.
    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws
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

    /// Writes one batch under the sink's schema. Throws `FlightError(.internal)` when a
    /// column's type differs from the schema's, or a non-nullable field's column holds nulls:
    /// a client must get exactly the schema it was promised.
    public func write(_ batch: RecordBatch) async throws {
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
