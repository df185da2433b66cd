import Dispatch
import FlightRPC
import FlightSQL
import Synchronization

/// Runs blocking SQLite calls off Swift's cooperative threads, so that a long query never
/// holds up other calls; a cancelled task stops its own piece of work (and only that: another
/// call's statement on the same transaction's connection goes on).
enum SQLiteWork {
    private static let queue = DispatchQueue(label: "swift-arrow-flight.sqlite", attributes: .concurrent)

    static func run<T: Sendable>(on connection: SQLiteConnection, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let id = connection.nextWork()
        return try await withTaskCancellationHandler {
            try Task.checkCancellation()
            return try await runRegardless { try connection.runWork(id, work) }
        } onCancel: {
            connection.cancel(work: id)
        }
    }

    /// Runs `work` even in a cancelled task, without interrupting it: for the clean-up that
    /// must happen however a call ends (rolling back to a savepoint).
    static func runRegardless<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// A lock that suspends instead of blocking: one task at a time uses a connection.
final class AsyncLock: Sendable {
    private let state = Mutex<(locked: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }
}

/// Connections to one database file, reused between calls. At most `maximum` are open; a
/// caller beyond that waits for one to be released.
final class SQLiteConnectionPool: Sendable {
    let path: String
    let readOnly: Bool
    private let maximum: Int
    private let waitTimeout: Duration
    private let state = Mutex<State>(State())

    private struct State {
        var idle: [SQLiteConnection] = []
        var open = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    init(path: String, readOnly: Bool, maximum: Int, waitTimeout: Duration) {
        self.path = path
        self.readOnly = readOnly
        self.maximum = max(1, maximum)
        self.waitTimeout = waitTimeout
    }

    /// A connection for the caller alone until it calls `release`.
    func acquire() async throws -> SQLiteConnection {
        let deadline = ContinuousClock.now + waitTimeout
        while true {
            enum Step { case reuse(SQLiteConnection), open, wait, closed }
            let step = state.withLock { state -> Step in
                if state.closed { return .closed }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.open < maximum {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch step {
            case .reuse(let connection):
                return connection
            case .open:
                do {
                    return try await Task.detached { [path, readOnly] in
                        let connection = try SQLiteConnection(path: path, readOnly: readOnly, create: !readOnly)
                        connection.restrictForClients()
                        return connection
                    }.value
                } catch {
                    dropped()
                    throw FlightError(.unavailable, "cannot open database \(path): \(error)")
                }
            case .wait:
                try Task.checkCancellation()
                guard ContinuousClock.now < deadline else {
                    throw FlightError(.resourceExhausted, "all \(maximum) database connections are busy; try again later")
                }
                let id = state.withLock { state -> UInt64 in
                    state.nextWaiter += 1
                    return state.nextWaiter
                }
                // Wake this waiter at the deadline too, so that it gives up instead of waiting for ever.
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline)
                    self?.wake(id)
                }
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        // The deadline may have passed before the timer found this waiter.
                        if !state.idle.isEmpty || state.open < maximum || state.closed || ContinuousClock.now >= deadline { return true }
                        state.waiters.append((id, continuation))
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                timer.cancel()
            case .closed:
                throw FlightError(.unavailable, "the database is closed")
            }
        }
    }

    /// Returns a connection. One left inside a transaction is rolled back first; one that
    /// cannot be, or that holds temporary objects a client made, is closed instead.
    func release(_ connection: SQLiteConnection) {
        var reusable = true
        if !connection.isAutocommit {
            reusable = (try? connection.execute("ROLLBACK")) != nil
        }
        if !reusable || connection.hasTemporaryObjects {
            connection.close()
            dropped()
            return
        }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.closed {
                return nil
            }
            state.idle.append(connection)
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst().continuation
        }
        if state.withLock({ $0.closed }) { connection.close() }
        waiter?.resume()
    }

    /// Forgets a connection that was closed instead of released.
    func dropped() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.open -= 1
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst().continuation
        }
        waiter?.resume()
    }

    /// Resumes waiter `id` if it is still waiting (its deadline passed).
    private func wake(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume()
    }

    /// Closes idle connections; connections in use close when released.
    func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.continuation.resume() }
    }
}
