import ArrowCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// One HTTP/2 connection to a gRPC server, on which calls are opened.
final class GRPCClientConnection: @unchecked Sendable {
    let connection: HTTP2Connection
    let authority: String
    let scheme: String

    private init(connection: HTTP2Connection, authority: String, scheme: String) {
        self.connection = connection
        self.authority = authority
        self.scheme = scheme
    }

    /// Connects, completes TLS (when `tls` is given) and starts HTTP/2.
    static func connect(_ address: SocketAddress, tls: TLSContext?, serverName: String?, group: EventLoopGroup,
                        settings: HTTP2Settings) async throws -> GRPCClientConnection {
        // Name resolution, connect and the TLS handshake block; they run on a thread of their own
        // so that they never hold one of Swift's cooperative threads.
        let (fd, session) = try await runOnOwnThread { () throws -> Connected in
            let fd = try Socket.connect(address, timeout: settings.connectTimeout)
            guard let tls else { return Connected(fd: fd, tls: nil) }
            do {
                let tlsSession = try TLSConnection(context: tls, fd: fd, serverName: serverName)
                try Socket.withSIGPIPEBlocked { () throws(TransportError) in try blockingHandshake(fd: fd, tls: tlsSession) }
                return Connected(fd: fd, tls: tlsSession)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }.pair
        let loop = group.next()
        let connection = HTTP2Connection(loop: loop, fd: fd, isServer: false, settings: settings, tls: session)
        let authority: String
        switch address {
        case .tcp(let host, let port): authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix: authority = "localhost"
        }
        let started = Promise<TransportError?>()
        loop.execute {
            do throws(TransportError) {
                try connection.start()
                started.fulfill(nil)
            } catch {
                connection.close(reason: "\(error)")
                started.fulfill(error)
            }
        }
        if let error = await started.wait() { throw error }
        return GRPCClientConnection(connection: connection, authority: authority, scheme: tls == nil ? "http" : "https")
    }

    private static func blockingHandshake(fd: Int32, tls: TLSConnection) throws(TransportError) {
        let deadline = ContinuousClock.now + .seconds(30)
        while try !tls.handshake() {
            guard ContinuousClock.now < deadline else { throw .tls("handshake timed out") }
            var descriptor = pollfd(fd: fd, events: Int16(tls.handshakeWantsWrite ? POLLOUT : POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 1000)
        }
    }

    /// Whether the connection is closed.
    var isClosed: Bool {
        get async {
            let answer = Promise<Bool>()
            connection.loop.execute { [connection] in answer.fulfill(connection.isClosed) }
            return await answer.wait()
        }
    }

    /// Opens a call: sends the request headers. `timeout` becomes `grpc-timeout` and is enforced
    /// here too (the call ends with DEADLINE_EXCEEDED).
    func openCall(path: String, metadata: [(String, String)], timeout: Duration?) async throws -> GRPCClientCall {
        var headerList: [(String, String)] = [(":method", "POST"), (":scheme", scheme), (":path", path), (":authority", authority),
                                           ("content-type", "application/grpc"), ("te", "trailers"),
                                           ("user-agent", "swift-arrow-flight")]
        if let timeout {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            headerList.append(("grpc-timeout", GRPCHeaders.formatTimeout(seconds)))
        }
        let headers = headerList + metadata
        let opened = Promise<StreamCore?>()
        let connection = self.connection
        let call = GRPCClientCall(connection: connection)
        connection.loop.execute {
            guard let stream = connection.submitRequest(headers: headers) else {
                opened.fulfill(nil)
                return
            }
            call.attach(stream)
            if let timeout {
                // The loop keeps time even when the cooperative pool is busy; the timer is
                // dropped when the call ends first.
                call.deadlineTimer = connection.loop.schedule(after: timeout) { [weak call] in call?.expire() }
            }
            opened.fulfill(stream)
            connection.flush()
        }
        guard await opened.wait() != nil else {
            let reason = Promise<String>()
            connection.loop.execute { reason.fulfill(connection.endReason ?? "unknown reason") }
            throw FlightError(.unavailable, "the connection is closed: \(await reason.wait())")
        }
        return call
    }

    /// A client dropped without `close()` does not keep its socket.
    deinit { close() }

    /// Closes the connection (open calls fail with UNAVAILABLE).
    func close() {
        connection.loop.execute { [connection] in connection.close(reason: "closed by the client") }
    }
}

/// A connected socket and its TLS session, handed from the connecting thread to the loop.
private struct Connected: @unchecked Sendable {
    let fd: Int32
    let tls: TLSConnection?
    var pair: (Int32, TLSConnection?) { (fd, tls) }
}

/// Work handed to a new thread.
private final class ThreadJob {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `work` on a new thread and returns its result.
func runOnOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let job = Unmanaged.passRetained(ThreadJob {
            do {
                continuation.resume(returning: try work())
            } catch {
                continuation.resume(throwing: error)
            }
        })
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            Unmanaged<ThreadJob>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, job.toOpaque())
        if status == 0 {
            pthread_detach(thread)
        } else {
            job.release()
            continuation.resume(throwing: TransportError.system("pthread_create", status))
        }
    }
}

