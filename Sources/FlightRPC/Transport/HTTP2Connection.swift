import ArrowCore
import CNGHTTP2
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Settings of one HTTP/2 connection.
struct HTTP2Settings: Sendable {
    /// The receive window of each stream (bytes a peer may send before we consume them).
    var streamWindow: Int32 = 8 << 20
    /// The receive window of the whole connection.
    var connectionWindow: Int32 = 64 << 20
    /// Bytes of complete but unread messages a stream may hold before we stop granting window.
    var inboundHighWater = 4 << 20
    /// Bytes queued for sending on a stream above which writers wait.
    var outboundHighWater = 4 << 20
    /// The largest gRPC message accepted.
    var maximumReceiveMessageSize = 64 << 20 {
        didSet { maximumPartialBytes = Swift.max(256 << 20, 4 * maximumReceiveMessageSize) }
    }
    /// The bytes of messages being received at once on one connection (each counted at its
    /// declared length, which is what receiving it reserves) above which the stream that starts
    /// one more is refused with RESOURCE_EXHAUSTED: many streams each sending the start of a
    /// large message cannot make the receiver reserve more.
    var maximumPartialBytes = 256 << 20
    /// The most concurrent streams a peer may open.
    var maximumConcurrentStreams: UInt32 = 128
    /// How long a client waits for a TCP connection.
    var connectTimeout: Duration = .seconds(20)
    /// Server: how long a new connection has for its TLS handshake and HTTP/2 preface.
    var handshakeTimeout: Duration = .seconds(10)
    /// Server: how long a connection may go without a stream before it is closed (GOAWAY
    /// first); nil keeps idle connections.
    var idleTimeout: Duration?
    /// Where received messages carry a payload worth aligning (Flight: the Arrow body).
    var messageLayout: MessageLayout?
}

/// Numbers connections (`HTTP2Connection.id`).
private let nextConnectionID = Atomic<UInt64>(0)

/// The state of one HTTP/2 stream carrying a gRPC call. Loop thread only.
final class StreamCore {
    let id: Int32
    var requestHeaders: [(String, String)] = []
    var responseHeaders: [(String, String)] = []
    var trailers: [(String, String)] = []
    var assembler: GRPCMessageAssembler
    /// Delivers inbound messages (or the end, or an error) to the task reading them.
    var inbound: AsyncThrowingStream<Buffer, any Error>.Continuation?
    var inboundFinished = false
    /// Complete messages delivered but not yet read, and window we have not yet returned.
    var queuedInboundBytes = 0
    var heldWindow = 0
    /// Whether `heldWindow` is above zero, for readers off the loop.
    let windowHeld = Atomic<Bool>(false)
    /// Bytes of messages read but not yet reported to the loop (see `makeInbound`).
    let unreportedConsumed = Atomic<Int>(0)

    /// Message bytes senders have handed over that nghttp2 has not taken yet, including those
    /// still on their way to the loop. Read off the loop, so that a sender below the high-water
    /// mark can go on without waiting for the loop (see `HTTP2Connection.send`).
    let unsentBytes = Atomic<Int>(0)
    /// Set when the stream closes, for senders off the loop.
    let closedForSenders = Atomic<Bool>(false)

    /// Outbound message bytes not yet handed to nghttp2, in order.
    var outbound: [Buffer] = []
    var outboundHead = 0
    var outboundBytes = 0
    /// No more messages will be queued.
    var outboundFinished = false
    /// Trailers to send after the last DATA frame (server side).
    var pendingTrailers: [(String, String)]?
    var headersSent = false
    var dataDeferred = false
    var closed = false
    var closeError: FlightError?
    /// Client side: why we reset the stream ourselves (a response broke the framing or the
    /// size limit). It becomes the close error, so the call's status names the real cause
    /// rather than the CANCEL code of our own RST_STREAM.
    var localResetReason: FlightError?
    /// Writers waiting for the outbound queue to drain, by ticket (to cancel one).
    var writers: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    /// Called once when the stream closes (client side: to deliver the status).
    var onClose: ((StreamCore) -> Void)?
    /// Called when response headers arrive (client side).
    var onHeaders: ((StreamCore) -> Void)?
    /// The call object of this stream (server side).
    weak var owner: AnyObject?

    init(id: Int32, maximumMessageSize: Int, layout: MessageLayout? = nil) {
        self.id = id
        assembler = GRPCMessageAssembler(maximumMessageSize: maximumMessageSize, layout: layout)
    }
}

