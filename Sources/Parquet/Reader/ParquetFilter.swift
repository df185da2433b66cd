import ArrowCore
import Foundation

/// A value a filter compares a column with.
public enum ParquetValue: Sendable, Hashable, CustomStringConvertible {
    /// An integer: integer columns, and dates, times, timestamps and durations in their units.
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case bytes([UInt8])

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .double(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let v): "'\(v)'"
        case .bytes(let v): "0x" + v.map { String(format: "%02x", $0) }.joined()
        }
    }
}

/// A condition on one top-level column. A null never satisfies a comparison (as in SQL).
public enum ParquetPredicate: Sendable, Hashable, CustomStringConvertible {
    case equal(String, ParquetValue)
    case notEqual(String, ParquetValue)
    case less(String, ParquetValue)
    case lessOrEqual(String, ParquetValue)
    case greater(String, ParquetValue)
    case greaterOrEqual(String, ParquetValue)
    case isIn(String, [ParquetValue])
    case isNull(String)
    case isNotNull(String)

    /// The column the condition is on.
    public var column: String {
        switch self {
        case .equal(let c, _), .notEqual(let c, _), .less(let c, _), .lessOrEqual(let c, _), .greater(let c, _),
             .greaterOrEqual(let c, _), .isIn(let c, _), .isNull(let c), .isNotNull(let c): c
        }
    }

    public var description: String {
        switch self {
        case .equal(let c, let v): "\(c) = \(v)"
        case .notEqual(let c, let v): "\(c) != \(v)"
        case .less(let c, let v): "\(c) < \(v)"
        case .lessOrEqual(let c, let v): "\(c) <= \(v)"
        case .greater(let c, let v): "\(c) > \(v)"
        case .greaterOrEqual(let c, let v): "\(c) >= \(v)"
        case .isIn(let c, let vs): "\(c) in (\(vs.map(\.description).joined(separator: ", ")))"
        case .isNull(let c): "\(c) is null"
        case .isNotNull(let c): "\(c) is not null"
        }
    }

    /// Conditions in the JSON form `[["col", ">=", 10], ["name", "in", ["a", "b"]], ["x", "is_null"]]`
    /// (operators `=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `is_null`, `not_null`), all of which must hold.
    public static func parse(json: String) throws(ParquetError) -> [ParquetPredicate] {
        guard let data = json.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw ParquetError("a filter is a JSON list of conditions, like [[\"col\", \">=\", 10]]")
        }
        var out: [ParquetPredicate] = []
        for item in list {
            guard let condition = item as? [Any], condition.count >= 2, let column = condition[0] as? String,
                  let op = condition[1] as? String else {
                throw ParquetError("a condition is [column, operator, value]: \(item)")
            }
            if op == "is_null" || op == "not_null" {
                guard condition.count == 2 else { throw ParquetError("\(op) takes no value") }
                out.append(op == "is_null" ? .isNull(column) : .isNotNull(column))
                continue
            }
            guard condition.count == 3 else { throw ParquetError("\(op) takes one value: \(item)") }
            if op == "in" {
                guard let values = condition[2] as? [Any] else { throw ParquetError("in takes a list of values") }
                var parsed: [ParquetValue] = []
                for value in values { parsed.append(try Self.value(value)) }
                out.append(.isIn(column, parsed))
                continue
            }
            let value = try Self.value(condition[2])
            switch op {
            case "=", "==": out.append(.equal(column, value))
            case "!=": out.append(.notEqual(column, value))
            case "<": out.append(.less(column, value))
            case "<=": out.append(.lessOrEqual(column, value))
            case ">": out.append(.greater(column, value))
            case ">=": out.append(.greaterOrEqual(column, value))
            default: throw ParquetError("unknown operator '\(op)' (=, !=, <, <=, >, >=, in, is_null, not_null)")
            }
        }
        return out
    }

    private static func value(_ any: Any) throws(ParquetError) -> ParquetValue {
        if let number = any as? NSNumber {
            // JSON's true and false are chars, its integers long longs, its other numbers doubles.
            switch String(cString: number.objCType) {
            case "c", "B": return .bool(number.boolValue)
            case "d", "f": return .double(number.doubleValue)
            default: return .int(number.int64Value)
            }
        }
        if let string = any as? String { return .string(string) }
        throw ParquetError("a filter value must be a number, a string or a boolean: \(any)")
    }
}

