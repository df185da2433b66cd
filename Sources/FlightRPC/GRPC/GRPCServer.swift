import ArrowCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// One incoming gRPC call, as a handler task sees it. Its methods may be called from any task;
/// they hop to the connection's event loop.
final class GRPCServerCall: @unchecked Sendable {
    let connection: HTTP2Connection
    let stream: StreamCore
    /// The method path, `/package.Service/Method`.
    let path: String
    /// Request metadata (lower-case names; reserved headers removed).
    let metadata: [(name: String, value: String)]
    /// When the client's `grpc-timeout` expires, if it sent one.
    let deadline: ContinuousClock.Instant?
    /// The client's address.
    let peer: String
    /// The request messages.
    let requests: GRPCInbound
    private let state = Mutex<(headers: [(String, String)], headersSent: Bool, finished: Bool)>(([], false, false))
    let finished = Promise<FlightError?>()
    let handlerTask = Mutex<Task<Void, Never>?>(nil)

    init(connection: HTTP2Connection, stream: StreamCore, path: String, metadata: [(name: String, value: String)],
         deadline: ContinuousClock.Instant?, requests: GRPCInbound) {
        self.connection = connection
        self.stream = stream
        self.path = path
        self.metadata = metadata
        self.deadline = deadline
        self.peer = connection.peer
        self.requests = requests
    }

    /// Adds response metadata, sent with the response headers (before the first message).
    func addResponseHeaders(_ headers: [(String, String)]) {
        state.withLock { $0.headers.append(contentsOf: headers) }
    }

    private func takeHeaders() -> [(String, String)]? {
        state.withLock { state -> [(String, String)]? in
            guard !state.headersSent else { return nil }
            state.headersSent = true
            return [(":status", "200"), ("content-type", "application/grpc")] + state.headers
        }
    }

    /// Sends one message made of `parts` (the 5-byte prefix is added here). Suspends while the
    /// stream's send queue is above its high-water mark; throws once the call is over.
    func send(_ parts: [Buffer]) async throws {
        let length = parts.reduce(0) { $0 + $1.count }
        let headers = takeHeaders()
        let connection = self.connection, stream = self.stream
        try await connection.send([GRPCMessageAssembler.prefix(length: length)] + parts, on: stream) {
            if let headers { connection.submitResponseHeaders(stream, headers: headers) }
        }
    }

    /// Ends the call with `error`'s status (nil: OK) and trailing metadata. Later calls do nothing.
    func finish(_ error: FlightError?, trailers: [(String, String)] = []) {
        let first = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.finished = true
            return true
        }
        guard first else { return }
        finished.fulfill(error)
        let status = error ?? FlightError(.ok, "")
        var headerList = [("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { headerList.append(("grpc-message", GRPCHeaders.encodeMessage(status.message))) }
        headerList += trailers + status.metadata.map { ($0.name, $0.value) }
        let statusHeaders = headerList
        let headers = takeHeaders()
        let connection = self.connection, stream = self.stream
        connection.loop.execute {
            if let headers {
                connection.submitTrailersOnly(stream, headers: headers + statusHeaders)
            } else {
                connection.finishOutbound(stream, trailers: statusHeaders)
            }
        }
    }
}

/// Accepts connections on a listening socket and hands each new call to a handler task.
final class GRPCServerCore: EventHandler, @unchecked Sendable {
    typealias Handler = @Sendable (GRPCServerCall) async -> Void

    let group: EventLoopGroup
    let acceptLoop: EventLoop
    let listenFD: Int32
    let port: Int
    let tls: TLSContext?
    let settings: HTTP2Settings
    let handler: Handler
    private let connections = Mutex<[ObjectIdentifier: HTTP2Connection]>([:])
    private let closed = Promise<Void>()
    private let stopping = Atomic<Bool>(false)

    init(address: SocketAddress, group: EventLoopGroup, tls: TLSContext?, settings: HTTP2Settings,
         handler: @escaping Handler) throws(TransportError) {
        let (fd, port) = try Socket.listen(address)
        listenFD = fd
        self.port = port
        self.group = group
        acceptLoop = group.next()
        self.tls = tls
        self.settings = settings
        self.handler = handler
        let loop = acceptLoop
        loop.execute { [self] in
            do {
                try loop.register(fd, events: EPOLLIN.rawValue, handler: self)
            } catch {
                Glibc.close(fd)
            }
        }
    }

    func handleEvents(_ events: UInt32) {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno == EMFILE || errno == ENFILE { pauseAccepting() }
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            Socket.setNonBlocking(fd)
            if stopping.load(ordering: .acquiring) {
                Glibc.close(fd)
                continue
            }
            Socket.tune(fd, tcp: true)
            let loop = group.next()
            loop.execute { [self] in start(fd: fd, on: loop) }
        }
    }

