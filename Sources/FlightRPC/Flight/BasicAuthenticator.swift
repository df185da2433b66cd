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
    public static func randomSecret() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        _ = RAND_bytes(&bytes, 32)
        return bytes
    }

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
        guard expected.count == signature.count,
              CRYPTO_memcmp(expected, signature, expected.count) == 0 else { return nil }
        return String(decoding: userBytes, as: UTF8.self)
    }

    private func sign(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = HMAC(EVP_sha256(), secret, Int32(secret.count), message, message.count, &out, &length)
        return Array(out.prefix(Int(length)))
    }

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
