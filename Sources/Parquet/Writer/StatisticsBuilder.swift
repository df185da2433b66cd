import ArrowCore
import Foundation

/// The minimum, maximum and null count of a column chunk, in the order the column's type
/// defines: signed or unsigned integers, floats without NaN, booleans, bytes compared unsigned.
struct StatisticsBuilder {
    private enum Order { case signed, unsigned, float, double, boolean, bytes, none }
    private let order: Order
    private let width: Int
    var nulls: Int64 = 0
    private var low: [UInt8]?
    private var high: [UInt8]?
    private var lowInt: Int64 = .max, highInt: Int64 = .min
    private var lowUInt: UInt64 = .max, highUInt: UInt64 = 0
    private var lowFloat: Double = .infinity, highFloat: Double = -.infinity
    private var seen = false

    init(leaf: WriteLeaf) {
        width = leaf.physicalType == .int32 || leaf.physicalType == .float ? 4 : 8
        var unsigned = false
        if case .integer(_, false) = leaf.element.logicalType { unsigned = true }
        switch leaf.physicalType {
        case .int32, .int64: order = unsigned ? .unsigned : .signed
        case .float: order = .float
        case .double: order = .double
        case .boolean: order = .boolean
        case .byteArray:
            if case .decimal = leaf.element.logicalType { order = .none } else { order = .bytes }
        case .fixedLenByteArray: order = leaf.element.logicalType == nil ? .bytes : .none
        case .int96: order = .none
        }
    }

    mutating func update(_ values: LeafValues, from start: Int, count: Int) {
        switch order {
        case .none: return
        case .signed:
            let base = UnsafeRawPointer(values.values.base), range = start..<(start + count)
            if width == 4 {
                Self.extremes(base, range, as: Int32.self, &lowInt, &highInt)
            } else {
                Self.extremes(base, range, as: Int64.self, &lowInt, &highInt)
            }
        case .unsigned:
            let base = UnsafeRawPointer(values.values.base), range = start..<(start + count)
            if width == 4 {
                Self.extremes(base, range, as: UInt32.self, &lowUInt, &highUInt)
            } else {
                Self.extremes(base, range, as: UInt64.self, &lowUInt, &highUInt)
            }
        case .float, .double:
            let base = UnsafeRawPointer(values.values.base)
            var low = lowFloat, high = highFloat
            if order == .float {
                for k in start..<(start + count) {
                    let v = Double(base.loadUnaligned(fromByteOffset: 4 * k, as: Float.self))
                    if v.isNaN { continue }
                    low = min(low, v)
                    high = max(high, v)
                }
            } else {
                // Four lanes at a time, NaNs left out (replaced by the infinity that cannot win).
                let end = start + count
                var k = start
                var lows = SIMD4<Double>(repeating: low), highs = SIMD4<Double>(repeating: high)
                while k + 4 <= end {
                    let v = base.loadUnaligned(fromByteOffset: 8 * k, as: SIMD4<Double>.self)
                    let nan = .!(v .== v)
                    lows = pointwiseMin(lows, v.replacing(with: .infinity, where: nan))
                    highs = pointwiseMax(highs, v.replacing(with: -.infinity, where: nan))
                    k += 4
                }
                low = lows.min()
                high = highs.max()
                while k < end {
                    let v = base.loadUnaligned(fromByteOffset: 8 * k, as: Double.self)
                    k += 1
                    if v.isNaN { continue }
                    low = min(low, v)
                    high = max(high, v)
                }
            }
            (lowFloat, highFloat) = (low, high)
        case .boolean:
            for k in start..<(start + count) {
                let v = Int64(values.values.load(k, as: UInt8.self))
                lowInt = min(lowInt, v)
                highInt = max(highInt, v)
            }
        case .bytes:
            // The first eight bytes, big-endian, settle most comparisons without a library call.
            var lowPrefix = low.map(Self.prefix) ?? 0
            var highPrefix = high.map(Self.prefix) ?? 0
            for k in start..<(start + count) {
                let v = values.isByteArray ? values.byteArray(k)
                    : UnsafeRawBufferPointer(start: values.values.base + k * values.width, count: values.width)
                let p = Self.prefix(v)
                if low == nil || p < lowPrefix || (p == lowPrefix && low.map({ Self.less(v, $0) }) ?? true) {
                    low = Array(v)
                    lowPrefix = p
                }
                if high == nil || p > highPrefix || (p == highPrefix && high.map({ Self.less($0, v) }) ?? true) {
                    high = Array(v)
                    highPrefix = p
                }
            }
        }
        seen = true
    }