    /// Out of descriptors: a level-triggered listener would wake the loop at once, again and
    /// again. Stop watching it for a moment instead.
    private func pauseAccepting() {
        let loop = acceptLoop, fd = listenFD
        loop.unregister(fd)
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(100))
            loop.execute { [self] in
                guard !stopping.load(ordering: .acquiring) else { return }
                try? loop.register(fd, events: EPOLLIN.rawValue, handler: self)
            }
        }
    }

    private func start(fd: Int32, on loop: EventLoop) {
        if let tls {
            do {
                let session = try TLSConnection(context: tls, fd: fd, serverName: nil)
                let handshake = TLSHandshakeHandler(fd: fd, tls: session, loop: loop) { [self] done in
                    if done { startHTTP2(fd: fd, on: loop, tls: session) } else { Glibc.close(fd) }
                }
                try loop.register(fd, events: EPOLLIN.rawValue, handler: handshake)
                handshake.handleEvents(EPOLLIN.rawValue)
                loop.schedule(after: settings.handshakeTimeout) { handshake.timeOut() }
            } catch {
                Glibc.close(fd)
            }
        } else {
            startHTTP2(fd: fd, on: loop, tls: nil)
        }
    }

    private func startHTTP2(fd: Int32, on loop: EventLoop, tls: TLSConnection?) {
        let connection = HTTP2Connection(loop: loop, fd: fd, isServer: true, settings: settings, tls: tls)
        connection.onRequest = { [self] connection, stream in dispatch(connection, stream) }
        connection.onRequestError = { _, stream, error in
            (stream.owner as? GRPCServerCall)?.finish(error)
        }
        connection.onClosed = { [self] connection in
            connections.withLock { $0[ObjectIdentifier(connection)] = nil }
        }
        connections.withLock { $0[ObjectIdentifier(connection)] = connection }
        do {
            try connection.start()
        } catch {
            connection.close(reason: "\(error)")
        }
        loop.schedule(after: settings.handshakeTimeout) { connection.closeIfNoPreface() }
        connection.armIdleTimer()
    }

    /// Validates a new call's headers and starts its handler task. Loop thread.
    private func dispatch(_ connection: HTTP2Connection, _ stream: StreamCore) {
        var path = "", method = "", contentType = "", timeout: Double?
        var metadata: [(name: String, value: String)] = []
        for (name, value) in stream.requestHeaders {
            switch name {
            case ":path": path = value
            case ":method": method = value
            case "content-type": contentType = value
            case "grpc-timeout": timeout = GRPCHeaders.parseTimeout(value)
            default: if !isReservedHeader(name) { metadata.append((name, value)) }
            }
        }
        let requests = connection.makeInbound(for: stream)
        let deadline = timeout.map { ContinuousClock.now + .microseconds(Int64(Swift.min($0, 1e9) * 1e6)) }
        let call = GRPCServerCall(connection: connection, stream: stream, path: path, metadata: metadata,
                                  deadline: deadline, requests: requests)
        stream.owner = call
        stream.onClose = { stream in
            if stream.closeError != nil { call.handlerTask.withLock { $0?.cancel() } }
        }
        guard method == "POST" else {
            call.finish(FlightError(.unimplemented, "method \(method) is not POST"))
            return
        }
        guard contentType.hasPrefix("application/grpc") else {
            call.finish(FlightError(.internal, "content-type \(contentType) is not application/grpc"))
            return
        }
        let handler = self.handler
        let task = Task {
            if let deadline {
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        await handler(call)
                        return true
                    }
                    group.addTask {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        return false
                    }
                    if let first = await group.next(), !first {
                        call.finish(FlightError(.deadlineExceeded, "deadline exceeded"))
                        // The status may sit behind data the client does not read: end the stream,
                        // which also wakes a handler parked on a full send queue.
                        let connection = call.connection, stream = call.stream
                        connection.loop.execute { connection.reset(stream) }
                    }
                    group.cancelAll()
                }
            } else {
                await handler(call)
            }
            call.finish(nil)
        }
        call.handlerTask.withLock { $0 = task }
    }

    /// Stops accepting, sends GOAWAY on every connection and waits until they have closed or
    /// `grace` has passed (then closes them).
    func shutdown(grace: Duration = .seconds(5)) async {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let fd = listenFD
        let loop = acceptLoop
        loop.execute { [self] in
            loop.unregister(fd)
            Glibc.close(fd)
            _ = self
        }
        let all = connections.withLock { Array($0.values) }
        for connection in all { connection.loop.execute { connection.goAway() } }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !connections.withLock({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for connection in connections.withLock({ Array($0.values) }) {
            connection.loop.execute { connection.close(reason: "server shutdown") }
        }
    }
}

/// Drives a server-side TLS handshake on the loop, then hands the socket on. Only its loop
/// touches it; the handshake timer sends it back there, which is why it may cross tasks.
final class TLSHandshakeHandler: EventHandler, @unchecked Sendable {
    let fd: Int32
    let tls: TLSConnection
    let loop: EventLoop
    var completion: ((Bool) -> Void)?

    init(fd: Int32, tls: TLSConnection, loop: EventLoop, completion: @escaping (Bool) -> Void) {
        self.fd = fd
        self.tls = tls
        self.loop = loop
        self.completion = completion
    }

    func handleEvents(_ events: UInt32) {
        guard let completion else { return }
        do {
            if try tls.handshake() {
                self.completion = nil
                loop.unregister(fd)
                completion(true)
            } else {
                loop.modify(fd, events: EPOLLIN.rawValue | (tls.handshakeWantsWrite ? EPOLLOUT.rawValue : 0))
            }
        } catch {
            self.completion = nil
            loop.unregister(fd)
            completion(false)
        }
    }

    /// Gives up on a handshake that has not finished in time. Loop thread.
    func timeOut() {
        guard let completion else { return }
        self.completion = nil
        loop.unregister(fd)
        completion(false)
    }
}
