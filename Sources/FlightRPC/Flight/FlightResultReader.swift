import ArrowCore
import Foundation
import Synchronization

/// How ``FlightResultReader`` reads a result.
public struct FlightReadOptions: Sendable {
    /// Endpoints read at the same time.
    public var parallelism: Int
    /// Bytes of batches read but not yet consumed, over every endpoint. A reader that would go
    /// past it waits for the consumer; a batch larger than the budget is let in alone.
    public var byteBudget: Int
    /// Whether batches come in endpoint order: nil follows `FlightInfo.ordered`. Unordered
    /// batches come as they arrive.
    public var ordered: Bool?
    /// Options of every call (headers, timeout).
    public var callOptions: FlightCallOptions
    /// How many times one endpoint's read may be started again at another location after its
    /// stream broke.
    public var maximumFailovers: Int
    /// Whether an endpoint whose `expirationTime` has passed is renewed (RenewFlightEndpoint)
    /// before it is read, where the server offers it.
    public var renewsExpiredEndpoints: Bool

    public init(parallelism: Int = 8, byteBudget: Int = 64 << 20, ordered: Bool? = nil, callOptions: FlightCallOptions = FlightCallOptions(),
                maximumFailovers: Int = 4, renewsExpiredEndpoints: Bool = true) {
        self.parallelism = parallelism
        self.byteBudget = byteBudget
        self.ordered = ordered
        self.callOptions = callOptions
        self.maximumFailovers = maximumFailovers
        self.renewsExpiredEndpoints = renewsExpiredEndpoints
    }
}

/// How far a read has come.
public struct FlightReadProgress: Sendable, Hashable {
    /// Rows handed to the consumer.
    public var rows: Int = 0
    /// Bytes of the batches handed to the consumer (their Arrow buffers).
    public var bytes: Int = 0
    /// Batches handed to the consumer.
    public var batches: Int = 0
    /// Endpoints read to their end.
    public var endpointsDone: Int = 0
    /// Endpoints of the result.
    public var endpoints: Int = 0
    /// Reads started again at another location after a stream broke.
    public var failovers: Int = 0

    public init() {}
}

extension FlightEndpoint {
    /// The `app_metadata` by which an endpoint says that every location gives the same batches
    /// in the same order, each time it is read: a reader whose stream broke after n batches may
    /// read the endpoint again elsewhere and skip n. The UTF-8 bytes `arrow-flight-replayable`,
    /// alone or followed by `;` and anything else.
    public static let replayableMetadata: [UInt8] = Array("arrow-flight-replayable".utf8)

    /// Whether the endpoint's `app_metadata` says it can be replayed (``replayableMetadata``).
    public var isReplayable: Bool {
        let marker = Self.replayableMetadata
        guard appMetadata.count >= marker.count, appMetadata.starts(with: marker) else { return false }
        return appMetadata.count == marker.count || appMetadata[marker.count] == UInt8(ascii: ";")
    }
}

/// Reads every endpoint of a Flight result as one sequence of record batches: endpoints in
/// parallel (up to ``FlightReadOptions/parallelism``), memory bounded by
/// ``FlightReadOptions/byteBudget`` (a slow consumer slows the reads), in endpoint order when
/// the result is ordered.
///
/// Each endpoint is read from the first of its locations that answers: the connection the
/// result came on when it names none (or `arrow-flight-reuse-connection://?`), otherwise one
/// connection per location, opened once (``FlightConnectionPool``). A location that fails to
/// connect or to start the stream is passed over for the next. When a stream breaks after
/// some batches (the node died, the connection was reset), the endpoint is read again from
/// its next location and the batches already delivered are skipped, so that every row comes
/// exactly once. That needs the endpoint to give the same batches again: it must say so
/// (``FlightEndpoint/isReplayable``, which the pull partitions of our servers do); otherwise
/// the read fails with `UNAVAILABLE` naming the endpoint, rather than guess.
///
/// ```swift
/// let reader = FlightResultReader(info, pool: FlightConnectionPool(primary: client))
/// for try await batch in reader { … }
/// ```
///
/// A reader is iterated once. Dropping it, or ``cancel()``, stops the reads.
public final class FlightResultReader: AsyncSequence, Sendable {
    public typealias Element = RecordBatch