/// One HTTP/2 connection, server or client side, driven by an event loop.
///
/// Only the loop thread touches it. nghttp2 frames are produced into `outboundFrames`; DATA
/// payloads are queued as references to the callers' buffers (no copy) and written with
/// `writev` (or through TLS).
final class HTTP2Connection: EventHandler, @unchecked Sendable {
    let loop: EventLoop
    let fd: Int32
    let isServer: Bool
    let settings: HTTP2Settings
    let peer: String
    /// A number for this connection, unique in the process.
    let id = nextConnectionID.add(1, ordering: .relaxed).newValue
    var tls: TLSConnection?
    private(set) var session: OpaquePointer?
    var streams: [Int32: StreamCore] = [:]
    /// Server side: called with each new call once its request headers are complete.
    var onRequest: ((HTTP2Connection, StreamCore) -> Void)?
    /// Called once when the connection is gone.
    var onClosed: ((HTTP2Connection) -> Void)?
    /// Called once each, on the loop thread, when the connection is gone (after `onClosed`).
    private var closeObservers: [@Sendable () -> Void] = []

    private var small = MutableBuffer(capacity: 16 << 10)
    private var outboundFrames: [Buffer] = []
    private var outboundFramesBytes = 0
    private var readBuffer: UnsafeMutableRawPointer
    private let readBufferSize = 256 << 10
    /// The DATA frame being received (unpadded), and the payload bytes it has still to bring:
    /// while they go to a message whose buffer is placed, the socket is read straight into
    /// that buffer (see `directReadTarget`).
    private var dataFrame: (stream: Int32, remaining: Int)?
    /// Direct reads smaller than this go through `readBuffer`: a syscall for little is dearer
    /// than the copy it saves.
    private static let directReadMinimum = 32 << 10
    /// Bytes read straight into message buffers by every connection of the process, for tests.
    static let directReadBytes = Atomic<Int>(0)
    private var watchingWrite = false
    private(set) var isClosed = false
    /// Whether the peer's first SETTINGS frame (the end of its connection preface) arrived.
    private var peerSettingsReceived = false
    /// Why the connection closed or stopped taking new calls, for error messages.
    private(set) var endReason: String?
    private var goingAway = false
    /// Set while nghttp2 runs (mem_recv or session_send): flushing then is deferred, because
    /// nghttp2 must not be re-entered from its own callbacks.
    private var insideSession = false
    private var flushRequested = false
    private var flushScheduled = false
    /// Streams whose data waits for the outbound queue to drain.
    private var blockedStreams: [Int32] = []
    /// Frames are not produced past this many queued bytes; the socket must drain first.
    private let outboundLimit = 1 << 20