/// One outgoing gRPC call.
final class GRPCClientCall: @unchecked Sendable {
    let connection: HTTP2Connection
    private(set) var stream: StreamCore?
    private(set) var responses: GRPCInbound?
    /// The response headers (empty for a trailers-only response), once they arrive.
    let headers = Promise<[(name: String, value: String)]>()
    /// The final status (code OK for success) with trailing metadata.
    let status = Promise<FlightError>()
    private let expired = Atomic<Bool>(false)
    /// The timer that enforces the call's deadline. Loop thread.
    var deadlineTimer: EventLoop.TimerID?

    init(connection: HTTP2Connection) {
        self.connection = connection
    }

    /// Wires the stream's callbacks. Loop thread, before any frame for it is processed.
    func attach(_ stream: StreamCore) {
        self.stream = stream
        responses = connection.makeInbound(for: stream)
        stream.onHeaders = { [self] stream in
            headers.fulfill(stream.responseHeaders.filter { !isReservedHeader($0.0) }.map { (name: $0.0, value: $0.1) })
        }
        stream.onClose = { [self] stream in
            if let deadlineTimer { connection.loop.cancelTimer(deadlineTimer) }
            headers.fulfill([])
            status.fulfill(finalStatus(stream))
        }
    }

    private func finalStatus(_ stream: StreamCore) -> FlightError {
        if expired.load(ordering: .acquiring) { return FlightError(.deadlineExceeded, "deadline exceeded") }
        var code: Int?
        var message = ""
        var metadata: [(name: String, value: String)] = []
        for (name, value) in stream.trailers {
            switch name {
            case "grpc-status": code = Int(value)
            case "grpc-message": message = GRPCHeaders.decodeMessage(value)
            case "grpc-status-details-bin": metadata.append((name, value))
            default: if !isReservedHeader(name) { metadata.append((name, value)) }
            }
        }
        if let code {
            return FlightError(FlightError.Code(rawValue: code) ?? .unknown, message, metadata: metadata)
        }
        if let error = stream.closeError { return error }
        let httpStatus = stream.responseHeaders.first { $0.0 == ":status" }?.1 ?? "none"
        return FlightError(httpStatus == "200" ? .internal : .unavailable,
                           "the server ended the call without a gRPC status (HTTP status \(httpStatus))")
    }

    /// The response messages.
    var messages: GRPCInbound {
        responses ?? GRPCInbound(base: AsyncThrowingStream { $0.finish() }, onConsumed: { _ in })
    }

    /// Sends one request message made of `parts`.
    func send(_ parts: [Buffer]) async throws {
        guard let stream else { throw FlightError(.internal, "the call has no stream") }
        let length = parts.reduce(0) { $0 + $1.count }
        do {
            try await connection.send([GRPCMessageAssembler.prefix(length: length)] + parts, on: stream)
        } catch {
            // The server may have ended the call; its status says why.
            let final = await status.wait()
            throw final.code == .ok ? FlightError(.internal, "the server closed the call early") : final
        }
    }

    /// Ends the request stream (END_STREAM).
    func closeSend() {
        guard let stream else { return }
        connection.loop.execute { [connection] in connection.finishOutbound(stream, trailers: nil) }
    }

    /// Cancels the call (RST_STREAM CANCEL).
    func cancel() {
        guard let stream else { return }
        connection.loop.execute { [connection] in connection.reset(stream) }
    }

    fileprivate func expire() {
        guard status.current == nil else { return }
        expired.store(true, ordering: .releasing)
        cancel()
    }
}
