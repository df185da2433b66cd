import COpenSSL
import Foundation

/// Checks Basic credentials and issues signed Bearer tokens.
///
/// A token is `user.expiry.signature` (base64url), signed with HMAC-SHA256 under `secret`, so
/// any server that shares the secret validates it: nothing is kept per server.
public struct BasicAuthenticator: Sendable {
    private let secret: [UInt8]
    private let lifetime: Double
    private let verify: @Sendable (String, String) async -> Bool

    /// An authenticator that accepts what `verify` accepts, signing tokens with `secret` (at
    /// least 32 random bytes; pass the same secret to every node of a cluster) that last `lifetime`.
    public init(secret: [UInt8], lifetime: Duration = .seconds(3600), verify: @escaping @Sendable (_ user: String, _ password: String) async -> Bool) {
        self.secret = secret
        self.lifetime = Double(lifetime.components.seconds)
        self.verify = verify
    }

    /// 32 random bytes from OpenSSL, for a secret.
    public static func randomSecret() -> [UInt8] { FlightCrypto.randomBytes(32) }

    func check(_ user: String, _ password: String) async -> Bool { await verify(user, password) }

    func issueToken(for user: String, now: Double = Date().timeIntervalSince1970) -> String {
        let payload = "\(base64url(Array(user.utf8))).\(Int64(now + lifetime))"
        return "\(payload).\(base64url(sign(Array(payload.utf8))))"
    }

    /// The user a valid, unexpired token was issued to.
    func validate(token: String, now: Double = Date().timeIntervalSince1970) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[1]), Double(expiry) > now,
              let signature = fromBase64url(String(parts[2])), let userBytes = fromBase64url(String(parts[0])) else { return nil }
        let expected = sign(Array("\(parts[0]).\(parts[1])".utf8))
        guard FlightCrypto.constantTimeEqual(expected, signature) else { return nil }
        return String(decoding: userBytes, as: UTF8.self)
    }

    private func sign(_ message: [UInt8]) -> [UInt8] { FlightCrypto.hmacSHA256(key: secret, message) }

    private func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func fromBase64url(_ text: String) -> [UInt8]? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base).map { [UInt8]($0) }
    }
}

/// Signing helpers shared by the package's other layers (FlightManager tickets, user files),
/// so that OpenSSL is called from one place.
package enum FlightCrypto {
    /// OpenSSL, initialised once without its exit-time cleanup (see the shim). Every entry
    /// into OpenSSL reads this first.
    package static let ready: Bool = swift_arrow_flight_openssl_init() == 1

    /// HMAC-SHA256 of `message` under `key` (32 bytes).
    package static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        _ = ready
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length)
        return Array(out.prefix(Int(length)))
    }

    /// Whether `a` and `b` are equal, in time that depends only on their length.
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && CRYPTO_memcmp(a, b, a.count) == 0
    }

    /// `count` random bytes from OpenSSL's generator.
    package static func randomBytes(_ count: Int) -> [UInt8] {
        _ = ready
        var bytes = [UInt8](repeating: 0, count: count)
        _ = RAND_bytes(&bytes, Int32(count))
        return bytes
    }

    /// PBKDF2-HMAC-SHA256 of `password` with `salt`, `iterations` rounds, `length` bytes;
    /// nil when OpenSSL refuses the parameters.
    package static func pbkdf2SHA256(password: String, salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8]? {
        guard iterations > 0, iterations <= Int(Int32.max), length > 0 else { return nil }
        _ = ready
        var out = [UInt8](repeating: 0, count: length)
        let password = Array(password.utf8)
        let ok = password.withUnsafeBufferPointer { pw in
            pw.withMemoryRebound(to: CChar.self) { chars in
                PKCS5_PBKDF2_HMAC(chars.baseAddress, Int32(chars.count), salt, Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(length), &out)
            }
        }
        return ok == 1 ? out : nil
    }
}