    init(loop: EventLoop, fd: Int32, isServer: Bool, settings: HTTP2Settings, tls: TLSConnection?) {
        self.loop = loop
        self.fd = fd
        self.isServer = isServer
        self.settings = settings
        self.tls = tls
        self.peer = Socket.peerDescription(fd)
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: readBufferSize, alignment: 64)
    }

    deinit {
        readBuffer.deallocate()
        if let session { nghttp2_session_del(session) }
    }

    // MARK: - Setup

    /// Creates the nghttp2 session, registers with the loop and sends our SETTINGS. Loop thread.
    func start() throws(TransportError) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { throw .http2("cannot allocate callbacks") }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_send_callback(callbacks, sendCallback)
        nghttp2_session_callbacks_set_send_data_callback(callbacks, sendDataCallback)
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, beginHeadersCallback)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, headerCallback)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, frameReceivedCallback)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, dataChunkCallback)
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, beginFrameCallback)
        nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks, dataLengthCallback)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, streamCloseCallback)
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, frameNotSentCallback)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, frameSentCallback)

        var options: OpaquePointer?
        guard nghttp2_option_new(&options) == 0, let options else { throw .http2("cannot allocate options") }
        defer { nghttp2_option_del(options) }
        nghttp2_option_set_no_auto_window_update(options, 1)
        nghttp2_option_set_peer_max_concurrent_streams(options, 1024)

        let me = Unmanaged.passUnretained(self).toOpaque()
        var created: OpaquePointer?
        let status = isServer
            ? nghttp2_session_server_new2(&created, callbacks, me, options)
            : nghttp2_session_client_new2(&created, callbacks, me, options)
        guard status == 0, let created else { throw .http2("cannot create session: \(status)") }
        session = created

        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maximumConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(settings.streamWindow)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: 1 << 20),
        ]
        if !isServer {
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindow)
        try loop.register(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, handler: self)
        flush()
    }

    // MARK: - I/O

    func loopStopped() {
        close(reason: "the event loop stopped")
    }

    func handleEvents(_ events: UInt32) {
        if isClosed { return }
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue | EPOLLRDHUP.rawValue) != 0 {
            readAvailable()
        }
        if !isClosed && events & EPOLLOUT.rawValue != 0 {
            flush()
        }
    }

    private func readAvailable() {
        while !isClosed {
            let n: Int
            // Payload of a large message goes straight from the socket to its buffer; nghttp2
            // then sees it there and the assembler keeps it in place (one copy, the kernel's).
            let direct = directReadTarget()
            let into = direct?.baseAddress ?? readBuffer
            let size = direct?.count ?? readBufferSize
            if let tls {
                switch tls.read(into: into, count: size) {
                case .bytes(let count): n = count
                case .wouldBlock:
                    flush()
                    return
                case .closed:
                    close(reason: "peer closed the connection")
                    return
                case .failed(let message):
                    close(reason: message)
                    return
                }
            } else {
                n = Glibc.read(fd, into, size)
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK { break }
                    if errno == EINTR { continue }
                    close(reason: "read failed: \(systemErrorMessage(errno))")
                    return
                }
                if n == 0 {
                    close(reason: "peer closed the connection")
                    return
                }
            }
            guard let session else { return }
            if direct != nil { Self.directReadBytes.add(n, ordering: .relaxed) }
            insideSession = true
            let consumed = nghttp2_session_mem_recv(session, into.assumingMemoryBound(to: UInt8.self), n)
            insideSession = false
            if consumed < 0 {
                // Malformed HTTP/2: nghttp2 has queued a GOAWAY; send it, then close.
                flush()
                close(reason: "HTTP/2 protocol error: \(http2Error((Int32(consumed))))")
                return
            }
            if n < size && tls == nil { break }
        }
        flush()
    }

    /// Where the next read may go instead of `readBuffer`: the placed buffer of the message
    /// that the DATA frame being received carries, for as many bytes as both the frame and the
    /// message still have. Every byte read there is DATA payload of that stream, so nghttp2
    /// hands it back to `dataChunk` at the same address.
    private func directReadTarget() -> UnsafeMutableRawBufferPointer? {
        guard let frame = dataFrame, frame.remaining >= Self.directReadMinimum,
              let stream = streams[frame.stream], !stream.inboundFinished,
              let target = stream.assembler.inPlaceTarget else { return nil }
        let count = Swift.min(frame.remaining, target.count)
        guard count >= Self.directReadMinimum else { return nil }
        return UnsafeMutableRawBufferPointer(rebasing: target.prefix(count))
    }

    /// A frame header arrived: note an unpadded DATA frame's payload length.
    fileprivate func beginFrame(_ header: UnsafePointer<nghttp2_frame_hd>) {
        let padded = header.pointee.flags & UInt8(NGHTTP2_FLAG_PADDED.rawValue) != 0
        if header.pointee.type == UInt8(NGHTTP2_DATA.rawValue) && !padded {
            dataFrame = (header.pointee.stream_id, header.pointee.length)
        } else {
            dataFrame = nil
        }
    }

    /// Lets nghttp2 produce frames and writes what the socket takes.
    func flush() {
        guard !isClosed, let session else { return }
        if insideSession {
            flushRequested = true
            return
        }
        while true {
            if outboundFramesBytes < outboundLimit {
                flushRequested = false
                insideSession = true
                let status = nghttp2_session_send(session)
                insideSession = false
                if status != 0 {
                    close(reason: "HTTP/2 send failed: \(http2Error((status)))")
                    return
                }
                sealSmall()
            }
            if isClosed { return }
            if outboundFrames.isEmpty && blockedStreams.isEmpty && !flushRequested { break }
            guard writeOut() else { return }
            if flushRequested && canProduce { continue }
            if canProduce && !blockedStreams.isEmpty {
                for id in blockedStreams {
                    if let stream = streams[id], stream.dataDeferred {
                        stream.dataDeferred = false
                        nghttp2_session_resume_data(session, id)
                    }
                }
                blockedStreams.removeAll()
                continue
            }
            if !outboundFrames.isEmpty { break }
        }
        let needWrite = !outboundFrames.isEmpty
        if needWrite != watchingWrite {
            watchingWrite = needWrite
            loop.modify(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (needWrite ? EPOLLOUT.rawValue : 0))
        }
        if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 && outboundFrames.isEmpty {
            close(reason: "session finished")
        }
    }

    /// Writes queued frames; false when the connection failed.
    private func writeOut() -> Bool {
        while !outboundFrames.isEmpty {
            var written = 0
            if let tls {
                switch tls.write(outboundFrames) {
                case .bytes(let count): written = count
                case .wouldBlock: return true
                case .closed:
                    close(reason: "peer closed the connection")
                    return false
                case .failed(let message):
                    close(reason: message)
                    return false
                }
            } else {
                let batch = outboundFrames.prefix(64)
                var vectors = batch.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
                let n = withExtendedLifetime(batch) { writev(fd, &vectors, Int32(vectors.count)) }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK { return true }
                    if errno == EINTR { continue }
                    close(reason: "write failed: \(systemErrorMessage(errno))")
                    return false
                }
                written = n
            }
            dropWritten(written)
            if written == 0 { return true }
        }
        return true
    }

    private func dropWritten(_ count: Int) {
        outboundFrames.removeFirstBytes(count)
        outboundFramesBytes -= count
    }

    private func sealSmall() {
        guard small.count > 0 else { return }
        let sealed = small.takeAndReset(capacity: 16 << 10)
        outboundFrames.append(sealed)
    }

    fileprivate func enqueueFrameBytes(_ bytes: UnsafeRawBufferPointer) {
        small.append(contentsOf: bytes)
        outboundFramesBytes += bytes.count
    }

    fileprivate func enqueueBody(_ buffer: Buffer) {
        sealSmall()
        outboundFrames.append(buffer)
        outboundFramesBytes += buffer.count
    }

    fileprivate var canProduce: Bool { outboundFramesBytes < outboundLimit }

    /// Closes the socket and fails every open stream. Loop thread.
    func close(reason: String) {
        guard !isClosed else { return }
        if endReason == nil { endReason = reason }
        if insideSession {
            // Finish the nghttp2 call first; the loop closes us right after.
            loop.execute { [self] in close(reason: reason) }
            return
        }
        isClosed = true
        if let idleTimer {
            // Not left in the loop's timer list for the rest of its timeout.
            loop.cancelTimer(idleTimer)
            self.idleTimer = nil
        }
        loop.unregister(fd)
        tls?.shutdown()
        Glibc.close(fd)
        let error = FlightError(.unavailable, reason)
        for stream in streams.values { finishStream(stream, error: error) }
        streams.removeAll()
        onClosed?(self)
        onClosed = nil
        onRequest = nil
        let observers = closeObservers
        closeObservers = []
        for observer in observers { observer() }
    }

    /// Runs `observer` once the connection is gone, on the loop thread (soon, if it is already).
    /// Any thread.
    func whenClosed(_ observer: @escaping @Sendable () -> Void) {
        loop.execute { [self] in
            if isClosed { observer() } else { closeObservers.append(observer) }
        }
    }

    // MARK: - Streams

    /// Ends a stream's inbound side and wakes its writers, once.
    func finishStream(_ stream: StreamCore, error: FlightError?) {
        guard !stream.closed else { return }
        stream.closed = true
        stream.closedForSenders.store(true, ordering: .releasing)
        stream.closeError = error
        if !stream.inboundFinished {
            stream.inboundFinished = true
            if let error { stream.inbound?.finish(throwing: error) } else { stream.inbound?.finish() }
        }
        let writers = stream.writers
        stream.writers.removeAll()
        for writer in writers { writer.continuation.resume(throwing: error ?? FlightError(.cancelled, "the stream is closed")) }
        stream.onClose?(stream)
        stream.onClose = nil
        stream.onHeaders = nil
    }

    /// Queues message bytes on a stream and makes nghttp2 send them. Loop thread.
    func enqueue(_ parts: [Buffer], on stream: StreamCore) {
        for part in parts where part.count > 0 {
            stream.outbound.append(part)
            stream.outboundBytes += part.count
        }
        resume(stream)
    }

    /// Marks the end of a stream's messages (client: END_STREAM; server: trailers follow).
    func finishOutbound(_ stream: StreamCore, trailers: [(String, String)]?) {
        stream.outboundFinished = true
        stream.pendingTrailers = trailers
        resume(stream)
    }

    private func resume(_ stream: StreamCore) {
        guard let session, !stream.closed else { return }
        if stream.dataDeferred {
            stream.dataDeferred = false
            nghttp2_session_resume_data(session, stream.id)
        }
        // Large messages go out at once, so the socket is busy while the sender makes the next;
        // small ones wait for the end of the iteration and share a write.
        if stream.outboundBytes >= Self.immediateFlushBytes {
            flush()
        } else {
            scheduleFlush()
        }
    }

    /// Queued bytes on a stream from which a flush does not wait for the end of the iteration.
    static let immediateFlushBytes = 64 << 10

    /// Flushes at the end of the loop's iteration, once for all the messages queued in it.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.atEndOfIteration { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Returns window to the peer for `bytes` of a stream's messages that were read. Loop thread.
    func consumed(_ bytes: Int, on stream: StreamCore) {
        stream.queuedInboundBytes -= bytes
        guard let session, !stream.closed else { return }
        if stream.heldWindow > 0 && stream.queuedInboundBytes < settings.inboundHighWater {
            nghttp2_session_consume_stream(session, stream.id, stream.heldWindow)
            stream.heldWindow = 0
            stream.windowHeld.store(false, ordering: .releasing)
            flush()
        }
    }

    /// Resets a stream (cancellation). Loop thread.
    func reset(_ stream: StreamCore, code: UInt32 = NGHTTP2_CANCEL.rawValue) {
        guard let session, !stream.closed else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code)
        flush()
    }

    /// Server: sends response headers with a data provider (messages follow). Loop thread.
    func submitResponseHeaders(_ stream: StreamCore, headers: [(String, String)]) {
        guard let session, !stream.headersSent, !stream.closed else { return }
        stream.headersSent = true
        var provider = nghttp2_data_provider()
        provider.read_callback = dataReadCallback
        withHeaderArray(headers) { nva, count in
            _ = nghttp2_submit_response(session, stream.id, nva, count, &provider)
        }
    }

    /// Server: a response of headers only, ending the stream (trailers-only). Loop thread.
    func submitTrailersOnly(_ stream: StreamCore, headers: [(String, String)]) {
        guard let session, !stream.headersSent, !stream.closed else { return }
        stream.headersSent = true
        stream.outboundFinished = true
        withHeaderArray(headers) { nva, count in
            _ = nghttp2_submit_response(session, stream.id, nva, count, nil)
        }
        flush()
    }

    /// Client: opens a stream with request headers. Loop thread.
    func submitRequest(headers: [(String, String)]) -> StreamCore? {
        guard let session, !isClosed, !goingAway else { return nil }
        var provider = nghttp2_data_provider()
        provider.read_callback = dataReadCallback
        let id = withHeaderArray(headers) { nva, count in
            nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        guard id > 0 else { return nil }
        let stream = StreamCore(id: id, maximumMessageSize: settings.maximumReceiveMessageSize, layout: settings.messageLayout)
        stream.headersSent = true
        streams[id] = stream
        return stream
    }

    /// The idle check of a server connection, while one is scheduled (at most one).
    private var idleTimer: EventLoop.TimerID?
    /// When the connection last had no stream open.
    private var idleSince = ContinuousClock.now

    /// Server: notes that no stream is open (at start, and when the last stream closes) and
    /// makes sure an idle check is scheduled. Calls in between cost no timer work: the check
    /// looks at the time, and schedules itself again while the connection is in use. Loop thread.
    func armIdleTimer() {
        guard isServer, let timeout = settings.idleTimeout, streams.isEmpty, !isClosed else { return }
        idleSince = .now
        if idleTimer == nil { scheduleIdleCheck(after: timeout) }
    }

    private func scheduleIdleCheck(after delay: Duration) {
        idleTimer = loop.schedule(after: delay) { [weak self] in self?.checkIdle() }
    }

    private func checkIdle() {
        idleTimer = nil
        // A connection with open streams is checked again when its last stream closes.
        guard let timeout = settings.idleTimeout, !isClosed, streams.isEmpty else { return }
        let idle = ContinuousClock.now - idleSince
        // GOAWAY first: the peer knows not to use the connection, and reconnects for new calls.
        if idle >= timeout { goAway(reason: "idle for \(timeout)") } else { scheduleIdleCheck(after: timeout - idle) }
    }

    /// Closes the connection if the peer has not completed its preface: the handshake timeout
    /// has passed. Loop thread.
    func closeIfNoPreface() {
        guard !isClosed, !peerSettingsReceived else { return }
        close(reason: "no HTTP/2 preface within \(settings.handshakeTimeout)")
    }

    /// Server: sends GOAWAY so that the peer opens no new streams; open streams finish, then the
    /// connection closes for `reason`. Loop thread.
    func goAway(reason: String = "server shutdown") {
        guard let session, !isClosed, !goingAway else { return }
        goingAway = true
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              NGHTTP2_NO_ERROR.rawValue, nil, 0)
        flush()
        if streams.isEmpty { close(reason: reason) }
    }

    private func withHeaderArray<R>(_ headers: [(String, String)], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        var storage: [UInt8] = []
        var ranges: [(Int, Int, Int, Int)] = []
        for (name, value) in headers {
            let n = storage.count
            storage.append(contentsOf: name.utf8)
            let v = storage.count
            storage.append(contentsOf: value.utf8)
            ranges.append((n, v - n, v, storage.count - v))
        }
        storage.append(0)
        return storage.withUnsafeMutableBufferPointer { raw in
            let base = raw.baseAddress.unsafelyUnwrapped
            let nva = ranges.map { r in
                nghttp2_nv(name: base + r.0, value: base + r.2, namelen: r.1, valuelen: r.3, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress.unsafelyUnwrapped, $0.count) }
        }
    }

    // MARK: - Callbacks from nghttp2 (loop thread, inside mem_recv or send)

    fileprivate func readData(stream id: Int32, length: Int, flags: UnsafeMutablePointer<UInt32>?) -> Int {
        guard let stream = streams[id] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        if stream.outboundBytes > 0 {
            guard canProduce else {
                // Resumed by flush() once the socket has taken the queued frames.
                stream.dataDeferred = true
                blockedStreams.append(stream.id)
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
            flags?.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue
            return Swift.min(length, stream.outboundBytes)
        }
        if stream.outboundFinished {
            var value = NGHTTP2_DATA_FLAG_EOF.rawValue
            if let trailers = stream.pendingTrailers, let session {
                value |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                stream.pendingTrailers = nil
                let submitted = withHeaderArray(trailers) { nva, count in nghttp2_submit_trailer(session, id, nva, count) }
                if submitted != 0 { value = NGHTTP2_DATA_FLAG_EOF.rawValue }
            }
            flags?.pointee |= value
            return 0
        }
        stream.dataDeferred = true
        return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    }

    fileprivate func sendData(stream id: Int32, header: UnsafePointer<UInt8>?, length: Int) -> Int32 {
        guard let stream = streams[id], let header else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
        enqueueFrameBytes(UnsafeRawBufferPointer(start: header, count: 9))
        var remaining = length
        while remaining > 0, stream.outboundHead < stream.outbound.count {
            let front = stream.outbound[stream.outboundHead]
            if front.count <= remaining {
                enqueueBody(front)
                remaining -= front.count
                stream.outboundHead += 1
            } else {
                enqueueBody(front.slice(offset: 0, count: remaining))
                stream.outbound[stream.outboundHead] = front.slice(offset: remaining, count: front.count - remaining)
                remaining = 0
            }
        }
        stream.outboundBytes -= length - remaining
        stream.unsentBytes.subtract(length - remaining, ordering: .relaxed)
        if stream.outboundHead > 64 || stream.outboundHead == stream.outbound.count {
            stream.outbound.removeFirst(stream.outboundHead)
            stream.outboundHead = 0
        }
        if stream.outboundBytes < settings.outboundHighWater / 2, !stream.writers.isEmpty {
            let writers = stream.writers
            stream.writers.removeAll()
            for writer in writers { writer.continuation.resume() }
        }
        return 0
    }

    fileprivate func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) {
        let id = frame.pointee.hd.stream_id
        if isServer, frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
            streams[id] = StreamCore(id: id, maximumMessageSize: settings.maximumReceiveMessageSize, layout: settings.messageLayout)
        }
    }

    fileprivate func header(_ frame: UnsafePointer<nghttp2_frame>, name: String, value: String) {
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue), let stream = streams[frame.pointee.hd.stream_id] else { return }
        if isServer {
            stream.requestHeaders.append((name, value))
        } else if frame.pointee.headers.cat == NGHTTP2_HCAT_RESPONSE {
            stream.responseHeaders.append((name, value))
        } else {
            stream.trailers.append((name, value))
        }
    }

    fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        if frame.pointee.hd.type == UInt8(NGHTTP2_DATA.rawValue) { dataFrame = nil }
        if frame.pointee.hd.type == UInt8(NGHTTP2_SETTINGS.rawValue) {
            peerSettingsReceived = true
            return
        }
        if frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
            // No new streams; those the server did not take fail in frameNotSent.
            goingAway = true
            endReason = endReason ?? "the server sent GOAWAY (error code \(frame.pointee.goaway.error_code))"
            return
        }
        let id = frame.pointee.hd.stream_id
        guard let stream = streams[id] else { return }
        let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        if frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) {
            if isServer && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
                onRequest?(self, stream)
            } else if !isServer && frame.pointee.headers.cat == NGHTTP2_HCAT_RESPONSE {
                if endStream {
                    // Trailers-only: the headers carry the status.
                    stream.trailers = stream.responseHeaders
                }
                stream.onHeaders?(stream)
                stream.onHeaders = nil
            }
        }
        if endStream {
            endInbound(stream)
            if !isServer && !stream.outboundFinished {
                // The server has given its status while we were still sending: stop sending.
                reset(stream, code: NGHTTP2_NO_ERROR.rawValue)
            }
        }
    }

    fileprivate func frameSent(_ frame: UnsafePointer<nghttp2_frame>) {
        // A server that has sent its final status while the client still sends ends the stream
        // with RST_STREAM(NO_ERROR), as HTTP/2 allows, so the client stops uploading.
        guard isServer, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
              frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
              let session, let stream = streams[frame.pointee.hd.stream_id], !stream.inboundFinished else { return }
        stream.inboundFinished = true
        stream.inbound?.finish()
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, NGHTTP2_NO_ERROR.rawValue)
        flush()
    }

    fileprivate func frameNotSent(_ frame: UnsafePointer<nghttp2_frame>, error: Int32) {
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
              let stream = streams.removeValue(forKey: frame.pointee.hd.stream_id) else { return }
        finishStream(stream, error: FlightError(.unavailable, "the request was not sent: \(http2Error(error))"))
    }

    private func endInbound(_ stream: StreamCore) {
        guard !stream.inboundFinished else { return }
        stream.inboundFinished = true
        if stream.assembler.isInsideMessage {
            stream.inbound?.finish(throwing: FlightError(.internal, "the stream ended inside a message"))
        } else {
            stream.inbound?.finish()
        }
    }

    fileprivate func dataChunk(stream id: Int32, bytes: UnsafeRawBufferPointer) {
        if let frame = dataFrame, frame.stream == id {
            dataFrame = frame.remaining > bytes.count ? (id, frame.remaining - bytes.count) : nil
        }
        guard let session else { return }
        // The connection window always goes back at once, so one slow stream never stalls the others.
        nghttp2_session_consume_connection(session, bytes.count)
        guard let stream = streams[id], !stream.inboundFinished else {
            nghttp2_session_consume_stream(session, id, bytes.count)
            return
        }
        do throws(FlightError) {
            let before = stream.assembler.committedBytes
            let messages = try stream.assembler.append(bytes)
            if stream.assembler.committedBytes > before {
                // A new message began on this stream: the connection's messages in progress,
                // summed over its streams (at most the concurrent-stream limit), must fit.
                let total = streams.values.reduce(0) { $0 + $1.assembler.committedBytes }
                guard total <= settings.maximumPartialBytes else {
                    throw FlightError(.resourceExhausted,
                                      "messages being received on this connection would exceed \(settings.maximumPartialBytes >> 20) MiB")
                }
            }
            // Window for bytes of unfinished messages is returned at once; for complete messages
            // waiting to be read, only while the waiting total stays below the high-water mark.
            if stream.queuedInboundBytes < settings.inboundHighWater {
                nghttp2_session_consume_stream(session, id, bytes.count)
            } else {
                stream.heldWindow += bytes.count
                stream.windowHeld.store(true, ordering: .releasing)
            }
            for message in messages {
                stream.queuedInboundBytes += message.count
                stream.inbound?.yield(message)
            }
        } catch {
            stream.inboundFinished = true
            stream.inbound?.finish(throwing: error)
            nghttp2_session_consume_stream(session, id, bytes.count)
            if isServer {
                stream.closeError = error
                onRequestError?(self, stream, error)
            } else {
                stream.localResetReason = error
                reset(stream)
            }
        }
    }

    /// Server: called when a request stream breaks the gRPC framing (the call layer answers with a status).
    var onRequestError: ((HTTP2Connection, StreamCore, FlightError) -> Void)?

    fileprivate func streamClosed(stream id: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        let error: FlightError? = stream.localResetReason ?? (errorCode == NGHTTP2_NO_ERROR.rawValue
            ? (stream.inboundFinished ? nil : FlightError(.internal, "stream closed before its end"))
            : FlightError(.cancelled, "stream reset by the peer (HTTP/2 error \(errorCode))"))
        finishStream(stream, error: error)
        if goingAway && streams.isEmpty { flush() }
        armIdleTimer()
    }
}

