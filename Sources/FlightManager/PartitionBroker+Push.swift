import ArrowCore
import FlightRPC
import Foundation
import Synchronization

extension PartitionBroker {
    struct SlotKey: Hashable {
        var queryID: [UInt8]
        var partition: UInt32
    }

    /// The pushed partitions this node serves, and those done (read or failed) until their
    /// tickets expire, so that a second read is told so instead of waiting for a producer.
    struct PushTable {
        var slots: [SlotKey: PushSlot] = [:]
        var done: [SlotKey: Int64] = [:]
        var lastSweep: Int64 = 0

        mutating func sweep(now: Int64) {
            guard now > lastSweep else { return }
            lastSweep = now
            slots = slots.filter { $0.value.expiry > now }
            done = done.filter { $0.value > now }
        }
    }

    /// What runs for each query on this node (to stop it), and the queries cancelled.
    struct QueryActivity {
        var running: [[UInt8]: [UInt64: @Sendable () -> Void]] = [:]
        var cancelled: [[UInt8]: Int64] = [:]
        var lastSweep: Int64 = 0
    }

    func checkNotCancelled(_ id: [UInt8]) throws(FlightError) {
        let now = Int64(Date().timeIntervalSince1970)
        let cancelled = activity.withLock { activity -> Bool in
            if now > activity.lastSweep {
                activity.lastSweep = now
                activity.cancelled = activity.cancelled.filter { $0.value > now }
            }
            return activity.cancelled[id] != nil
        }
        if cancelled { throw FlightError(.cancelled, "the query was cancelled") }
    }

    /// Runs `body` in a task that ``cancelQuery(_:expiry:)`` can stop.
    func runCancellable(queryID: [UInt8], _ body: @escaping @Sendable () async throws -> Void) async throws {
        let id = nextRunID.add(1, ordering: .relaxed).newValue
        let task = Task { try await body() }
        activity.withLock { $0.running[queryID, default: [:]][id] = { task.cancel() } }
        defer { activity.withLock { _ = $0.running[queryID]?.removeValue(forKey: id) } }
        try await Self.wait(for: task)
    }

