import Foundation

/// Users and their passwords, read from a file: one user a line.
///
/// A line is `name:pbkdf2-sha256$ITERATIONS$SALT$HASH`, with SALT and HASH in base64 and HASH
/// the PBKDF2-HMAC-SHA256 of the password (``hashLine(user:password:iterations:)`` makes one).
/// A line `name:password` holds a plaintext password: accepted, and reported in ``warnings``.
/// Empty lines and lines starting with `#` are skipped.
public struct PasswordFile: Sendable {
    enum Secret: Sendable {
        case pbkdf2(iterations: Int, salt: [UInt8], hash: [UInt8])
        case plaintext(String)
    }

    private let users: [String: Secret]
    /// The iterations a check of an unknown user spends: the most any user's hash has.
    private let unknownUserIterations: Int
    /// What is weak about the file (plaintext passwords), one sentence each, for the log.
    public let warnings: [String]

    /// The number of users.
    public var count: Int { users.count }

    /// Parses a file's text. Throws `FlightError(.invalidArgument)` naming the first bad line.
    public init(text: String) throws(FlightError) {
        var users: [String: Secret] = [:]
        var warnings: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw FlightError(.invalidArgument, "line \(index + 1): expected name:secret")
            }
            let name = String(line[..<colon])
            let secret = String(line[line.index(after: colon)...])
            guard users[name] == nil else { throw FlightError(.invalidArgument, "line \(index + 1): user '\(name)' appears twice") }
            if secret.hasPrefix("pbkdf2-sha256$") {
                let parts = secret.split(separator: "$", omittingEmptySubsequences: false)
                guard parts.count == 4, let iterations = Int(parts[1]), iterations > 0, iterations <= Int(Int32.max),
                      let salt = Data(base64Encoded: String(parts[2])), let hash = Data(base64Encoded: String(parts[3])),
                      !salt.isEmpty, hash.count >= 16 else {
                    throw FlightError(.invalidArgument, "line \(index + 1): malformed pbkdf2-sha256$ITERATIONS$SALT$HASH")
                }
                users[name] = .pbkdf2(iterations: iterations, salt: [UInt8](salt), hash: [UInt8](hash))
            } else {
                users[name] = .plaintext(secret)
                warnings.append("user '\(name)' has a plaintext password (line \(index + 1)); make a hashed line with `hash-password`")
            }
        }
        self.users = users
        self.warnings = warnings
        unknownUserIterations = users.values.reduce(1) { most, secret in
            if case .pbkdf2(let iterations, _, _) = secret { return max(most, iterations) }
            return most
        }
    }

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws(FlightError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FlightError(.invalidArgument, "cannot read users file \(path): \(error.localizedDescription)")
        }
        try self.init(text: text)
    }

    /// Whether `password` is `user`'s. Takes about as long for unknown users as for known ones.
    /// It blocks for the hash's work (a fraction of a second at 600,000 iterations): call it
    /// off Swift's cooperative threads.
    public func verify(user: String, password: String) -> Bool {
        switch users[user] {
        case .pbkdf2(let iterations, let salt, let hash):
            guard let derived = FlightCrypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations, length: hash.count) else {
                return false
            }
            return FlightCrypto.constantTimeEqual(derived, hash)
        case .plaintext(let expected):
            return FlightCrypto.constantTimeEqual(Array(expected.utf8), Array(password.utf8))
        case nil:
            // Spend the work of a real check, so that timing does not tell which users exist.
            _ = FlightCrypto.pbkdf2SHA256(password: password, salt: [0], iterations: unknownUserIterations)
            return false
        }
    }

    /// A hashed line for `user` with a fresh 16-byte salt.
    public static func hashLine(user: String, password: String, iterations: Int = 600_000) throws(FlightError) -> String {
        guard !user.isEmpty, !user.contains(":"), !user.contains("\n") else {
            throw FlightError(.invalidArgument, "a user name must be non-empty, without ':' or newlines")
        }
        let salt = FlightCrypto.randomBytes(16)
        guard let hash = FlightCrypto.pbkdf2SHA256(password: password, salt: salt, iterations: iterations) else {
            throw FlightError(.invalidArgument, "iterations must be in 1...\(Int32.max)")
        }
        return "\(user):pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }
}