    /// The result being read.
    public let info: FlightInfo
    /// The connections used.
    public let pool: FlightConnectionPool
    private let reads: EndpointReads
    private let driver = Mutex<Task<Void, Never>?>(nil)
    /// Whether the pool is the reader's own, closed with it.
    private let ownsPool: Bool

    /// A reader of `info`'s endpoints through `pool`, which stays open after the reader.
    public convenience init(_ info: FlightInfo, pool: FlightConnectionPool, options: FlightReadOptions = FlightReadOptions()) {
        self.init(info, pool: pool, options: options, ownsPool: false)
    }

    /// A reader of `info`'s endpoints over `client` and the connections it opens to other
    /// locations with `clientOptions`, which it closes when it is dropped.
    public convenience init(_ info: FlightInfo, client: FlightClient, clientOptions: FlightClientOptions = FlightClientOptions(),
                            options: FlightReadOptions = FlightReadOptions()) {
        self.init(info, pool: FlightConnectionPool(primary: client, options: clientOptions), options: options, ownsPool: true)
    }

    private init(_ info: FlightInfo, pool: FlightConnectionPool, options: FlightReadOptions, ownsPool: Bool) {
        self.info = info
        self.pool = pool
        self.ownsPool = ownsPool
        reads = EndpointReads(info, pool: pool, options: options)
    }

    deinit {
        cancel()
        if ownsPool { pool.close() }
    }

    /// The result's schema.
    public var schema: Schema { info.schema }

    /// The progress so far; safe to read from any task while the read runs.
    public var progress: FlightReadProgress { reads.progress.withLock { $0 } }

    /// Stops every read; the iteration ends with `CancellationError`.
    public func cancel() {
        reads.queue.fail(CancellationError())
        driver.withLock { $0 }?.cancel()
    }

    /// Iterates the batches.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: FlightResultReader

        /// The next batch, or nil once every endpoint was read to its end. Throws the first
        /// error of any endpoint, which stops the others.
        public mutating func next() async throws -> RecordBatch? {
            reader.start()
            return try await reader.reads.queue.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: self) }

    /// Hands every batch to `body`, in the order of the iteration.
    public func forEach(_ body: (RecordBatch) async throws -> Void) async throws {
        for try await batch in self { try await body(batch) }
    }

    /// Every batch, kept in memory.
    public func readAll() async throws -> [RecordBatch] {
        var out: [RecordBatch] = []
        for try await batch in self { out.append(batch) }
        return out
    }

    private func start() {
        driver.withLock { driver in
            guard driver == nil else { return }
            // The task holds the reads, not the reader: a reader dropped mid-way stops them.
            driver = Task { [reads] in
                do {
                    try await reads.run()
                } catch {
                    reads.queue.fail(error)
                }
            }
        }
    }
}

/// The reads of a result's endpoints, run by ``FlightResultReader``'s task.
final class EndpointReads: Sendable {
    let info: FlightInfo
    let pool: FlightConnectionPool
    let options: FlightReadOptions
    let queue: ResultQueue
    let progress = Mutex(FlightReadProgress())

    init(_ info: FlightInfo, pool: FlightConnectionPool, options: FlightReadOptions) {
        self.info = info
        self.pool = pool
        self.options = options
        queue = ResultQueue(endpoints: info.endpoints.count, ordered: options.ordered ?? info.ordered, budget: max(1, options.byteBudget))
        progress.withLock { $0.endpoints = info.endpoints.count }
    }

