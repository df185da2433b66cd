#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Where a socket listens or connects.
enum SocketAddress: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)
}

/// Thin wrappers over the POSIX socket calls the transport needs.
enum Socket {
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Blocks SIGPIPE on the calling thread for good. A write to a socket whose peer has gone
    /// then fails with EPIPE, which the transport handles as a closed connection, instead of
    /// ending the process. Only threads that write to sockets need it, so the application's own
    /// disposition of SIGPIPE is left alone.
    static func blockSIGPIPE() {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
    }

    /// Runs `body` with SIGPIPE blocked on the calling thread (not one of ours), then discards a
    /// SIGPIPE that `body` raised and restores the thread's signal mask.
    static func withSIGPIPEBlocked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipe, &previous)
        var pending = sigset_t()
        sigpending(&pending)
        let pendingBefore = sigismember(&pending, SIGPIPE) == 1
        defer {
            sigpending(&pending)
            if !pendingBefore, sigismember(&pending, SIGPIPE) == 1 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipe, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return try body()
    }

    /// Socket options for bulk data: no Nagle delay, large kernel buffers.
    static func tune(_ fd: Int32, tcp: Bool) {
        if tcp { setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        setOption(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20)
        setOption(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20)
    }

    /// Resolves `host:port` to socket addresses (blocking; done once per connection or listener).
    static func resolve(host: String, port: Int, passive: Bool) throws(TransportError) -> [(family: Int32, address: [UInt8])] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        if passive { hints.ai_flags = AI_PASSIVE }
        var result: UnsafeMutablePointer<addrinfo>?
        let node: String? = host.isEmpty ? nil : host
        let status = getaddrinfo(node, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw .system("getaddrinfo(\(host))", status == EAI_SYSTEM ? errno : EINVAL)
        }
        defer { freeaddrinfo(first) }
        var out: [(Int32, [UInt8])] = []
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let info = current {
            if let address = info.pointee.ai_addr {
                let bytes = [UInt8](UnsafeRawBufferPointer(start: address, count: Int(info.pointee.ai_addrlen)))
                out.append((info.pointee.ai_family, bytes))
            }
            current = info.pointee.ai_next
        }
        return out
    }

    private static func unixAddress(_ path: String) throws(TransportError) -> [UInt8] {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let utf8 = Array(path.utf8)
        guard utf8.count < capacity else { throw .system("unix socket path too long", ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in utf8.enumerated() { raw[i] = byte }
            raw[utf8.count] = 0
        }
        return withUnsafeBytes(of: address) { [UInt8]($0) }
    }

    /// A listening, non-blocking socket, and the port it is bound to (0 for Unix sockets).
    static func listen(_ address: SocketAddress, backlog: Int32 = 1024) throws(TransportError) -> (fd: Int32, port: Int) {
        let candidates: [(family: Int32, address: [UInt8])]
        switch address {
        case .tcp(let host, let port): candidates = try resolve(host: host, port: port, passive: true)
        case .unix(let path):
            unlink(path)
            candidates = [(AF_UNIX, try unixAddress(path))]
        }
        var lastError: Int32 = EADDRNOTAVAIL
        for candidate in candidates {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastError = errno
                continue
            }
            if candidate.family != AF_UNIX { setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
            let bound = candidate.address.withUnsafeBytes { raw in
                bind(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            if bound != 0 || Glibc.listen(fd, backlog) != 0 {
                lastError = errno
                close(fd)
                continue
            }
            setNonBlocking(fd)
            return (fd, boundPort(fd))
        }
        throw .system("bind/listen", lastError)
    }

    /// The local port of a bound TCP socket, or 0.
    static func boundPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return 0 }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
        default:
            return 0
        }
    }

    /// The peer of a connected socket as `ipv4:1.2.3.4:5`, `ipv6:[::1]:5` or `unix:path`.
    static func peerDescription(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard ok == 0 else { return "unknown" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { raw -> String in
                var addr = raw.load(fromByteOffset: 4, as: in_addr.self)
                inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                return "ipv4:\(cString(text)):\(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))"
            }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { raw -> String in
                var addr = raw.load(fromByteOffset: 8, as: in6_addr.self)
                inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                return "ipv6:[\(cString(text))]:\(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))"
            }
        default:
            return "unix:"
        }
    }

    /// Connects (blocking, on the caller's thread, giving up after `timeout`) and returns a
    /// non-blocking socket.
    static func connect(_ address: SocketAddress, timeout: Duration = .seconds(20)) throws(TransportError) -> Int32 {
        let candidates: [(family: Int32, address: [UInt8])]
        switch address {
        case .tcp(let host, let port): candidates = try resolve(host: host, port: port, passive: false)
        case .unix(let path): candidates = [(AF_UNIX, try unixAddress(path))]
        }
        var lastError: Int32 = ECONNREFUSED
        for candidate in candidates {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastError = errno
                continue
            }
            // Linux applies the send timeout to connect().
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let result = candidate.address.withUnsafeBytes { raw in
                Glibc.connect(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            if result != 0 {
                lastError = errno
                close(fd)
                continue
            }
            var none = timeval(tv_sec: 0, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
            tune(fd, tcp: candidate.family != AF_UNIX)
            setNonBlocking(fd)
            return fd
        }
        throw .system("connect", lastError)
    }
}