/// A column's values as a filter compares them.
enum FilterValue: Equatable {
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bytes([UInt8])

    /// `a` against `b`: negative, zero or positive; nil when they cannot be compared (NaN, or
    /// a number against bytes).
    static func order(_ a: FilterValue, _ b: FilterValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.uint(let x), .uint(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.uint(let x), .int(let y)): return y < 0 ? 1 : (x < UInt64(y) ? -1 : (x == UInt64(y) ? 0 : 1))
        case (.int(let x), .uint(let y)): return x < 0 ? -1 : (UInt64(x) < y ? -1 : (UInt64(x) == y ? 0 : 1))
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .int(let y)): return order(.double(x), .double(Double(y)))
        case (.int(let x), .double(let y)): return order(.double(Double(x)), .double(y))
        case (.double(let x), .uint(let y)): return order(.double(x), .double(Double(y)))
        case (.uint(let x), .double(let y)): return order(.double(Double(x)), .double(y))
        case (.bytes(let x), .bytes(let y)):
            for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default: return nil
        }
    }

    init?(_ value: ParquetValue) {
        switch value {
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .bool(let v): self = .int(v ? 1 : 0)
        case .string(let v): self = .bytes(Array(v.utf8))
        case .bytes(let v): self = .bytes(v)
        }
    }
}

extension ParquetPredicate {
    /// Whether rows whose values lie in `min...max` (nil: not known), with `nulls` nulls of
    /// `values`, may satisfy the condition. False only when none can.
    func mayMatch(min: FilterValue?, max: FilterValue?, nulls: Int64?, values: Int64) -> Bool {
        let allNull = nulls.map { $0 == values } ?? false
        switch self {
        case .isNull: return nulls.map { $0 > 0 } ?? true
        case .isNotNull: return !allNull
        default: break
        }
        if allNull { return false }
        guard let min, let max else { return true }
        func compare(_ a: FilterValue, _ v: ParquetValue) -> Int? { FilterValue(v).flatMap { FilterValue.order(a, $0) } }
        switch self {
        case .equal(_, let v):
            guard let low = compare(min, v), let high = compare(max, v) else { return true }
            return low <= 0 && high >= 0
        case .notEqual(_, let v):
            guard let low = compare(min, v), let high = compare(max, v) else { return true }
            return !(low == 0 && high == 0 && (nulls ?? 1) == 0)
        case .less(_, let v): return compare(min, v).map { $0 < 0 } ?? true
        case .lessOrEqual(_, let v): return compare(min, v).map { $0 <= 0 } ?? true
        case .greater(_, let v): return compare(max, v).map { $0 > 0 } ?? true
        case .greaterOrEqual(_, let v): return compare(max, v).map { $0 >= 0 } ?? true
        case .isIn(_, let vs):
            return vs.contains { v in
                guard let low = compare(min, v), let high = compare(max, v) else { return true }
                return low <= 0 && high >= 0
            }
        case .isNull, .isNotNull: return true
        }
    }

    /// Whether a row whose value is `value` (nil: null) satisfies the condition.
    func matches(_ value: FilterValue?) -> Bool {
        switch self {
        case .isNull: return value == nil
        case .isNotNull: return value != nil
        default: break
        }
        guard let value else { return false }
        func compare(_ v: ParquetValue) -> Int? { FilterValue(v).flatMap { FilterValue.order(value, $0) } }
        switch self {
        case .equal(_, let v): return compare(v) == 0
        case .notEqual(_, let v): return compare(v).map { $0 != 0 } ?? false
        case .less(_, let v): return compare(v).map { $0 < 0 } ?? false
        case .lessOrEqual(_, let v): return compare(v).map { $0 <= 0 } ?? false
        case .greater(_, let v): return compare(v).map { $0 > 0 } ?? false
        case .greaterOrEqual(_, let v): return compare(v).map { $0 >= 0 } ?? false
        case .isIn(_, let vs): return vs.contains { compare($0) == 0 }
        case .isNull, .isNotNull: return true
        }
    }
}