    func run() async throws {
        let parallelism = max(1, options.parallelism)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < info.endpoints.count && next < parallelism {
                let index = next
                group.addTask { try await self.readFailing(endpoint: index) }
                next += 1
            }
            while try await group.next() != nil {
                if next < info.endpoints.count {
                    let index = next
                    group.addTask { try await self.readFailing(endpoint: index) }
                    next += 1
                }
            }
        }
    }

    /// Reads one endpoint; its error ends the whole read at once (the first error is the one
    /// the consumer gets, not the cancellation of the other endpoints that follows it).
    private func readFailing(endpoint index: Int) async throws {
        do {
            try await read(endpoint: index)
        } catch {
            queue.fail(error)
            throw error
        }
    }

    /// Whether a stream that failed with `error` after some batches may have been cut off by
    /// its node or connection rather than refused by the service.
    private static func isBroken(_ error: any Error) -> Bool {
        guard let error = error as? FlightError else { return false }
        switch error.code {
        // CANCELLED is the service's word (the query was cancelled), not a broken link.
        case .unavailable, .internal, .unknown, .aborted: return true
        default: return false
        }
    }

    private func read(endpoint index: Int) async throws {
        var endpoint = info.endpoints[index]
        let candidates = pool.candidates(for: endpoint)
        guard !candidates.isEmpty else {
            throw FlightError(.unavailable, "endpoint \(index) offers only plaintext locations, and this client is on TLS")
        }
        var delivered = 0
        var failovers = 0
        var attempt = 0
        // Each location is tried once to start the read; a read that broke goes on at the next
        // location, round the list, up to the failover limit.
        var unstarted = candidates.count
        while true {
            try Task.checkCancellation()
            if options.renewsExpiredEndpoints, let expiry = endpoint.expirationTime, expiry <= Date() {
                endpoint = await renewed(endpoint)
            }
            let location = candidates[attempt % candidates.count]
            attempt += 1
            var received = 0
            do {
                let client = try await pool.client(for: location)
                let stream = try await client.doGet(endpoint.ticket, options: pool.callOptions(options.callOptions, for: location))
                defer { stream.cancel() }
                if let schema = try await stream.schema(), schema.fields.count != info.schema.fields.count, !info.schema.fields.isEmpty {
                    throw FlightError(.internal, "endpoint \(index) sent \(schema.fields.count) columns where the result has \(info.schema.fields.count)")
                }
                while let batch = try await stream.next() {
                    received += 1
                    // A replayed stream: its first batches were delivered before it broke.
                    if received <= delivered { continue }
                    let bytes = batch.bufferBytes
                    try await queue.push(batch, bytes: bytes, endpoint: index)
                    delivered += 1
                    progress.withLock { progress in
                        progress.rows += batch.length
                        progress.bytes += bytes
                        progress.batches += 1
                    }
                }
                guard received >= delivered else {
                    throw FlightError(.dataLoss, "endpoint \(index) gave \(received) batches when read again, after \(delivered) were delivered")
                }
                queue.finish(endpoint: index)
                progress.withLock { $0.endpointsDone += 1 }
                return
            } catch {
                if Task.isCancelled || error is CancellationError { throw error }
                let broken = Self.isBroken(error)
                // A connection that broke is not kept: the next read there connects again.
                if broken { pool.discard(location) }
                if received == 0 && delivered == 0 {
                    // The location did not answer, or refused to start: the next one may.
                    unstarted -= 1
                    if unstarted > 0 { continue }
                    throw error
                }
                guard broken else { throw error }
                guard endpoint.isReplayable else {
                    throw FlightError(.unavailable, "the stream of endpoint \(index) broke after \(delivered) batches (\(error)), "
                        + "and the endpoint does not say it can be read again without repeating them")
                }
                guard candidates.count > 1 || failovers == 0, failovers < options.maximumFailovers else {
                    throw FlightError(.unavailable, "the stream of endpoint \(index) broke after \(delivered) batches, "
                        + "\(failovers) failovers tried: \(error)")
                }
                failovers += 1
                progress.withLock { $0.failovers += 1 }
            }
        }
    }

    /// `endpoint` renewed on the connection the result came on; unchanged when the service
    /// does not renew endpoints (its DoGet then decides).
    private func renewed(_ endpoint: FlightEndpoint) async -> FlightEndpoint {
        do {
            return try await pool.primary.renewFlightEndpoint(endpoint, options: options.callOptions)
        } catch {
            return endpoint
        }
    }
}

