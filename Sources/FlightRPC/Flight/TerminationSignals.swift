import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGINT or SIGTERM. Their default action (ending the process at once) is replaced
/// by dispatch sources, so the server can send GOAWAY and let running calls finish first.
public final class TerminationSignals: @unchecked Sendable {
    // The sources are created and resumed in `init` and only kept alive afterwards; the state
    // is behind the mutex. That is why the class can be shared across tasks.
    private var sources: [any DispatchSourceSignal] = []
    private let state = Mutex<(received: Int32?, waiter: CheckedContinuation<Int32, Never>?)>((nil, nil))

    /// Starts listening; from here on SIGINT and SIGTERM no longer end the process.
    public init() {
        let queue = DispatchQueue(label: "swift-arrow-flight.signals")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.received(number) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    private func received(_ number: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Int32, Never>? in
            guard state.received == nil else { return nil }
            state.received = number
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: number)
    }

    /// The first signal that arrives (at once, if one already has).
    public func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Int32? in
                if let received = state.received { return received }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
