/// A 256-bit two's complement integer as four little-endian 64-bit limbs: the unscaled value
/// of any decimal width, parsed without allocating.
@usableFromInline
struct DecimalLimbs {
    @usableFromInline var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// `self = self * 10 + digit`, for magnitudes that stay below 2^256 (76 digits at most).
    mutating func multiplyByTenAdding(_ digit: UInt64) {
        var carry = digit
        func step(_ limb: inout UInt64) {
            let (high, low) = limb.multipliedFullWidth(by: 10)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limb = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        step(&limbs.0)
        step(&limbs.1)
        step(&limbs.2)
        step(&limbs.3)
    }

    mutating func negate() {
        var carry: UInt64 = 1
        func step(_ limb: inout UInt64) {
            let (sum, overflow) = (~limb).addingReportingOverflow(carry)
            limb = sum
            carry = overflow ? 1 : 0
        }
        step(&limbs.0)
        step(&limbs.1)
        step(&limbs.2)
        step(&limbs.3)
    }

    var isNegative: Bool { limbs.3 >> 63 == 1 }

    var array: [UInt64] { [limbs.0, limbs.1, limbs.2, limbs.3] }

    init() {}

    /// Sign-extends `words` (little-endian, the last one carrying the sign) to 256 bits.
    init(signExtending words: [UInt64]) {
        let fill: UInt64 = (words.last ?? 0) >> 63 == 1 ? .max : 0
        func word(_ k: Int) -> UInt64 { k < words.count ? words[k] : fill }
        limbs = (word(0), word(1), word(2), word(3))
    }

    /// The number of decimal digits of the magnitude (0 for zero).
    var magnitudeDigitCount: Int {
        var magnitude = self
        if magnitude.isNegative { magnitude.negate() }
        var words = magnitude.array
        var digits = 0
        while words.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for k in words.indices.reversed() {
                (words[k], remainder) = UInt64(10).dividingFullWidth((high: remainder, low: words[k]))
            }
            digits += 1
        }
        return digits
    }

    /// Writes the low `byteWidth` bytes (4, 8, 16 or 32) little-endian.
    @inline(__always)
    func write(to bytes: inout BuilderBytes, byteWidth: Int) {
        switch byteWidth {
        case 4: bytes.append(UInt32(truncatingIfNeeded: limbs.0))
        case 8: bytes.append(limbs.0)
        case 16: bytes.append((limbs.0, limbs.1))
        case 32: bytes.append(limbs)
        default: bytes.append(repeating: 0, count: Swift.max(byteWidth, 0))
        }
    }
}

/// The largest precision each decimal bit width can hold.
func maximumDecimalPrecision(bitWidth: Int) -> Int? {
    switch bitWidth {
    case 32: 9
    case 64: 18
    case 128: 38
    case 256: 76
    default: nil
    }
}

/// Parses decimal text into the unscaled integer at `scale`: an optional sign, digits with at
/// most one point, and an optional exponent (`-12.345`, `+7`, `.5`, `1.5e3`, `2E-4`).
///
/// Exact or an error: digits that the scale would cut off must be zeros (`1.230` fits scale 2,
/// `1.235` does not), and the significant digits must fit `precision`.
func parseDecimal(_ text: UnsafeBufferPointer<UInt8>, precision: Int, scale: Int) -> Result<DecimalLimbs, ArrowError> {
    func failure(_ why: String) -> Result<DecimalLimbs, ArrowError> {
        let shown = String(decoding: text.prefix(64), as: UTF8.self) + (text.count > 64 ? "…" : "")
        return .failure(.invalid("\"\(shown)\" is not a decimal(\(precision), \(scale)): \(why)"))
    }
    let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
    var i = 0
    let n = text.count
    var negative = false
    if i < n, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
        negative = text[i] == UInt8(ascii: "-")
        i += 1
    }
    // The digits, without the point, are text[digitsStart..<digitsEnd] minus the point.
    let digitsStart = i
    var pointIndex: Int?
    var digitCount = 0
    while i < n {
        let c = text[i]
        if c >= zero && c <= nine {
            digitCount += 1
        } else if c == UInt8(ascii: ".") && pointIndex == nil {
            pointIndex = i
        } else {
            break
        }
        i += 1
    }
    let digitsEnd = i
    guard digitCount > 0 else { return failure("no digits") }
    var exponent = 0
    if i < n, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
        i += 1
        var exponentNegative = false
        if i < n, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
            exponentNegative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        let exponentStart = i
        while i < n, text[i] >= zero, text[i] <= nine {
            // Past a million the value is out of every precision anyway; stop the number growing.
            if exponent < 1_000_000 { exponent = exponent * 10 + Int(text[i] - zero) }
            i += 1
        }
        guard i > exponentStart else { return failure("no digits in the exponent") }
        if exponentNegative { exponent = -exponent }
    }
    guard i == n else { return failure("unexpected character at offset \(i)") }

    let fractionDigits = pointIndex.map { digitsEnd - $0 - 1 } ?? 0
    // The unscaled value is the digits times 10^shift. Clamping a (hostile) scale cannot change
    // the outcome: past ten million either every digit is cut off or none fits the precision.
    let clampedScale = Swift.min(Swift.max(scale, -10_000_000), 10_000_000)
    let shift = exponent - fractionDigits + clampedScale
    // Drop leading zeros, and the digits a negative shift cuts off (which must be zeros).
    var first = digitsStart
    while first < digitsEnd, text[first] == zero || text[first] == UInt8(ascii: ".") { first += 1 }
    var last = digitsEnd  // exclusive end of the kept digits
    if shift < 0 {
        var toDrop = -shift
        while toDrop > 0 && last > digitsStart {
            last -= 1
            let c = text[last]
            if c == UInt8(ascii: ".") { continue }
            if c != zero { return failure("it has nonzero digits past the scale, and values are not rounded") }
            toDrop -= 1
        }
    }
    var kept = 0
    var k = first
    while k < last {
        if text[k] != UInt8(ascii: ".") { kept += 1 }
        k += 1
    }
    let totalDigits = kept == 0 ? 0 : kept + Swift.max(shift, 0)
    guard totalDigits <= precision else {
        return failure("needs \(totalDigits) digits, the precision allows \(precision)")
    }
    var value = DecimalLimbs()
    k = first
    while k < last {
        let c = text[k]
        if c != UInt8(ascii: ".") { value.multiplyByTenAdding(UInt64(c - zero)) }
        k += 1
    }
    if kept > 0 {
        for _ in 0..<Swift.max(shift, 0) { value.multiplyByTenAdding(0) }
    }
    if negative { value.negate() }
    return .success(value)
}