/// The batches read and not yet consumed: one queue per endpoint when the result is ordered,
/// else one for all; with the byte budget the readers wait on.
final class ResultQueue: Sendable {
    private struct Waiting {
        let endpoint: Int
        let batch: RecordBatch
        let bytes: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Each lane's batches with their bytes.
        var queues: [[(batch: RecordBatch, bytes: Int)]]
        var heads: [Int]
        var finished: [Bool]
        /// The endpoint being consumed (ordered), or the next unfinished one.
        var current = 0
        var unfinished: Int
        var buffered = 0
        var failure: (any Error)?
        var consumer: CheckedContinuation<RecordBatch?, any Error>?
        var producers: [Waiting] = []
    }

    private let ordered: Bool
    private let budget: Int
    private let state: Mutex<State>

    init(endpoints: Int, ordered: Bool, budget: Int) {
        self.ordered = ordered
        self.budget = budget
        let lanes = ordered ? endpoints : 1
        state = Mutex(State(queues: Array(repeating: [], count: lanes), heads: Array(repeating: 0, count: lanes),
                            finished: Array(repeating: false, count: endpoints), unfinished: endpoints))
    }

    private func lane(_ endpoint: Int) -> Int { ordered ? endpoint : 0 }

    /// The bytes of the batches queued now.
    var bufferedBytes: Int { state.withLock { $0.buffered } }

    /// Whether a batch of `bytes` from `endpoint` may be queued now.
    private func admits(_ state: State, endpoint: Int, bytes: Int) -> Bool {
        if state.buffered + bytes <= budget { return true }
        // Over the budget, the lane being consumed still takes one batch, or the consumer
        // would wait on a reader that waits on it.
        let lane = lane(endpoint)
        let empty = state.heads[lane] == state.queues[lane].count
        return empty && (!ordered || endpoint == state.current)
    }

    private func enqueue(_ state: inout State, _ batch: RecordBatch, endpoint: Int, bytes: Int) {
        let lane = lane(endpoint)
        state.queues[lane].append((batch, bytes))
        state.buffered += bytes
    }

