import ArrowCore
import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// An OpenSSL context: certificates, trust and ALPN `h2`, shared by many connections.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let isServer: Bool

    private init(server: Bool) throws(TransportError) {
        _ = FlightCrypto.ready
        guard let method = server ? TLS_server_method() : TLS_client_method(), let context = SSL_CTX_new(method) else {
            throw .tls("cannot create an SSL context: \(TLSContext.lastError())")
        }
        self.context = context
        isServer = server
        _ = swift_arrow_flight_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        SSL_CTX_set_options(context, swift_arrow_flight_SSL_OP_NO_COMPRESSION | swift_arrow_flight_SSL_OP_NO_RENEGOTIATION)
    }

    deinit { SSL_CTX_free(context) }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        return cString(text)
    }

    /// A server context with a certificate chain and key (PEM files), optionally requiring
    /// client certificates signed by `clientCA`.
    static func server(certificateChain: String, privateKey: String, clientCA: String? = nil) throws(TransportError) -> TLSContext {
        let tls = try TLSContext(server: true)
        guard SSL_CTX_use_certificate_chain_file(tls.context, certificateChain) == 1 else {
            throw .tls("cannot load certificate \(certificateChain): \(lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(tls.context, privateKey, SSL_FILETYPE_PEM) == 1,
              SSL_CTX_check_private_key(tls.context) == 1 else {
            throw .tls("cannot load private key \(privateKey): \(lastError())")
        }
        if let clientCA {
            guard SSL_CTX_load_verify_locations(tls.context, clientCA, nil) == 1 else {
                throw .tls("cannot load client CA \(clientCA): \(lastError())")
            }
            SSL_CTX_set_verify(tls.context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        SSL_CTX_set_alpn_select_cb(tls.context, alpnSelect, nil)
        return tls
    }

    /// A client context trusting `trustedCA` (PEM) or the system store, with an optional
    /// client certificate for mutual TLS. `verify: false` skips certificate checks.
    static func client(trustedCA: String?, certificateChain: String? = nil, privateKey: String? = nil,
                       verify: Bool = true) throws(TransportError) -> TLSContext {
        let tls = try TLSContext(server: false)
        if let trustedCA {
            guard SSL_CTX_load_verify_locations(tls.context, trustedCA, nil) == 1 else {
                throw .tls("cannot load CA \(trustedCA): \(lastError())")
            }
        } else {
            SSL_CTX_set_default_verify_paths(tls.context)
        }
        if let certificateChain, let privateKey {
            guard SSL_CTX_use_certificate_chain_file(tls.context, certificateChain) == 1,
                  SSL_CTX_use_PrivateKey_file(tls.context, privateKey, SSL_FILETYPE_PEM) == 1 else {
                throw .tls("cannot load client certificate: \(lastError())")
            }
        }
        SSL_CTX_set_verify(tls.context, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        let protocols: [UInt8] = [2, UInt8(ascii: "h"), UInt8(ascii: "2")]
        _ = protocols.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(tls.context, $0.baseAddress, UInt32($0.count)) }
        return tls
    }
}

/// Chooses `h2` from the client's ALPN list, or refuses the connection.
private let alpnSelect: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
                                        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?) -> Int32 = { _, out, outLength, input, inputLength, _ in
    guard let input, let out, let outLength else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    var i = 0
    let count = Int(inputLength)
    while i < count {
        let length = Int(input[i])
        if length == 2, i + 2 < count, input[i + 1] == UInt8(ascii: "h"), input[i + 2] == UInt8(ascii: "2") {
            out.pointee = input + i + 1
            outLength.pointee = 2
            return SSL_TLSEXT_ERR_OK
        }
        i += 1 + length
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}

/// One TLS session over a socket.
final class TLSConnection {
    let ssl: OpaquePointer

    enum IOResult {
        case bytes(Int)
        case wouldBlock
        case closed
        case failed(String)
    }

    init(context: TLSContext, fd: Int32, serverName: String?) throws(TransportError) {
        guard let ssl = SSL_new(context.context) else { throw .tls("cannot create a TLS session: \(TLSContext.lastError())") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        _ = swift_arrow_flight_SSL_set_mode(ssl, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName {
                _ = swift_arrow_flight_SSL_set_tlsext_host_name(ssl, serverName)
                let param = SSL_get0_param(ssl)
                X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                if serverName.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) {
                    X509_VERIFY_PARAM_set1_ip_asc(param, serverName)
                } else {
                    X509_VERIFY_PARAM_set1_host(param, serverName, 0)
                }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake: true when done, false when it waits for the socket.
    func handshake() throws(TransportError) -> Bool {
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            var protocolName: UnsafePointer<UInt8>?
            var length: UInt32 = 0
            SSL_get0_alpn_selected(ssl, &protocolName, &length)
            guard length == 2, let protocolName, protocolName[0] == UInt8(ascii: "h"), protocolName[1] == UInt8(ascii: "2") else {
                throw .tls("the peer did not agree to HTTP/2 (ALPN h2)")
            }
            return true
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
            handshakeWantsWrite = error == SSL_ERROR_WANT_WRITE
            return false
        }
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            throw .tls("certificate verification failed: \((X509_verify_cert_error_string(verify).flatMap { String(validatingCString: $0) } ?? "error \(verify)"))")
        }
        throw .tls("handshake failed: \(TLSContext.lastError())")
    }

    /// Whether the handshake waits for the socket to become writable.
    private(set) var handshakeWantsWrite = false

    /// Whether the last operation wants the socket to become writable.
    private(set) var wantsWrite = false

    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> IOResult {
        let n = SSL_read(ssl, buffer, Int32(Swift.min(count, Int(Int32.max))))
        if n > 0 { return .bytes(Int(n)) }
        return classify(n)
    }

    func write(_ buffers: [Buffer]) -> IOResult {
        guard let first = buffers.first(where: { $0.count > 0 }) else { return .bytes(0) }
        let n = first.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(Swift.min($0.count, 1 << 20))) }
        if n > 0 { return .bytes(Int(n)) }
        return classify(n)
    }

    private func classify(_ result: Int32) -> IOResult {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            wantsWrite = error == SSL_ERROR_WANT_WRITE
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            return errno == 0 || errno == ECONNRESET || errno == EPIPE ? .closed : .failed("TLS I/O: \(systemErrorMessage(errno))")
        default:
            return .failed("TLS: \(TLSContext.lastError())")
        }
    }

    func shutdown() {
        _ = SSL_shutdown(ssl)
    }
}