    /// Waits for a partition's task, cancelling it when the caller is cancelled; a cancelled
    /// task ends the call with CANCELLED.
    static func wait(for task: Task<Void, any Error>) async throws {
        try await withTaskCancellationHandler {
            do {
                try await task.value
            } catch is CancellationError {
                throw FlightError(.cancelled, "the query was cancelled")
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// The put descriptor of partition `partition`, pushed to `node`.
    func pushTarget(queryID: [UInt8], partition: Int, expiry: Int64, schema: Schema, to node: NodeInfo) -> PushTarget {
        let descriptor = ManagerTicket(queryID: queryID, partition: UInt32(partition), expiry: expiry,
                                       body: .pushWrite(node: node.id, schema: schema))
        return PushTarget(partition: partition, node: node, location: node.internalLocation ?? node.location,
                          descriptor: .command(descriptor.encoded(secret: secret)))
    }

    private func slot(_ key: SlotKey, schema: Schema, expiry: Int64) throws(FlightError) -> PushSlot {
        try pushes.withLock { table throws(FlightError) in
            table.sweep(now: Int64(Date().timeIntervalSince1970))
            if table.done[key] != nil {
                throw FlightError(.notFound, "this pushed partition was already read, or it failed")
            }
            if let slot = table.slots[key] { return slot }
            guard table.slots.count < maximumPushSlots else {
                throw FlightError(.resourceExhausted, "\(table.slots.count) pushed partitions are in progress on this node; try again later")
            }
            let slot = PushSlot(schema: schema, expiry: expiry, capacity: pushCapacity, waitTimeout: pushWaitTimeout)
            table.slots[key] = slot
            return slot
        }
    }

    private func retire(_ key: SlotKey, expiry: Int64) {
        pushes.withLock { table in
            table.slots[key] = nil
            table.done[key] = expiry
        }
    }

    func failPushes(of queryID: [UInt8], _ error: FlightError) {
        let slots = pushes.withLock { table in table.slots.filter { $0.key.queryID == queryID }.map(\.value) }
        for slot in slots { slot.fail(error) }
    }

    /// A reader of a pushed partition: waits for its producer, then streams what arrives.
    func streamPushed(_ ticket: ManagerTicket, node: String, schema: Schema, servingNode: String,
                      to writer: FlightRecordBatchWriter) async throws {
        guard node == servingNode else {
            throw FlightError(.failedPrecondition, "this partition is served by node '\(node)', not by '\(servingNode)'")
        }
        let key = SlotKey(queryID: ticket.queryID, partition: ticket.partition)
        let slot = try slot(key, schema: schema, expiry: ticket.expiry)
        try slot.attachReader()
        defer { retire(key, expiry: ticket.expiry) }
        do {
            try await writer.begin(schema)
            while let batch = try await slot.next() {
                try await writer.write(batch)
            }
        } catch {
            let status = error as? FlightError ?? (error is CancellationError
                ? FlightError(.cancelled, "the read was cancelled") : FlightError(.unavailable, "the reader failed: \(error)"))
            slot.fail(FlightError(.cancelled, "the reader of this partition went away: \(status.message)"))
            throw status
        }
    }

    /// The descriptor bytes of an upload, read from its first message.
    static func putDescriptor(of upload: FlightRecordBatchReader) async throws -> [UInt8] {
        _ = try await upload.schema()
        guard case .command(let bytes)? = upload.descriptor else {
            throw FlightError(.permissionDenied, "a pushed partition needs its put descriptor")
        }
        return bytes
    }

    /// Whether `descriptor` is in the manager's signed form (a put descriptor, or a ticket sent
    /// by mistake): the manager answers it, checking it when it is used.
    static func isPutDescriptor(_ descriptor: FlightDescriptor?) -> Bool {
        guard case .command(let bytes)? = descriptor else { return false }
        return bytes.starts(with: ManagerTicket.magic)
    }

    /// A producer's upload (DoPut with a put descriptor) to this node, `servingNode`.
    ///
    /// Each stored batch is acknowledged with a `PutResult` whose metadata is
    /// `{"batches": N, "rows": N}`; the producer ends with a message whose `app_metadata` is
    /// `{"total_batches": N, "total_rows": N}`, answered with `"complete": true` once the
    /// totals match. An upload that ends without totals, or with wrong ones, fails the reader's
    /// stream as well as the upload.
    func receive(_ upload: FlightRecordBatchReader, descriptor bytes: [UInt8], results: FlightResponseWriter<PutResult>,
                 servingNode: String) async throws {
        let decoded: ManagerTicket
        do {
            decoded = try ManagerTicket(decoding: bytes, secret: secret)
        } catch {
            throw FlightError(.permissionDenied, "unknown, malformed or expired put descriptor")
        }
        guard case .pushWrite(let node, let schema) = decoded.body else {
            throw FlightError(.permissionDenied, "not a put descriptor")
        }
        guard node == servingNode else {
            throw FlightError(.failedPrecondition, "this partition is pushed to node '\(node)', not to '\(servingNode)'")
        }
        try checkNotCancelled(decoded.queryID)
        let key = SlotKey(queryID: decoded.queryID, partition: decoded.partition)
        let slot = try slot(key, schema: schema, expiry: decoded.expiry)
        try slot.attachProducer()
        let sink = RecordBatchSink(schema: schema) { try await slot.put($0) }
        do {
            var complete = false
            while let chunk = try await upload.nextChunk() {
                guard !complete else { throw FlightError(.invalidArgument, "the upload went on after its totals") }
                if let batch = chunk.batch {
                    do {
                        try await sink.write(batch)
                    } catch let error as FlightError where error.code == .internal {
                        throw FlightError(.invalidArgument, error.message)
                    }
                }
                let received = slot.received
                if let metadata = chunk.appMetadata, metadata.count > 0 {
                    let totals = try PushTotals(json: metadata.array)
                    try slot.finish(batches: totals.batches, rows: totals.rows)
                    complete = true
                    try await results.send(PushTotals.acknowledgement(batches: received.batches, rows: received.rows, complete: true))
                } else if chunk.batch != nil {
                    try await results.send(PushTotals.acknowledgement(batches: received.batches, rows: received.rows, complete: false))
                }
            }
            guard complete else {
                throw FlightError(.invalidArgument, "the upload ended without declaring its totals "
                    + "(a last message with app_metadata {\"total_batches\": N, \"total_rows\": N})")
            }
        } catch {
            let status = error as? FlightError ?? FlightError(.aborted, "\(error)")
            slot.fail(FlightError(.aborted, "the producer of this partition failed: \(status.message)"), unlessComplete: true)
            throw status
        }
    }

    /// Produces a `.push` partition here and sends it to its node (in process when that is
    /// this node), declaring the totals at the end.
    func startProducing(_ target: PushTarget, queryID: [UInt8], schema: Schema, planner: NodeInfo,
                        produce: @escaping @Sendable (RecordBatchSink) async throws -> Void) {
        let id = nextRunID.add(1, ordering: .relaxed).newValue
        guard case .command(let descriptor) = target.descriptor else { return }
        let task = Task { [self] in
            defer { activity.withLock { _ = $0.running[queryID]?.removeValue(forKey: id) } }
            if target.node.id == planner.id || target.location == nil {
                let decoded = try ManagerTicket(decoding: descriptor, secret: secret)
                let slot = try slot(SlotKey(queryID: queryID, partition: decoded.partition), schema: schema, expiry: decoded.expiry)
                try slot.attachProducer()
                do {
                    try await produce(RecordBatchSink(schema: schema) { try await slot.put($0) })
                    let received = slot.received
                    try slot.finish(batches: received.batches, rows: received.rows)
                } catch {
                    slot.fail(FlightError(.aborted, "the producer of this partition failed: \(error)"), unlessComplete: true)
                    throw error
                }
                return
            }
            guard let location = target.location else { return }
            let client = try await FlightClient(location: location)
            defer { client.close() }
            let put = try await client.doPut(target.descriptor)
            let counts = Mutex((batches: 0, rows: 0))
            try await put.writer.begin(schema)
            try await produce(RecordBatchSink(schema: schema) { batch in
                try await put.writer.write(batch)
                counts.withLock { $0 = ($0.batches + 1, $0.rows + batch.length) }
            })
            let totals = counts.withLock { $0 }
            try await put.writer.writeMetadata(PushTotals.declaration(batches: totals.batches, rows: totals.rows))
            _ = try await put.finish()
        }
        activity.withLock { $0.running[queryID, default: [:]][id] = { task.cancel() } }
    }
}

/// The JSON a producer declares its totals with, and the acknowledgements it gets.
struct PushTotals {
    var batches: Int
    var rows: Int

    private struct Declared: Decodable {
        var total_batches: Int
        var total_rows: Int
    }

    static func declaration(batches: Int, rows: Int) -> [UInt8] {
        Array("{\"total_batches\": \(batches), \"total_rows\": \(rows)}".utf8)
    }

    static func acknowledgement(batches: Int, rows: Int, complete: Bool) -> PutResult {
        PutResult(appMetadata: Array("{\"batches\": \(batches), \"rows\": \(rows)\(complete ? ", \"complete\": true" : "")}".utf8))
    }

    /// Reads a declaration.
    init(json bytes: [UInt8]) throws(FlightError) {
        guard let declared = try? JSONDecoder().decode(Declared.self, from: Data(bytes)),
              declared.total_batches >= 0, declared.total_rows >= 0 else {
            throw FlightError(.invalidArgument, "app_metadata must be the totals {\"total_batches\": N, \"total_rows\": N}")
        }
        batches = declared.total_batches
        rows = declared.total_rows
    }
}
