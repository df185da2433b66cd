import ArrowCore

/// Where, in a message's first bytes, a payload that should be 64-byte aligned begins (for
/// FlightData, the Arrow body), or nil when unknown.
typealias MessageLayout = @Sendable (UnsafeRawBufferPointer) -> Int?

/// Gathers gRPC messages (a 1-byte compressed flag, a 4-byte big-endian length, the message)
/// from DATA frame payloads that may split them anywhere. Each message is copied once, into a
/// buffer of exactly its length, placed so that the payload `layout` points at is 64-byte
/// aligned: Arrow buffers sliced from a received FlightData body are then aligned too.
struct GRPCMessageAssembler: ~Copyable {
    private var prefix: [UInt8] = []
    /// The first bytes of a large message, held until `layout` has seen them.
    private var head: [UInt8] = []
    private var body = MutableBuffer(capacity: 0)
    private var expected = -1
    private var padding = 0
    private var placed = false
    /// The largest message accepted.
    let maximumMessageSize: Int
    let layout: MessageLayout?
    /// Messages at least this long are aligned; smaller ones are not worth the wait.
    private static let alignmentThreshold = 4096
    private static let headLength = 256

    init(maximumMessageSize: Int, layout: MessageLayout? = nil) {
        self.maximumMessageSize = maximumMessageSize
        self.layout = layout
        prefix.reserveCapacity(5)
    }

    /// Whether bytes of an unfinished message are held.
    var isInsideMessage: Bool { !prefix.isEmpty || expected >= 0 }

    /// The length of the message being received (its buffer is reserved at that size), or 0.
    var committedBytes: Int { Swift.max(expected, 0) }

    /// Where the rest of the body of the message being received goes, once its buffer is
    /// placed: bytes read straight there (from the socket) and then passed to `append` at that
    /// address are kept where they are instead of being copied. Nil between messages.
    var inPlaceTarget: UnsafeMutableRawBufferPointer? {
        guard expected >= 0, placed else { return nil }
        let missing = padding + expected - body.count
        guard missing > 0 else { return nil }
        return UnsafeMutableRawBufferPointer(rebasing: body.unwrittenTail.prefix(missing))
    }

    /// Appends `bytes` and returns the messages they complete.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(FlightError) -> [Buffer] {
        var out: [Buffer] = []
        var position = 0
        while position < bytes.count {
            if expected < 0 {
                let take = Swift.min(5 - prefix.count, bytes.count - position)
                prefix.append(contentsOf: bytes[position..<(position + take)])
                position += take
                guard prefix.count == 5 else { break }
                guard prefix[0] == 0 else {
                    throw FlightError(.internal, "compressed gRPC message received, but no compression was negotiated")
                }
                let length = Int(prefix[1]) << 24 | Int(prefix[2]) << 16 | Int(prefix[3]) << 8 | Int(prefix[4])
                prefix.removeAll(keepingCapacity: true)
                guard length <= maximumMessageSize else {
                    throw FlightError(.resourceExhausted, "received message larger than max (\(length) vs. \(maximumMessageSize))")
                }
                expected = length
                padding = 0
                placed = layout == nil || length < Self.alignmentThreshold
                if placed { body = MutableBuffer(capacity: length) }
            }
            if !placed {
                let take = Swift.min(Self.headLength - head.count, bytes.count - position)
                head.append(contentsOf: bytes[position..<(position + take)])
                position += take
                guard head.count == Self.headLength else { continue }
                let offset = head.withUnsafeBytes { raw in layout?(raw) }
                padding = offset.map { (64 - $0 % 64) % 64 } ?? 0
                body = MutableBuffer(capacity: padding + expected)
                body.appendZeros(padding)
                head.withUnsafeBytes { body.append(contentsOf: $0) }
                head.removeAll(keepingCapacity: true)
                placed = true
            }
            let take = Swift.min(padding + expected - body.count, bytes.count - position)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + take)])
            if piece.baseAddress != nil && piece.baseAddress == UnsafeRawPointer(body.unwrittenTail.baseAddress) {
                body.commitWritten(take)
            } else {
                body.append(contentsOf: piece)
            }
            position += take
            if body.count == padding + expected {
                let whole = body.takeAndReset(capacity: 0)
                out.append(padding == 0 ? whole : whole.slice(offset: padding, count: expected))
                expected = -1
            }
        }
        return out
    }

    /// The 5-byte prefix of an uncompressed message of `length` bytes.
    static func prefix(length: Int) -> Buffer {
        let bytes: [UInt8] = [0, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                              UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
        return Buffer(copying: bytes)
    }
}

/// gRPC header helpers.
enum GRPCHeaders {
    /// Parses `grpc-timeout` (`1-8 digits` then `H`, `M`, `S`, `m`, `u` or `n`) to seconds.
    static func parseTimeout(_ value: String) -> Double? {
        guard let unit = value.last, value.count >= 2, value.count <= 9,
              let amount = Int(value.dropLast()), amount >= 0 else { return nil }
        switch unit {
        case "H": return Double(amount) * 3600
        case "M": return Double(amount) * 60
        case "S": return Double(amount)
        case "m": return Double(amount) / 1e3
        case "u": return Double(amount) / 1e6
        case "n": return Double(amount) / 1e9
        default: return nil
        }
    }

    /// Formats a timeout in seconds for `grpc-timeout`, keeping within 8 digits.
    static func formatTimeout(_ seconds: Double) -> String {
        let micros = Swift.max(0, seconds * 1e6)
        if micros < 1e8 { return "\(Int(micros.rounded(.up)))u" }
        let millis = micros / 1e3
        if millis < 1e8 { return "\(Int(millis.rounded(.up)))m" }
        return "\(Swift.min(99_999_999, Int((millis / 1e3).rounded(.up))))S"
    }

    /// Percent-encodes a `grpc-message` value as the gRPC protocol requires.
    static func encodeMessage(_ message: String) -> String {
        var out = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// Decodes a percent-encoded `grpc-message` value; malformed escapes are kept as they are.
    static func decodeMessage(_ value: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(value.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count,
               let byte = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(byte)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
