#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import ArrowCore
import Synchronization

/// Something registered with an event loop for readiness events on a file descriptor.
/// Called on the loop's thread only.
protocol EventHandler: AnyObject {
    func handleEvents(_ events: UInt32)
    /// The loop is stopping: release what is held. Loop thread.
    func loopStopped()
}

extension EventHandler {
    func loopStopped() {}
}

/// One I/O thread: it waits on its own epoll set and runs the handlers of the descriptors
/// registered with it, plus work other threads hand it through `execute`.
///
/// A connection lives on one loop, and only that loop touches its state (its nghttp2 session
/// above all). Other threads talk to it with `execute`, which appends to a locked queue and
/// wakes the loop through an eventfd.
final class EventLoop: @unchecked Sendable {
    private let epollFD: Int32
    private let wakeFD: Int32
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let stopped = Atomic<Bool>(false)
    /// Loop thread only.
    private var handlers: [Int32: any EventHandler] = [:]
    /// Work to run once this iteration's events and queued work are done. Loop thread only.
    private var endOfIteration: [() -> Void] = []
    private let threadID = Mutex<pthread_t?>(nil)
    private let name: String
    /// Timers, soonest last, so that the due ones come off the end. Any thread, under the lock.
    private let timers = Mutex<(next: TimerID, entries: [(deadline: ContinuousClock.Instant, id: TimerID, work: @Sendable () -> Void)])>((1, []))

    /// Names a scheduled timer, for `cancelTimer`.
    typealias TimerID = UInt64

