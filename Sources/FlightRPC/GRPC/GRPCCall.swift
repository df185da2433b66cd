import ArrowCore
import Synchronization

/// Numbers parked writers so that a cancelled one can be found and woken.
private let writerTickets = Atomic<Int>(0)

/// The messages of one side of a gRPC call, in order, as they arrive. Reading a message gives
/// its flow-control window back to the peer, so a reader that stops reading stops the sender.
struct GRPCInbound: AsyncSequence, Sendable {
    typealias Element = Buffer
    let base: AsyncThrowingStream<Buffer, any Error>
    let onConsumed: @Sendable (Int) -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Buffer, any Error>.AsyncIterator
        let onConsumed: @Sendable (Int) -> Void

        mutating func next() async throws -> Buffer? {
            guard let message = try await base.next() else { return nil }
            onConsumed(message.count)
            return message
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onConsumed: onConsumed)
    }
}

/// A value that arrives once and that any number of tasks can wait for.
final class Promise<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

    func fulfill(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            let waiters = state.waiters
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    var current: Value? { state.withLock { $0.value } }

    func wait() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

extension StreamCore: @unchecked Sendable {}

/// Shared outbound behaviour of client and server calls: queue message bytes on the loop and
/// wait while the stream holds more than its high-water mark.
extension HTTP2Connection {
    func send(_ parts: [Buffer], on stream: StreamCore, before: (@Sendable () -> Void)? = nil) async throws {
        let length = parts.reduce(0) { $0 + $1.count }
        // Below the high-water mark the message is handed to the loop and the sender goes on:
        // a round trip to the loop thread per message costs two thread switches, which for
        // small messages is most of a call's time. Order is kept, as the loop runs its work
        // in the order it was queued. A message that meets a stream closed meanwhile is
        // dropped; the stream's closing reaches the call by its status, and the next send
        // takes the path below and throws.
        let closed = stream.closedForSenders.load(ordering: .acquiring)
        let unsent = stream.unsentBytes.add(length, ordering: .relaxed).newValue
        if !closed && unsent <= settings.outboundHighWater {
            loop.execute { [self] in
                guard !stream.closed && !isClosed else { return }
                before?()
                enqueue(parts, on: stream)
            }
            return
        }
        // A parked writer must wake when its task is cancelled (deadline, client gone), not
        // only when the peer reads.
        let ticket = writerTickets.add(1, ordering: .relaxed).oldValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                loop.execute { [self] in
                    if stream.closed || isClosed {
                        continuation.resume(throwing: stream.closeError ?? FlightError(.cancelled, "the call is closed"))
                        return
                    }
                    before?()
                    enqueue(parts, on: stream)
                    if stream.outboundBytes > settings.outboundHighWater && !stream.closed {
                        stream.writers.append((ticket, continuation))
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            loop.execute {
                guard let index = stream.writers.firstIndex(where: { $0.ticket == ticket }) else { return }
                stream.writers.remove(at: index).continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// An inbound message sequence for `stream`, wired to flow control. Loop thread.
    func makeInbound(for stream: StreamCore) -> GRPCInbound {
        let (messages, continuation) = AsyncThrowingStream.makeStream(of: Buffer.self, throwing: (any Error).self)
        stream.inbound = continuation
        if stream.inboundFinished { continuation.finish() }
        // Reads are reported to the loop only when it holds window back, or once they add up
        // to a quarter of the high-water mark: a report per small message would cost two
        // thread switches each. Unreported bytes stay below a quarter of the mark, so the
        // loop, which may count them as unread, still returns window once the reader has read
        // the rest of what it holds.
        let threshold = max(1, settings.inboundHighWater / 4)
        return GRPCInbound(base: messages) { [self] bytes in
            let unreported = stream.unreportedConsumed.add(bytes, ordering: .relaxed).newValue
            guard stream.windowHeld.load(ordering: .acquiring) || unreported >= threshold else { return }
            let taken = stream.unreportedConsumed.exchange(0, ordering: .relaxed)
            if taken > 0 { loop.execute { [self] in consumed(taken, on: stream) } }
        }
    }
}

/// Metadata names that HTTP/2 or gRPC reserve; they are not passed to applications.
func isReservedHeader(_ name: String) -> Bool {
    name.hasPrefix(":") || name == "content-type" || name == "te" || name == "grpc-timeout" || name == "grpc-encoding"
        || name == "grpc-accept-encoding" || name == "user-agent" || name == "grpc-status" || name == "grpc-message"
        || name == "grpc-status-details-bin"
}
