import ArrowCore
import FlightRPC
import Foundation
import Synchronization

/// What every manager does with the partitions of the queries it plans and the tickets it
/// is given: issues signed tickets, keeps `.local` partitions until they are read, runs
/// `.pull` tasks, receives pushed partitions and hands them to their readers. The managers
/// differ in who the members are.
///
/// `.local` partitions are kept in memory until each has been read to the end once, or until
/// their ticket expires unread; `.pull` partitions live only in their signed ticket, which any
/// number of reads, on any node sharing the secret, may redeem until it expires (their
/// endpoints say when). Pushed partitions meet their reader in a `PushSlot` on the node that
/// serves them.
package final class PartitionBroker: Sendable {
    let secret: [UInt8]
    private let ticketLifetime: Int64
    private let runners: Mutex<[String: any PartitionRunner]>
    /// Turns the members' order from query to query, so that first locations spread.
    private let rotation = Atomic<Int>(0)
    private let maximumHeldQueries: Int
    private let maximumHeldBytes: Int
    private let queries = Mutex(HeldQueries())

    /// The queries waiting for reads, with the total of their held bytes kept as entries come
    /// and go, and expired entries swept at most once a second: planning a query must not cost
    /// a pass over every waiting one.
    private struct HeldQueries {
        private(set) var entries: [[UInt8]: HeldQuery] = [:]
        private(set) var bytes = 0
        private var lastSweep: Int64 = 0

        subscript(id: [UInt8]) -> HeldQuery? {
            get { entries[id] }
            set {
                bytes -= entries[id]?.bytes ?? 0
                bytes += newValue?.bytes ?? 0
                entries[id] = newValue
            }
        }

        mutating func remove(_ id: [UInt8]) -> HeldQuery? {
            let removed = entries.removeValue(forKey: id)
            bytes -= removed?.bytes ?? 0
            return removed
        }

        /// Drops expired queries that no read is running on.
        mutating func sweep(now: Int64) {
            guard now > lastSweep else { return }
            lastSweep = now
            for (id, query) in entries where query.expiry <= now && query.running.isEmpty { _ = remove(id) }
        }
    }

    private struct HeldQuery {
        var schema: Schema
        var producers: [@Sendable (RecordBatchSink) async throws -> Void]
        var expiry: Int64
        var running: [UInt64: Task<Void, any Error>] = [:]
        var unread: Set<UInt32>
        var bytes: Int
        /// Partitions being read now: a second read of one waits its turn by failing.
        var reading: Set<UInt32> = []
    }

    let nextRunID = Atomic<UInt64>(0)
    let activeStreams = Atomic<Int>(0)
    /// Bytes one pushed partition holds at most on its way to the reader (one batch at least).
    let pushCapacity: Int
    /// How long a producer waits for its reader, and a reader for its producer.
    let pushWaitTimeout: Duration
    /// Pushed partitions a node holds at once at most.
    let maximumPushSlots = 1024
    let pushes = Mutex(PushTable())
    let activity = Mutex(QueryActivity())

    package init(secret: [UInt8], ticketLifetime: Duration, runners: [String: any PartitionRunner],
                 maximumHeldQueries: Int, maximumHeldBytes: Int,
                 pushCapacity: Int = 8 << 20, pushWaitTimeout: Duration = .seconds(60)) {
        self.pushCapacity = pushCapacity
        self.pushWaitTimeout = pushWaitTimeout
        self.maximumHeldQueries = maximumHeldQueries
        self.maximumHeldBytes = maximumHeldBytes
        self.secret = secret
        self.ticketLifetime = max(1, ticketLifetime.components.seconds)
        self.runners = Mutex(runners)
    }

    func register(_ runner: any PartitionRunner, forKind kind: String) {
        runners.withLock { $0[kind] = runner }
    }

    private func runner(_ kind: String) -> (any PartitionRunner)? { runners.withLock { $0[kind] } }

    var heldQueryCount: Int { queries.withLock { $0.entries.count } }

    /// The locations of a pull partition that names no nodes: every member, the least busy
    /// first (by their last published `activeStreams`), and among equally busy ones starting
    /// with a different one for each partition and each query, so that reads spread evenly; a
    /// client that fails on one location tries the next member.
    private func spread(_ members: [NodeInfo], partition: Int, start: Int) -> [Location] {
        let located = members.filter { $0.location != nil }
        guard !located.isEmpty else { return [] }
        let count = located.count
        let turned = { (index: Int) in (index - start % count + count) % count }
        let order = located.indices.sorted { a, b in
            located[a].activeStreams != located[b].activeStreams
                ? located[a].activeStreams < located[b].activeStreams : turned(a) < turned(b)
        }
        let first = partition % count
        return (order[first...] + order[..<first]).compactMap { located[$0].location }
    }

    /// The partitions this node is streaming now.
    var activeStreamCount: Int { activeStreams.load(ordering: .relaxed) }

    /// Plans `query` on `planner` over `members` (the planner among them).
    package func plan(_ query: some DistributedQuery, for descriptor: FlightDescriptor,
                      planner node: NodeInfo, members: [NodeInfo]) async throws -> QueryPlan {
        let now = Int64(Date().timeIntervalSince1970)
        let expiry = now + ticketLifetime
        let schema = query.schema
        let partitions = try await query.partitions(over: members)
        let queryID = FlightCrypto.randomBytes(16)
        var producers: [@Sendable (RecordBatchSink) async throws -> Void] = []
        var endpoints: [FlightEndpoint] = []
        let here = node.location.map { [$0] } ?? []
        let start = rotation.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        var targets: [PushTarget] = []
        var planned: [(PushTarget, @Sendable (RecordBatchSink) async throws -> Void)] = []
        for partition in partitions {
            let ticket: ManagerTicket
            var locations = here
            switch partition {
            case .local(let produce):
                ticket = ManagerTicket(queryID: queryID, partition: UInt32(producers.count), expiry: expiry, body: .held)
                producers.append(produce)
            case .push(let to, let produce):
                let target = pushTarget(queryID: queryID, partition: endpoints.count, expiry: expiry, schema: schema, to: to)
                ticket = ManagerTicket(queryID: queryID, partition: UInt32(endpoints.count), expiry: expiry, body: .pushRead(node: to.id, schema: schema))
                if let location = to.location { locations = [location] }
                planned.append((target, produce))
            case .external(let to):
                let serving = to ?? members[(start + endpoints.count) % max(1, members.count)]
                let target = pushTarget(queryID: queryID, partition: endpoints.count, expiry: expiry, schema: schema, to: serving)
                ticket = ManagerTicket(queryID: queryID, partition: UInt32(endpoints.count), expiry: expiry, body: .pushRead(node: serving.id, schema: schema))
                if let location = serving.location { locations = [location] }
                targets.append(target)
            case .pull(let task, let nodes):
                guard runner(task.kind) != nil else {
                    throw FlightError(.internal, "no partition runner for task kind '\(task.kind)'")
                }
                guard task.kind.utf8.count <= Int(UInt16.max) else {
                    throw FlightError(.invalidArgument, "partition task kind is too long")
                }
                ticket = ManagerTicket(queryID: queryID, partition: UInt32(endpoints.count), expiry: expiry, body: .pull(task, schema: schema))
                let offered = nodes.isEmpty ? spread(members, partition: endpoints.count, start: start) : nodes.compactMap(\.location)
                if !offered.isEmpty { locations = offered }
            }
            // A pull partition may be read again, on any node, until its ticket expires, and gives
            // the same batches each time: its endpoint says so, for readers that resume.
            let pull = if case .pull = ticket.body { true } else { false }
            let reusableUntil: Date? = pull ? Date(timeIntervalSince1970: TimeInterval(expiry)) : nil
            endpoints.append(FlightEndpoint(ticket: Ticket(ticket.encoded(secret: secret)), locations: locations,
                                            expirationTime: reusableUntil, appMetadata: pull ? FlightEndpoint.replayableMetadata : []))
        }
        try queries.withLock { held throws(FlightError) in
            held.sweep(now: now)
            guard producers.isEmpty || held.entries.count < maximumHeldQueries else {
                throw FlightError(.resourceExhausted, "\(held.entries.count) planned queries wait to be read; read or cancel some first")
            }
            let bytes = query.heldBytes
            guard bytes == 0 || held.bytes + bytes <= maximumHeldBytes else {
                throw FlightError(.resourceExhausted, "\(held.bytes) bytes of results wait to be read; read or cancel some first")
            }
            if !producers.isEmpty {
                held[queryID] = HeldQuery(schema: schema, producers: producers, expiry: expiry,
                                          unread: Set(0..<UInt32(producers.count)), bytes: bytes)
            }
        }
        for (target, produce) in planned {
            startProducing(target, queryID: queryID, schema: schema, planner: node, produce: produce)
        }
        return QueryPlan(info: FlightInfo(schema: schema, descriptor: descriptor, endpoints: endpoints), pushTargets: targets)
    }

    /// Writes the partition `ticket` names to `writer`, on the node named `servingNode`.
    func stream(_ ticket: Ticket, to writer: FlightRecordBatchWriter, context: FlightCallContext, servingNode: String) async throws {
        let decoded = try ManagerTicket(decoding: ticket.bytes, secret: secret)
        try checkNotCancelled(decoded.queryID)
        activeStreams.add(1, ordering: .relaxed)
        defer { activeStreams.subtract(1, ordering: .relaxed) }
        switch decoded.body {
        case .pull(let task, let schema):
            guard let runner = runner(task.kind) else {
                throw FlightError(.internal, "no partition runner for task kind '\(task.kind)'")
            }
            try await runCancellable(queryID: decoded.queryID) {
                try await writer.begin(schema)
                try await runner.run(task, into: RecordBatchSink(schema: schema) { try await writer.write($0) })
            }
        case .held:
            try await streamHeld(decoded, to: writer)
        case .pushRead(let node, let schema):
            try await streamPushed(decoded, node: node, schema: schema, servingNode: servingNode, to: writer)
        case .pushWrite:
            throw FlightError(.notFound, "unknown or malformed ticket (this is a put descriptor)")
        }
    }

    private func streamHeld(_ ticket: ManagerTicket, to writer: FlightRecordBatchWriter) async throws {
        let runID = nextRunID.add(1, ordering: .relaxed).newValue
        let started: Task<Void, any Error> = try queries.withLock { held throws(FlightError) in
            guard var query = held[ticket.queryID], query.unread.contains(ticket.partition) else {
                throw FlightError(.notFound, "the partition of this ticket was already read, or its query was cancelled or has expired")
            }
            guard !query.reading.contains(ticket.partition) else {
                throw FlightError(.failedPrecondition, "the partition of this ticket is being read by another call")
            }
            query.reading.insert(ticket.partition)
            let produce = query.producers[Int(ticket.partition)]
            let sink = RecordBatchSink(schema: query.schema) { try await writer.write($0) }
            let schema = query.schema
            let task = Task {
                try await writer.begin(schema)
                try await produce(sink)
            }
            query.running[runID] = task
            held[ticket.queryID] = query
            return task
        }
        defer {
            queries.withLock { held in
                held[ticket.queryID]?.running.removeValue(forKey: runID)
                held[ticket.queryID]?.reading.remove(ticket.partition)
            }
        }
        try await Self.wait(for: started)
        // Read to the end: the partition is done, and the query once every partition is.
        queries.withLock { held in
            held[ticket.queryID]?.unread.remove(ticket.partition)
            if held[ticket.queryID]?.unread.isEmpty == true { _ = held.remove(ticket.queryID) }
        }
    }

    /// The queries `info`'s tickets belong to (ours, expired ones included), with the last expiry.
    func queries(of info: FlightInfo) -> [[UInt8]: Int64] {
        var found: [[UInt8]: Int64] = [:]
        for endpoint in info.endpoints {
            guard let ticket = try? ManagerTicket(decoding: endpoint.ticket.bytes, secret: secret, now: Int64.min) else { continue }
            found[ticket.queryID] = max(found[ticket.queryID] ?? 0, ticket.expiry)
        }
        return found
    }

    /// Cancels the queries behind `info` on this node: `.cancelled`, or `.notCancellable`
    /// when they were cancelled before (or the tickets are not ours).
    func cancel(_ info: FlightInfo) async -> CancelStatus {
        var cancelled = false
        for (id, expiry) in queries(of: info) where cancelQuery(id, expiry: expiry) { cancelled = true }
        if cancelled { await tellRunners(cancelled: info) }
        return cancelled ? .cancelled : .notCancellable
    }

    /// Hands each pull task of `info` (tickets of ours, expired or not) to its runner's
    /// `cancelled`: once, by the node where the cancel arrived.
    func tellRunners(cancelled info: FlightInfo) async {
        var seen = Set<PartitionTask>()
        for endpoint in info.endpoints {
            guard let ticket = try? ManagerTicket(decoding: endpoint.ticket.bytes, secret: secret, now: Int64.min),
                  case .pull(let task, _) = ticket.body, seen.insert(task).inserted else { continue }
            await runner(task.kind)?.cancelled(task)
        }
    }

    /// Stops the query `id` on this node: its held partitions are dropped, running streams and
    /// producers stop, pushed partitions fail, and its tickets are refused until `expiry`.
    /// False when it was cancelled already.
    @discardableResult
    func cancelQuery(_ id: [UInt8], expiry: Int64) -> Bool {
        let held = queries.withLock { $0.remove(id) }
        for task in held?.running.values ?? [:].values { task.cancel() }
        let (isNew, stops) = activity.withLock { activity in
            let isNew = activity.cancelled.updateValue(expiry, forKey: id) == nil
            return (isNew, activity.running.removeValue(forKey: id).map { Array($0.values) } ?? [])
        }
        for stop in stops { stop() }
        failPushes(of: id, FlightError(.cancelled, "the query was cancelled"))
        return isNew
    }
}