    /// Widens `low` and `high` to the integers `range` of `base` holds, stored as `Stored`.
    @inline(__always)
    private static func extremes<Stored: FixedWidthInteger, Wide: FixedWidthInteger>(
        _ base: UnsafeRawPointer, _ range: Range<Int>, as: Stored.Type, _ low: inout Wide, _ high: inout Wide
    ) {
        var lowest = low, highest = high
        for k in range {
            let v = Wide(base.loadUnaligned(fromByteOffset: MemoryLayout<Stored>.size * k, as: Stored.self))
            lowest = min(lowest, v)
            highest = max(highest, v)
        }
        (low, high) = (lowest, highest)
    }

    /// Whether the column's type has an order here (its pages can carry min and max).
    var isOrdered: Bool { order != .none }

    /// Adds what `other` (of the same column) saw.
    mutating func merge(_ other: StatisticsBuilder) {
        nulls += other.nulls
        guard other.seen else { return }
        lowInt = Swift.min(lowInt, other.lowInt)
        highInt = Swift.max(highInt, other.highInt)
        lowUInt = Swift.min(lowUInt, other.lowUInt)
        highUInt = Swift.max(highUInt, other.highUInt)
        lowFloat = Swift.min(lowFloat, other.lowFloat)
        highFloat = Swift.max(highFloat, other.highFloat)
        if let l = other.low, low.map({ Self.compareArrays(l, $0) < 0 }) ?? true { low = l }
        if let h = other.high, high.map({ Self.compareArrays($0, h) < 0 }) ?? true { high = h }
        seen = true
    }

    private static func compareArrays(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in compare(a, b) } }
    }

    /// The first eight bytes of `bytes` as a big-endian integer, zeros after its end: ordered as the bytes are, where they differ.
    @inline(__always)
    private static func prefix(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var p: UInt64 = 0
        for i in 0..<8 { p = p << 8 | UInt64(i < bytes.count ? bytes[i] : 0) }
        return p
    }

    private static func prefix(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { prefix($0) }
    }

    private static func less(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { b in compare(a, b) < 0 }
    }

    private static func less(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.withUnsafeBytes { a in compare(a, b) < 0 }
    }

    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    private static func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// The statistics: null count always; min and max when there were values to compare.
    var statistics: ParquetStatistics {
        var s = ParquetStatistics()
        s.nullCount = nulls
        guard seen else { return s }
        switch order {
        case .none: return s
        case .signed:
            s.minValue = width == 4 ? Self.bytes(Int32(lowInt).littleEndian) : Self.bytes(lowInt.littleEndian)
            s.maxValue = width == 4 ? Self.bytes(Int32(highInt).littleEndian) : Self.bytes(highInt.littleEndian)
        case .unsigned:
            s.minValue = width == 4 ? Self.bytes(UInt32(lowUInt).littleEndian) : Self.bytes(lowUInt.littleEndian)
            s.maxValue = width == 4 ? Self.bytes(UInt32(highUInt).littleEndian) : Self.bytes(highUInt.littleEndian)
        case .float, .double:
            guard lowFloat <= highFloat else { return s }
            // Zeros: the minimum is -0.0 and the maximum +0.0, whichever the data held.
            let low = lowFloat == 0 ? -0.0 : lowFloat, high = highFloat == 0 ? 0.0 : highFloat
            if order == .float {
                s.minValue = Self.bytes(Float(low).bitPattern.littleEndian)
                s.maxValue = Self.bytes(Float(high).bitPattern.littleEndian)
            } else {
                s.minValue = Self.bytes(low.bitPattern.littleEndian)
                s.maxValue = Self.bytes(high.bitPattern.littleEndian)
            }
        case .boolean:
            s.minValue = [UInt8(lowInt)]
            s.maxValue = [UInt8(highInt)]
        case .bytes:
            s.minValue = low
            s.maxValue = high
        }
        return s
    }
}