    /// Creates and starts a loop thread.
    init(name: String) throws(TransportError) {
        self.name = name
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw .system("epoll_create1", errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            close(epollFD)
            throw .system("eventfd", errno)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else { throw .system("epoll_ctl", errno) }
        try startThread(name: name)
    }

    private func startThread(name: String) throws(TransportError) {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let loop = Unmanaged<EventLoop>.fromOpaque(argument).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        guard result == 0 else {
            box.release()
            throw .system("pthread_create", result)
        }
        pthread_detach(thread)
        threadID.withLock { $0 = thread }
    }

    /// Whether the caller runs on this loop's thread.
    var inLoop: Bool {
        threadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Runs `work` on the loop thread, soon. Safe from any thread.
    func execute(_ work: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs `work` on the loop thread once `delay` has passed. Safe from any thread.
    ///
    /// Timeouts of the transport (handshakes, call deadlines) use this rather than a sleeping
    /// task: the loop thread keeps time even when every thread of Swift's cooperative pool is
    /// busy with other work.
    @discardableResult
    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> TimerID {
        let deadline = ContinuousClock.now + delay
        let id = timers.withLock { timers in
            let id = timers.next
            timers.next += 1
            var low = 0, high = timers.entries.count
            while low < high {
                let middle = (low + high) / 2
                if timers.entries[middle].deadline > deadline { low = middle + 1 } else { high = middle }
            }
            timers.entries.insert((deadline, id, work), at: low)
            return id
        }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
        return id
    }

    /// Drops a timer that has not run yet, so that what it holds is freed now. Safe from any
    /// thread; a timer that has run or was dropped already is ignored.
    func cancelTimer(_ id: TimerID) {
        timers.withLock { timers in
            if let index = timers.entries.lastIndex(where: { $0.id == id }) { timers.entries.remove(at: index) }
        }
    }

    /// The epoll timeout until the soonest timer, in milliseconds, or -1 without timers.
    private func timeoutUntilNextTimer() -> Int32 {
        guard let next = timers.withLock({ $0.entries.last?.deadline }) else { return -1 }
        let left = next - ContinuousClock.now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    /// Runs the timers that are due. Loop thread.
    private func runDueTimers() {
        let now = ContinuousClock.now
        let due = timers.withLock { timers -> [@Sendable () -> Void] in
            var due: [@Sendable () -> Void] = []
            while let last = timers.entries.last, last.deadline <= now {
                due.append(last.work)
                timers.entries.removeLast()
            }
            return due
        }
        for work in due { work() }
    }

    /// Registers `handler` for `events` on `fd`. Loop thread only.
    func register(_ fd: Int32, events: UInt32, handler: any EventHandler) throws(TransportError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw .system("epoll_ctl(ADD)", errno) }
        handlers[fd] = handler
    }

    /// Runs `work` after the events and queued work of this iteration: several changes made
    /// in one iteration then share one flush. Loop thread only.
    func atEndOfIteration(_ work: @escaping () -> Void) {
        endOfIteration.append(work)
    }

    /// Changes the events `fd` is watched for. Loop thread only.
    func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd`. Loop thread only. The caller closes the descriptor.
    func unregister(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        handlers[fd] = nil
    }

    /// Asks the loop to exit after its current iteration.
    func shutdown() {
        stopped.store(true, ordering: .releasing)
        execute {}
    }

    private func run() {
        swift_arrow_flight_name_thread(String(name.prefix(15)))
        // Loop threads do all socket writes (plain and TLS) once a connection is set up.
        Socket.blockSIGPIPE()
        var events = [epoll_event](repeating: epoll_event(), count: 128)
        while !stopped.load(ordering: .acquiring) {
            let timeout = timeoutUntilNextTimer()
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeout) }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<Int(count) {
                let fd = events[i].data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    continue
                }
                handlers[fd]?.handleEvents(events[i].events)
            }
            let work = pending.withLock { queue -> [@Sendable () -> Void] in
                let taken = queue
                queue.removeAll(keepingCapacity: true)
                return taken
            }
            for item in work { item() }
            runDueTimers()
            while !endOfIteration.isEmpty {
                let last = endOfIteration
                endOfIteration.removeAll()
                for item in last { item() }
            }
        }
        // Work queued before the stop (closing connections, waking writers) still runs, and
        // whatever is still registered is told to shut down, so no continuation is left waiting.
        while true {
            let work = pending.withLock { queue -> [@Sendable () -> Void] in
                let taken = queue
                queue.removeAll()
                return taken
            }
            if work.isEmpty && endOfIteration.isEmpty { break }
            for item in work { item() }
            // Flushes scheduled by that work (a last status) still go out.
            let last = endOfIteration
            endOfIteration.removeAll()
            for item in last { item() }
        }
        for handler in handlers.values { handler.loopStopped() }
        for fd in handlers.keys { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
        handlers.removeAll()
    }

    // The descriptors live as long as the object: `execute` may still be called after the loop
    // has stopped, and writing to a closed (and perhaps reused) descriptor would hit another file.
    deinit {
        close(wakeFD)
        close(epollFD)
    }
}

/// A fixed set of event loops; connections are spread over them in turn.
final class EventLoopGroup: Sendable {
    let loops: [EventLoop]
    private let nextIndex = Atomic<Int>(0)

    init(threads: Int, name: String = "flight-io") throws(TransportError) {
        var loops: [EventLoop] = []
        for i in 0..<Swift.max(1, threads) { loops.append(try EventLoop(name: "\(name)-\(i)")) }
        self.loops = loops
    }

    /// The next loop in turn.
    func next() -> EventLoop {
        let i = nextIndex.add(1, ordering: .relaxed).oldValue
        return loops[i % loops.count]
    }

    /// Stops every loop.
    func shutdown() {
        for loop in loops { loop.shutdown() }
    }

    /// The group shared by clients and servers that do not bring their own: two I/O threads.
    static let shared: EventLoopGroup? = try? EventLoopGroup(threads: 2)
}

/// A NUL-terminated C string held in an array.
func cString(_ chars: [CChar]) -> String {
    String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Errors of the transport layer, before they become gRPC statuses.
enum TransportError: Error, CustomStringConvertible {
    case system(String, Int32)
    case tls(String)
    case http2(String)
    case closed(String)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(systemErrorMessage(code))"
        case .tls(let message): "TLS: \(message)"
        case .http2(let message): "HTTP/2: \(message)"
        case .closed(let message): "connection closed: \(message)"
        }
    }
}
