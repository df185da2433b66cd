/// Reads bytes of a page without leaving them: every read is checked against the end.
struct ByteCursor {
    let base: UnsafeRawPointer
    let count: Int
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        // An empty page has no base address; any pointer will do, since nothing is read from it.
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1).unsafelyUnwrapped
        count = bytes.count
    }

    var remaining: Int { count - position }

    mutating func byte() throws(ParquetError) -> UInt8 {
        guard position < count else { throw ParquetError("a page ends in the middle of a value") }
        defer { position += 1 }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    mutating func uleb() throws(ParquetError) -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ParquetError("a varint runs past 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A zigzag-encoded signed varint.
    mutating func zigzag() throws(ParquetError) -> Int64 {
        let u = try uleb()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func littleEndianUInt32() throws(ParquetError) -> UInt32 {
        guard remaining >= 4 else { throw ParquetError("a page ends inside a 4-byte length") }
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// `n` bytes, which must be there.
    mutating func take(_ n: Int, what: @autoclosure () -> String) throws(ParquetError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw ParquetError("\(what()) needs \(n) bytes; the page has \(remaining) left")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(start: base + position, count: n)
    }
}

/// The number of bits that hold values up to `maximum`.
@inline(__always)
func bitWidth(of maximum: Int) -> Int { maximum <= 0 ? 0 : Int.bitWidth - maximum.leadingZeroBitCount }

/// For each byte, its eight bits as eight 0-or-1 levels, lowest bit first.
private let oneBitLevels: [SIMD8<Int16>] = (0..<256).map { byte in
    SIMD8<Int16>((0..<8).map { Int16((byte >> $0) & 1) })
}

/// Unpacks `count` values of `width` bits (at most 32), packed least significant bit first
/// from bit `bitOffset` of `source`, which holds `byteCount` bytes; the caller has checked that
/// they hold every bit read. One-bit values into `Int16` (levels) come from a table unless
/// `table` is false.
@inline(__always)
func unpackBits<T: FixedWidthInteger>(_ source: UnsafeRawPointer, byteCount: Int, bitOffset: Int, width: Int, count: Int,
                                      into out: UnsafeMutablePointer<T>, table: Bool = true) {
    if width == 0 {
        out.initialize(repeating: 0, count: count)
        return
    }
    if table && width == 1 && bitOffset & 7 == 0 && T.self == Int16.self {
        // One-bit levels (lists' repetition levels, a nullable column's definition levels):
        // each byte's eight values from a table, in one 16-byte store.
        let levels = UnsafeMutableRawPointer(out)
        let whole = Swift.min(count / 8, byteCount - (bitOffset >> 3))
        let base = source + (bitOffset >> 3)
        oneBitLevels.withUnsafeBufferPointer { table in
            for k in 0..<whole {
                (levels + 16 * k).storeBytes(of: table[Int(base.load(fromByteOffset: k, as: UInt8.self))], as: SIMD8<Int16>.self)
            }
        }
        let done = whole * 8
        if done < count {
            unpackBits(source, byteCount: byteCount, bitOffset: bitOffset + done, width: 1, count: count - done, into: out + done, table: false)
        }
        return
    }
    let mask: UInt64 = (1 << UInt64(width)) - 1
    var bit = bitOffset
    // Eight-byte loads while eight bytes remain; the tail reads byte by byte.
    let fastEnd = byteCount - 8
    var start = 0
    if width <= 8 && bit & 7 == 0 {
        // Eight values fill `width` bytes: one load for each eight.
        let w = UInt64(width)
        while start + 8 <= count && (bit >> 3) <= fastEnd {
            let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            let target = out + start
            target[0] = T(truncatingIfNeeded: word & mask)
            target[1] = T(truncatingIfNeeded: (word >> w) & mask)
            target[2] = T(truncatingIfNeeded: (word >> (2 * w)) & mask)
            target[3] = T(truncatingIfNeeded: (word >> (3 * w)) & mask)
            target[4] = T(truncatingIfNeeded: (word >> (4 * w)) & mask)
            target[5] = T(truncatingIfNeeded: (word >> (5 * w)) & mask)
            target[6] = T(truncatingIfNeeded: (word >> (6 * w)) & mask)
            target[7] = T(truncatingIfNeeded: (word >> (7 * w)) & mask)
            start += 8
            bit += 8 * width
        }
    }
    for i in start..<count {
        let byte = bit >> 3
        let word: UInt64
        if byte <= fastEnd {
            word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
        } else {
            var w: UInt64 = 0
            for k in 0..<Swift.min(8, byteCount - byte) {
                w |= UInt64(source.load(fromByteOffset: byte + k, as: UInt8.self)) << UInt64(8 * k)
            }
            word = w
        }
        out[i] = T(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
        bit += width
    }
}

/// The RLE / bit-packed hybrid encoding of Parquet's levels, dictionary indices and booleans,
/// decoded on demand. A run that claims more values than its bytes hold is cut where the bytes end.
struct RLEHybridDecoder {
    private var cursor: ByteCursor
    let bitWidth: Int
    private var repeatedValue: UInt64 = 0
    private var repeatedLeft = 0
    private var packedStart = 0
    private var packedBytes = 0
    private var packedIndex = 0
    private var packedLeft = 0

    init(_ bytes: UnsafeRawBufferPointer, bitWidth: Int) throws(ParquetError) {
        guard (0...32).contains(bitWidth) else { throw ParquetError("a bit width of \(bitWidth) (at most 32)") }
        cursor = ByteCursor(bytes)
        self.bitWidth = bitWidth
    }

    /// The position after the bytes read so far.
    var position: Int { cursor.position }

    private mutating func nextRun() throws(ParquetError) -> Bool {
        guard cursor.remaining > 0 else { return false }
        let header = try cursor.uleb()
        if header & 1 == 1 {
            let groups = header >> 1
            guard groups > 0 else { return try nextRun() }
            let wanted = groups.multipliedReportingOverflow(by: UInt64(bitWidth))
            let bytes = wanted.overflow ? cursor.remaining : Int(min(wanted.partialValue, UInt64(cursor.remaining)))
            packedStart = cursor.position
            packedBytes = bytes
            packedIndex = 0
            // A last run may be cut short: only the values its bytes hold are there.
            let values = bitWidth == 0 ? Int(min(groups, UInt64(Int32.max))) * 8 : bytes * 8 / bitWidth
            packedLeft = values
            cursor.position += bytes
        } else {
            let count = header >> 1
            let width = (bitWidth + 7) / 8
            guard count <= UInt64(Int32.max) else { throw ParquetError("an RLE run claims \(count) values") }
            let value = try cursor.take(width, what: "an RLE run's value")
            var v: UInt64 = 0
            for k in 0..<width { v |= UInt64(value[k]) << UInt64(8 * k) }
            guard bitWidth == 0 || v >> UInt64(bitWidth) == 0 else {
                throw ParquetError("an RLE run repeats \(v), wider than its \(bitWidth) bits")
            }
            repeatedValue = v
            repeatedLeft = Int(count)
        }
        return true
    }

    /// Decodes up to `count` values into `out`; returns how many there were (fewer only at the end).
    mutating func decode<T: FixedWidthInteger>(into out: UnsafeMutablePointer<T>, count: Int) throws(ParquetError) -> Int {
        var done = 0
        while done < count {
            if repeatedLeft > 0 {
                let n = Swift.min(repeatedLeft, count - done)
                (out + done).initialize(repeating: T(truncatingIfNeeded: repeatedValue), count: n)
                repeatedLeft -= n
                done += n
            } else if packedLeft > 0 {
                let n = Swift.min(packedLeft, count - done)
                unpackBits(cursor.base + packedStart, byteCount: packedBytes, bitOffset: packedIndex * bitWidth, width: bitWidth,
                           count: n, into: out + done)
                packedIndex += n
                packedLeft -= n
                done += n
            } else if try !nextRun() {
                break
            }
        }
        return done
    }

    /// Decodes exactly `count` values, or fails naming `what`.
    mutating func decodeExactly<T: FixedWidthInteger>(into out: UnsafeMutablePointer<T>, count: Int,
                                                      what: @autoclosure () -> String) throws(ParquetError) {
        let n = try decode(into: out, count: count)
        guard n == count else { throw ParquetError("\(what()): \(count) values wanted, the page holds \(n)") }
    }
}

/// The deprecated BIT_PACKED encoding of levels: values packed most significant bit first.
enum LegacyBitPacked {
    static func decode(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, count: Int,
                       into out: UnsafeMutablePointer<Int16>) throws(ParquetError) {
        let needed = (count * bitWidth + 7) / 8
        guard needed <= bytes.count else { throw ParquetError("BIT_PACKED levels need \(needed) bytes; \(bytes.count) are there") }
        var bit = 0
        for i in 0..<count {
            var v = 0
            for _ in 0..<bitWidth {
                let b = (bytes[bit >> 3] >> (7 - UInt8(bit & 7))) & 1
                v = v << 1 | Int(b)
                bit += 1
            }
            out[i] = Int16(v)
        }
    }

    static func byteCount(values: Int, bitWidth: Int) -> Int { (values * bitWidth + 7) / 8 }
}
