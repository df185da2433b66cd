import ArrowCore
import FlightRPC
import Synchronization

/// One pushed partition on the node that serves it: the producer's batches on their way to the
/// reader, with backpressure both ways.
///
/// The producer's `put` suspends while the slot holds `capacity` bytes (one batch at least),
/// so memory is bounded whatever the reader's speed; it fails when no reader has come within
/// `waitTimeout` of its first blocked put, or a reader stops reading that long. The reader's
/// `next` suspends until a batch arrives; it fails when no producer comes, or the producer
/// stalls, for `waitTimeout`. The reader's stream ends without error only after the producer
/// declared its totals and they matched what arrived.
final class PushSlot: Sendable {
    let schema: Schema
    let expiry: Int64
    let capacity: Int
    let waitTimeout: Duration
    private let state = Mutex(State())

    private struct State {
        var queue: [RecordBatch] = []
        var head = 0
        var bytes = 0
        var batches = 0
        var rows = 0
        var producing = false
        var reading = false
        var complete = false
        var failure: FlightError?
        var readerWaiter: CheckedContinuation<Void, Never>?
        var producerWaiter: CheckedContinuation<Void, Never>?
        /// A wake-up that came while nobody waited: the next wait returns at once.
        var readerWoken = false
        var producerWoken = false

        mutating func wakeReader() -> CheckedContinuation<Void, Never>? {
            defer { readerWaiter = nil }
            if readerWaiter == nil { readerWoken = true }
            return readerWaiter
        }

        mutating func wakeProducer() -> CheckedContinuation<Void, Never>? {
            defer { producerWaiter = nil }
            if producerWaiter == nil { producerWoken = true }
            return producerWaiter
        }
    }

    private enum Side { case reader, producer }

    init(schema: Schema, expiry: Int64, capacity: Int, waitTimeout: Duration) {
        self.schema = schema
        self.expiry = expiry
        self.capacity = capacity
        self.waitTimeout = waitTimeout
    }

    /// The batches and rows received so far.
    var received: (batches: Int, rows: Int) { state.withLock { ($0.batches, $0.rows) } }

    /// Claims the producer's side; a second producer is refused.
    func attachProducer() throws(FlightError) {
        try state.withLock { state throws(FlightError) in
            if let failure = state.failure { throw failure }
            guard !state.producing, !state.complete else {
                throw FlightError(.failedPrecondition, "this partition is already being pushed by another producer")
            }
            state.producing = true
        }
    }

    /// Claims the reader's side; a second reader is refused.
    func attachReader() throws(FlightError) {
        let waiter = try state.withLock { state throws(FlightError) -> CheckedContinuation<Void, Never>? in
            if let failure = state.failure { throw failure }
            guard !state.reading else { throw FlightError(.failedPrecondition, "this partition is being read by another call") }
            state.reading = true
            return state.wakeProducer()
        }
        waiter?.resume()
    }

    /// Stores one batch (already checked against the schema), waiting while the slot is full.
    func put(_ batch: RecordBatch) async throws {
        let size = batch.bufferBytes
        while true {
            // A cancelled call (the producer reset its stream) stops here, not in a loop of
            // waits that return at once.
            try Task.checkCancellation()
            let outcome = state.withLock { state -> Result<CheckedContinuation<Void, Never>?, FlightError>? in
                if let failure = state.failure { return .failure(failure) }
                guard state.head == state.queue.count || state.bytes + size <= capacity else { return nil }
                state.queue.append(batch)
                state.bytes += size
                state.batches += 1
                state.rows += batch.length
                return .success(state.wakeReader())
            }
            switch outcome {
            case .success(let waiter)?:
                waiter?.resume()
                return
            case .failure(let error)?:
                throw error
            case nil:
                guard await park(.producer) else {
                    let reading = state.withLock { $0.reading }
                    let error = FlightError(.deadlineExceeded, reading
                        ? "the reader of this partition made no progress for \(waitTimeout)"
                        : "no reader came for this partition within \(waitTimeout)")
                    fail(error)
                    throw error
                }
            }
        }
    }

    /// The producer's declared totals: the slot completes when they match what arrived.
    func finish(batches: Int, rows: Int) throws(FlightError) {
        let (waiter, error) = state.withLock { state -> (CheckedContinuation<Void, Never>?, FlightError?) in
            if let failure = state.failure { return (nil, failure) }
            guard state.batches == batches, state.rows == rows else {
                let message = "the producer declared \(batches) batches and \(rows) rows but sent \(state.batches) and \(state.rows)"
                state.failure = FlightError(.dataLoss, "the partition is incomplete: \(message)")
                return (state.wakeReader(), FlightError(.invalidArgument, message))
            }
            state.complete = true
            return (state.wakeReader(), nil)
        }
        waiter?.resume()
        if let error { throw error }
    }

    /// Ends the slot with `error` (unless it failed already, or `unlessComplete` and the
    /// producer completed it); both sides see it.
    func fail(_ error: FlightError, unlessComplete: Bool = false) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.failure == nil, !(unlessComplete && state.complete) else { return [] }
            state.failure = error
            state.queue = []
            state.head = 0
            state.bytes = 0
            return [state.wakeReader(), state.wakeProducer()].compactMap { $0 }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The next batch for the reader, or nil once the producer completed and all was read.
    func next() async throws -> RecordBatch? {
        while true {
            try Task.checkCancellation()
            let outcome = state.withLock { state -> Result<(RecordBatch?, CheckedContinuation<Void, Never>?), FlightError>? in
                if state.head < state.queue.count {
                    let batch = state.queue[state.head]
                    state.head += 1
                    state.bytes -= batch.bufferBytes
                    if state.head == state.queue.count {
                        state.queue = []
                        state.head = 0
                    } else if state.head > 64 && state.head * 2 > state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .success((batch, state.wakeProducer()))
                }
                if let failure = state.failure { return .failure(failure) }
                if state.complete { return .success((nil, nil)) }
                return nil
            }
            switch outcome {
            case .success(let (batch, waiter))?:
                waiter?.resume()
                return batch
            case .failure(let error)?:
                throw error
            case nil:
                guard await park(.reader) else {
                    let producing = state.withLock { $0.producing }
                    let error = FlightError(.aborted, producing
                        ? "the producer of this partition sent nothing for \(waitTimeout)"
                        : "no producer pushed this partition within \(waitTimeout)")
                    fail(error)
                    throw error
                }
            }
        }
    }

    /// Waits for the other side to act; false when `waitTimeout` passed first. A cancelled
    /// task returns at once (true), and finds out on its next look at the state.
    private func park(_ side: Side) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let now = self.state.withLock { state -> Bool in
                            // Cancelled before the continuation was stored: the handler found
                            // nothing to resume.
                            if Task.isCancelled { return true }
                            switch side {
                            case .reader:
                                if state.readerWoken || state.failure != nil {
                                    state.readerWoken = false
                                    return true
                                }
                                state.readerWaiter = continuation
                            case .producer:
                                if state.producerWoken || state.failure != nil {
                                    state.producerWoken = false
                                    return true
                                }
                                state.producerWaiter = continuation
                            }
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        switch side {
                        case .reader:
                            defer { state.readerWaiter = nil }
                            return state.readerWaiter
                        case .producer:
                            defer { state.producerWaiter = nil }
                            return state.producerWaiter
                        }
                    }
                    waiter?.resume()
                }
                return true
            }
            group.addTask {
                do {
                    try await Task.sleep(for: self.waitTimeout)
                    return false
                } catch {
                    return true
                }
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first || Task.isCancelled
        }
    }
}
