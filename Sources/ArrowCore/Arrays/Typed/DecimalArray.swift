/// A view of a decimal array of any width (32, 64, 128 or 256 bits).
///
/// Elements are the exact values as decimal text (`-12.345` at scale 3; `1200` at scale -2),
/// nil for null slots. `limbs(at:)` gives the raw unscaled integer.
public struct DecimalArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    /// The bit width: 32, 64, 128 or 256.
    public let bitWidth: Int
    /// The largest number of significant digits.
    public let precision: Int
    /// The number of digits after the point.
    public let scale: Int
    @usableFromInline let values: UnsafeRawPointer?
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless it is a decimal array of 32, 64, 128 or 256 bits whose
    /// values buffer covers it.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard case .decimal(let bits, let precision, let scale) = data.type else {
            throw .mismatch("\(data.type) array is not a decimal")
        }
        guard maximumDecimalPrecision(bitWidth: bits) != nil else { throw .invalid("decimal bit width \(bits)") }
        try data.requireSaneWindow()
        try data.requireBuffer(1, bytes: (data.offset + data.length) * (bits / 8), "values")
        self.data = data
        bitWidth = bits
        self.precision = precision
        self.scale = scale
        values = data.buffers[1].baseAddress.map { $0 + data.offset * bits / 8 }
        validity = try ValidityBits(data)
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The exact value of slot `i` as decimal text, or nil if it is null.
    public subscript(i: Int) -> String? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return withExtendedLifetime(data) {
            formatDecimal(UnsafeRawBufferPointer(start: values.unsafelyUnwrapped + i * bitWidth / 8, count: bitWidth / 8), scale: scale)
        }
    }

    /// The unscaled integer of slot `i` (so 123.45 at scale 2 is 12345) as little-endian 64-bit
    /// two's complement limbs: one for decimal32 and decimal64 (sign-extended), two for
    /// decimal128, four for decimal256.
    public func limbs(at i: Int) -> [UInt64] {
        checkIndex(i, count_)
        let p = values.unsafelyUnwrapped + i * bitWidth / 8
        switch bitWidth {
        case 32: return [UInt64(bitPattern: Int64(p.loadUnaligned(as: Int32.self)))]
        case 64: return [p.loadUnaligned(as: UInt64.self)]
        default: return (0..<(bitWidth / 64)).map { p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
        }
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