/// Statistics and values decoded for comparison.
enum FilterValues {
    /// The value statistics bytes stand for, for a leaf column; nil when the type has no order here.
    static func statistic(_ bytes: [UInt8]?, column: ParquetSchema.Column) -> FilterValue? {
        guard let bytes else { return nil }
        let unsigned: Bool
        if case .integer(_, false) = column.element.effectiveLogicalType { unsigned = true } else { unsigned = false }
        func load<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard bytes.count == MemoryLayout<T>.size else { return nil }
            return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
        }
        switch column.physicalType {
        case .boolean: return bytes.first.map { .int(Int64($0 & 1)) }
        case .int32:
            if unsigned { return load(UInt32.self).map { .uint(UInt64($0)) } }
            return load(Int32.self).map { .int(Int64($0)) }
        case .int64:
            if unsigned { return load(UInt64.self).map { .uint($0) } }
            return load(Int64.self).map { .int($0) }
        case .float: return load(UInt32.self).map { .double(Double(Float(bitPattern: $0))) }
        case .double: return load(UInt64.self).map { .double(Double(bitPattern: $0)) }
        case .byteArray, .fixedLenByteArray:
            if case .decimal = column.element.effectiveLogicalType { return nil }
            if case .float16 = column.element.effectiveLogicalType { return nil }
            return .bytes(bytes)
        case .int96: return nil
        }
    }

    /// The PLAIN encoding of `value` in `column` (what its bloom filter hashes); nil when the value
    /// has no exact form there, so that the filter cannot be consulted.
    static func plain(_ value: ParquetValue, column: ParquetSchema.Column) -> [UInt8]? {
        func bytes<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
        var unsigned = false
        if case .integer(_, false) = column.element.effectiveLogicalType { unsigned = true }
        switch (column.physicalType, value) {
        case (.int32, .int(let v)):
            if unsigned { return UInt32(exactly: v).map { bytes($0.littleEndian) } }
            return Int32(exactly: v).map { bytes($0.littleEndian) }
        case (.int64, .int(let v)):
            if unsigned && v < 0 { return nil }
            return bytes(v.littleEndian)
        case (.float, .double(let v)): return Float(exactly: v).map { bytes($0.bitPattern.littleEndian) }
        case (.float, .int(let v)): return Float(exactly: v).map { bytes($0.bitPattern.littleEndian) }
        case (.double, .double(let v)): return bytes(v.bitPattern.littleEndian)
        case (.double, .int(let v)): return Double(exactly: v).map { bytes($0.bitPattern.littleEndian) }
        case (.byteArray, .string(let v)): return Array(v.utf8)
        case (.byteArray, .bytes(let v)): return v
        case (.fixedLenByteArray, .bytes(let v)) where v.count == Int(column.element.typeLength ?? -1): return v
        default: return nil
        }
    }

    /// Slot `i` of `array` for comparison; nil for a null (or a type filters do not compare).
    static func value(_ array: ArrayData, _ i: Int) -> FilterValue? {
        guard array.isValid(i) else { return nil }
        switch array.type {
        case .bool: return .int(array.boolValue(i) ? 1 : 0)
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .date32, .date64, .time32, .time64, .timestamp, .duration:
            return .int(Int64(array.integer(i)))
        case .uint64: return .uint(array.value(i, as: UInt64.self))
        case .float32: return .double(Double(array.value(i, as: Float.self)))
        case .float64: return .double(array.value(i, as: Double.self))
        case .utf8, .binary, .largeUtf8, .largeBinary, .utf8View, .binaryView, .fixedSizeBinary: return .bytes(Array(array.bytes(i)))
        case .dictionary:
            guard let dictionary = array.dictionary else { return nil }
            let index = array.dictionaryIndex(i)
            guard index >= 0, index < dictionary.length else { return nil }
            return value(dictionary, index)
        default: return nil
        }
    }
}
