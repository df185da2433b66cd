import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The loopback limit that Flight figures are read against: one TCP connection on 127.0.0.1,
/// a writer thread sending 1 MiB writes and a reader thread receiving through a 1 MiB buffer,
/// with no framing or decoding at all.
struct TCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure a plain TCP socket on loopback: the limit for Flight on this machine.")

    @Option(help: "Bytes to move at least (default 4 GB).") var bytes = 4_000_000_000
    @Option(name: .customLong("min-seconds"), help: "Move bytes until this many seconds have passed too.") var minSeconds: Double = 0
    @Flag(help: "Print one JSON object as the last line.") var json = false

    static let chunk = 1 << 20

    func run() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listener, raw, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, raw, &length) == 0
            }
        }
        guard bound else { throw ValidationError("bind: \(String(cString: strerror(errno)))") }
        let reader = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(reader, $0, length) == 0 }
        }
        guard reader >= 0, connected else { throw ValidationError("connect: \(String(cString: strerror(errno)))") }
        defer { close(reader) }
        let writer = accept(listener, nil, nil)
        guard writer >= 0 else { throw ValidationError("accept: \(String(cString: strerror(errno)))") }

        let sender = Thread {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.chunk, alignment: 64)
            memset(buffer, 0x5a, Self.chunk)
            defer { buffer.deallocate() }
            // Until the reader closes its end.
            while send(writer, buffer, Self.chunk, Int32(MSG_NOSIGNAL)) > 0 {}
            close(writer)
        }
        sender.start()

        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.chunk, alignment: 64)
        defer { buffer.deallocate() }
        let start = now()
        var total = 0
        while total < bytes || now() - start < minSeconds {
            let n = recv(reader, buffer, Self.chunk, 0)
            guard n > 0 else { throw ValidationError("recv: the writer stopped") }
            total += n
        }
        let seconds = now() - start
        shutdown(reader, Int32(SHUT_RDWR))
        report(bytes: total, seconds: seconds, json: json, what: "TCP loopback, one connection")
    }
}