// MARK: - C callbacks

private func connection(_ userData: UnsafeMutableRawPointer?) -> HTTP2Connection? {
    userData.map { Unmanaged<HTTP2Connection>.fromOpaque($0).takeUnretainedValue() }
}

private let sendCallback: nghttp2_send_callback = { _, data, length, _, userData in
    guard let connection = connection(userData), let data else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    guard connection.canProduce else { return Int(NGHTTP2_ERR_WOULDBLOCK.rawValue) }
    connection.enqueueFrameBytes(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private let sendDataCallback: nghttp2_send_data_callback = { _, frame, header, length, _, userData in
    guard let connection = connection(userData), let frame else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
    return connection.sendData(stream: frame.pointee.hd.stream_id, header: header, length: length)
}

private let dataReadCallback: nghttp2_data_source_read_callback = { _, streamID, _, length, flags, _, userData in
    guard let connection = connection(userData) else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    return connection.readData(stream: streamID, length: length, flags: flags)
}

private let beginHeadersCallback: nghttp2_on_begin_headers_callback = { _, frame, userData in
    guard let connection = connection(userData), let frame else { return 0 }
    connection.beginHeaders(frame)
    return 0
}

private let headerCallback: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
    guard let connection = connection(userData), let frame, let name, let value else { return 0 }
    connection.header(frame, name: String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
                      value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
    return 0
}

private let frameReceivedCallback: nghttp2_on_frame_recv_callback = { _, frame, userData in
    guard let connection = connection(userData), let frame else { return 0 }
    connection.frameReceived(frame)
    return 0
}

private let dataChunkCallback: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
    guard let connection = connection(userData), let data else { return 0 }
    connection.dataChunk(stream: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
    return 0
}

/// DATA frames as large as the peer takes and the windows allow, not nghttp2's default of 16 KiB:
/// fewer frames to make and parse, and a receiver of ours reads their payload straight into
/// the message's buffer.
private let dataLengthCallback: nghttp2_data_source_read_length_callback = { _, _, _, sessionWindow, streamWindow, maximumFrame, _ in
    Swift.max(1, Swift.min(Int(sessionWindow), Int(streamWindow), Int(maximumFrame)))
}

private let beginFrameCallback: nghttp2_on_begin_frame_callback = { _, header, userData in
    guard let connection = connection(userData), let header else { return 0 }
    connection.beginFrame(header)
    return 0
}

private let streamCloseCallback: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
    guard let connection = connection(userData) else { return 0 }
    connection.streamClosed(stream: streamID, errorCode: errorCode)
    return 0
}

/// The text of an nghttp2 error code.
func http2Error(_ code: Int32) -> String {
    guard let text = nghttp2_strerror(code) else { return "error \(code)" }
    return String(validatingCString: text) ?? "error \(code)"
}

private let frameSentCallback: nghttp2_on_frame_send_callback = { _, frame, userData in
    guard let connection = connection(userData), let frame else { return 0 }
    connection.frameSent(frame)
    return 0
}

private let frameNotSentCallback: nghttp2_on_frame_not_send_callback = { _, frame, error, userData in
    guard let connection = connection(userData), let frame else { return 0 }
    connection.frameNotSent(frame, error: error)
    return 0
}