    /// Queues `batch` of `endpoint`, which holds `bytes`, waiting for room in the budget.
    func push(_ batch: RecordBatch, bytes: Int, endpoint: Int) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (wake, result) = state.withLock { state -> (CheckedContinuation<RecordBatch?, any Error>?, Result<Bool, any Error>) in
                    if let failure = state.failure { return (nil, .failure(failure)) }
                    guard admits(state, endpoint: endpoint, bytes: bytes) else {
                        state.producers.append(Waiting(endpoint: endpoint, batch: batch, bytes: bytes, continuation: continuation))
                        return (nil, .success(false))
                    }
                    enqueue(&state, batch, endpoint: endpoint, bytes: bytes)
                    return (takeReady(&state), .success(true))
                }
                switch result {
                case .failure(let error): continuation.resume(throwing: error)
                case .success(true):
                    continuation.resume()
                    deliver(wake)
                case .success(false): break
                }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }

    /// Marks `endpoint` read to its end.
    func finish(endpoint: Int) {
        let (wake, admitted) = state.withLock { state in
            state.finished[endpoint] = true
            state.unfinished -= 1
            advance(&state)
            let admitted = admitWaiting(&state)
            return (takeReady(&state), admitted)
        }
        for producer in admitted { producer.resume() }
        deliver(wake)
    }

    /// Ends the iteration with `error` (the first one wins) and stops every reader.
    func fail(_ error: any Error) {
        let (consumer, producers) = state.withLock { state -> (CheckedContinuation<RecordBatch?, any Error>?, [Waiting]) in
            if state.failure == nil { state.failure = error }
            defer {
                state.consumer = nil
                state.producers = []
                state.queues = state.queues.map { _ in [] }
                state.heads = state.heads.map { _ in 0 }
                state.buffered = 0
            }
            return (state.consumer, state.producers)
        }
        let failure = state.withLock { $0.failure } ?? error
        consumer?.resume(throwing: failure)
        for producer in producers { producer.continuation.resume(throwing: CancellationError()) }
    }

    /// The next batch, waiting for one; nil at the end.
    func next() async throws -> RecordBatch? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RecordBatch?, any Error>) in
                let (result, admitted) = state.withLock { state -> (Result<RecordBatch?, any Error>?, [CheckedContinuation<Void, any Error>]) in
                    if let failure = state.failure { return (.failure(failure), []) }
                    if let batch = pop(&state) { return (.success(batch), admitWaiting(&state)) }
                    if state.unfinished == 0 { return (.success(nil), []) }
                    state.consumer = continuation
                    return (nil, [])
                }
                for producer in admitted { producer.resume() }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }

    /// Moves `current` past endpoints read to their end and consumed.
    private func advance(_ state: inout State) {
        guard ordered else { return }
        while state.current < state.finished.count && state.finished[state.current]
            && state.heads[state.current] == state.queues[state.current].count {
            state.queues[state.current] = []
            state.heads[state.current] = 0
            state.current += 1
        }
    }

    private func pop(_ state: inout State) -> RecordBatch? {
        advance(&state)
        let lane = ordered ? state.current : 0
        guard lane < state.queues.count, state.heads[lane] < state.queues[lane].count else { return nil }
        let (batch, bytes) = state.queues[lane][state.heads[lane]]
        state.heads[lane] += 1
        if state.heads[lane] == state.queues[lane].count {
            state.queues[lane].removeAll(keepingCapacity: true)
            state.heads[lane] = 0
        } else if state.heads[lane] >= 64 && state.heads[lane] * 2 >= state.queues[lane].count {
            state.queues[lane].removeFirst(state.heads[lane])
            state.heads[lane] = 0
        }
        state.buffered -= bytes
        advance(&state)
        return batch
    }

    /// Queues the waiting batches that now fit; returns their readers to wake.
    private func admitWaiting(_ state: inout State) -> [CheckedContinuation<Void, any Error>] {
        var admitted: [CheckedContinuation<Void, any Error>] = []
        var k = 0
        while k < state.producers.count {
            let waiting = state.producers[k]
            if admits(state, endpoint: waiting.endpoint, bytes: waiting.bytes) {
                enqueue(&state, waiting.batch, endpoint: waiting.endpoint, bytes: waiting.bytes)
                admitted.append(waiting.continuation)
                state.producers.remove(at: k)
            } else {
                k += 1
            }
        }
        return admitted
    }

    /// The waiting consumer, if a batch (or the end) is now there for it, with what to give it.
    private func takeReady(_ state: inout State) -> CheckedContinuation<RecordBatch?, any Error>? {
        guard state.consumer != nil else { return nil }
        advance(&state)
        let lane = ordered ? state.current : 0
        let ready = (lane < state.queues.count && state.heads[lane] < state.queues[lane].count) || state.unfinished == 0
        guard ready else { return nil }
        defer { state.consumer = nil }
        return state.consumer
    }

    /// Resumes a consumer that `takeReady` found ready, with the next batch.
    private func deliver(_ consumer: CheckedContinuation<RecordBatch?, any Error>?) {
        guard let consumer else { return }
        let (result, admitted) = state.withLock { state -> (Result<RecordBatch?, any Error>, [CheckedContinuation<Void, any Error>]) in
            if let failure = state.failure { return (.failure(failure), []) }
            if let batch = pop(&state) { return (.success(batch), admitWaiting(&state)) }
            return (.success(nil), [])
        }
        for producer in admitted { producer.resume() }
        consumer.resume(with: result)
    }
}