/// Builds a decimal array of 32, 64, 128 or 256 bits from decimal text or unscaled integers,
/// checking every value against the precision and scale.
public final class DecimalBuilder: ValueArrayBuilder {
    /// One value is decimal text, such as `-12.345`.
    public typealias Value = String
    /// The bit width: 32, 64, 128 or 256.
    public let bitWidth: Int
    /// The largest number of significant digits of a value.
    public let precision: Int
    /// The number of digits after the point (negative: zeros before it).
    public let scale: Int
    @exclusivity(unchecked) @usableFromInline var values: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder of `decimal(bitWidth: bitWidth, precision: precision, scale: scale)`.
    /// Throws unless `bitWidth` is 32, 64, 128 or 256 and `precision` is between 1 and that
    /// width's limit (9, 18, 38, 76).
    public init(precision: Int, scale: Int, bitWidth: Int = 128, capacity: Int = 1024) throws(ArrowError) {
        guard let limit = maximumDecimalPrecision(bitWidth: bitWidth) else {
            throw .invalid("decimal bit width \(bitWidth); 32, 64, 128 and 256 exist")
        }
        guard precision >= 1 && precision <= limit else {
            throw .invalid("decimal\(bitWidth) precision \(precision) is outside 1...\(limit)")
        }
        self.bitWidth = bitWidth
        self.precision = precision
        self.scale = scale
        values = BuilderBytes(capacity: Swift.max(capacity, 1) * bitWidth / 8)
    }

    init(unchecked bitWidth: Int, precision: Int, scale: Int) {
        self.bitWidth = bitWidth
        self.precision = precision
        self.scale = scale
        values = BuilderBytes(capacity: 1024 * Swift.max(bitWidth / 8, 0))
    }

    /// `decimal(bitWidth:precision:scale:)`.
    public var type: DataType { .decimal(bitWidth: bitWidth, precision: precision, scale: scale) }

    /// The number of slots appended since the last `finish()`.
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Appends the value written in `text` (`-12.345`, `+7`, `.5`, `1.5e3`). Throws, appending
    /// nothing, for text that is not a number, for digits the scale would cut off unless they
    /// are zeros (no rounding), or for more significant digits than the precision.
    public func append(_ text: String) throws(ArrowError) {
        let parsed = text.withUTF8Bytes { parseDecimal($0.assumingMemoryBound(to: UInt8.self), precision: precision, scale: scale) }
        append(limbs: try parsed.get())
    }

    /// Appends the value written in `text`, or a null for nil.
    public func append(_ text: String?) throws(ArrowError) {
        if let text { try append(text) } else { appendNull() }
    }

    /// Appends the value whose unscaled integer is `unscaled` (so 12345 at scale 2 is 123.45).
    /// Throws unless it has at most `precision` digits.
    public func append(unscaled: Int64) throws(ArrowError) {
        try append(unscaledLimbs: [UInt64(bitPattern: unscaled)])
    }

    /// Appends the value whose unscaled integer is the two's complement integer of `limbs`,
    /// little-endian 64-bit words with the sign in the last (one word for up to 64 bits, two
    /// for 128, four for 256). Throws unless it has at most `precision` digits.
    public func append(unscaledLimbs limbs: [UInt64]) throws(ArrowError) {
        guard limbs.count <= 4 else { throw .invalid("\(limbs.count) limbs for a decimal of at most 256 bits") }
        let value = DecimalLimbs(signExtending: limbs)
        let digits = value.magnitudeDigitCount
        guard digits <= precision else {
            throw .invalid("unscaled value needs \(digits) digits, the precision of \(type) allows \(precision)")
        }
        append(limbs: value)
    }

    func append(limbs value: DecimalLimbs) {
        value.write(to: &values, byteWidth: bitWidth / 8)
        validity.appendValid()
    }

    /// Appends a null slot (zero behind it).
    public func appendNull() {
        DecimalLimbs().write(to: &values, byteWidth: bitWidth / 8)
        validity.appendNull()
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: [bitmap, values.take()])
    }
}
