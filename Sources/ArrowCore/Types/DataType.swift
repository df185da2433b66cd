/// The unit of a time, timestamp or duration value.
public enum TimeUnit: Int16, Sendable, Hashable, CaseIterable {
    case second = 0, millisecond = 1, microsecond = 2, nanosecond = 3
}

/// The unit of an interval value.
public enum IntervalUnit: Int16, Sendable, Hashable, CaseIterable {
    /// Months, as a 32-bit integer.
    case yearMonth = 0
    /// Days and milliseconds, two 32-bit integers.
    case dayTime = 1
    /// Months and days (32-bit) and nanoseconds (64-bit).
    case monthDayNano = 2
}

/// Whether a union stores every child at full length (sparse) or keeps per-slot offsets (dense).
public enum UnionMode: Int16, Sendable, Hashable {
    case sparse = 0, dense = 1
}

/// The logical type of an Arrow array: the whole Arrow type system.
///
/// Extension types are represented by their storage type plus the `ARROW:extension:name`
/// and `ARROW:extension:metadata` keys in the field's metadata, as the format defines them.
public indirect enum DataType: Sendable, Hashable {
    case null
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float16, float32, float64
    /// A decimal of `bitWidth` 32, 64, 128 or 256 bits.
    case decimal(bitWidth: Int, precision: Int, scale: Int)
    /// Days since the UNIX epoch (32-bit).
    case date32
    /// Milliseconds since the UNIX epoch (64-bit).
    case date64
    /// Time of day in seconds or milliseconds (32-bit).
    case time32(TimeUnit)
    /// Time of day in microseconds or nanoseconds (64-bit).
    case time64(TimeUnit)
    /// An instant (with a time zone) or a wall-clock time (without one), 64-bit.
    case timestamp(TimeUnit, timeZone: String?)
    case duration(TimeUnit)
    case interval(IntervalUnit)
    case binary, utf8, largeBinary, largeUtf8
    case binaryView, utf8View
    case fixedSizeBinary(Int)
    case list(Field)
    case largeList(Field)
    case listView(Field)
    case largeListView(Field)
    case fixedSizeList(Field, Int)
    case `struct`([Field])
    /// A list of key/value structs; the field is the `entries` struct with two children.
    case map(Field, keysSorted: Bool)
    /// A union of `fields`; `typeIDs[i]` is the type id that selects `fields[i]`.
    case union(UnionMode, [Field], typeIDs: [Int8])
    /// Dictionary-encoded values: `index` is an integer type, `value` the dictionary's type.
    case dictionary(index: DataType, value: DataType, ordered: Bool)
    /// Run-end encoded values; `runEnds` is int16, int32 or int64.
    case runEndEncoded(runEnds: Field, values: Field)
}

extension DataType {
    /// The width in bytes of one value for fixed-width types, or nil.
    public var byteWidth: Int? {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16, .float16: 2
        case .int32, .uint32, .float32, .date32, .time32: 4
        case .int64, .uint64, .float64, .date64, .time64, .timestamp, .duration: 8
        case .decimal(let bits, _, _): bits / 8
        case .interval(.yearMonth): 4
        case .interval(.dayTime): 8
        case .interval(.monthDayNano): 16
        case .fixedSizeBinary(let width): width
        default: nil
        }
    }

    /// The integer type of `bitWidth` bits (8, 16, 32 or 64), signed or not; nil for other widths.
    public static func integer(bitWidth: Int, signed: Bool) -> DataType? {
        switch (bitWidth, signed) {
        case (8, true): .int8
        case (16, true): .int16
        case (32, true): .int32
        case (64, true): .int64
        case (8, false): .uint8
        case (16, false): .uint16
        case (32, false): .uint32
        case (64, false): .uint64
        default: nil
        }
    }

    /// The bit width and signedness of an integer type; nil for other types.
    public var integerLayout: (bitWidth: Int, signed: Bool)? {
        switch self {
        case .int8: (8, true)
        case .int16: (16, true)
        case .int32: (32, true)
        case .int64: (64, true)
        case .uint8: (8, false)
        case .uint16: (16, false)
        case .uint32: (32, false)
        case .uint64: (64, false)
        default: nil
        }
    }

    /// Whether the type is an integer type.
    public var isInteger: Bool { integerLayout != nil }

    /// The child fields of a nested type, in layout order.
    public var children: [Field] {
        switch self {
        case .list(let f), .largeList(let f), .listView(let f), .largeListView(let f), .fixedSizeList(let f, _), .map(let f, _):
            [f]
        case .struct(let fields), .union(_, let fields, _): fields
        case .runEndEncoded(let runEnds, let values): [runEnds, values]
        case .dictionary(_, let value, _): value.children
        default: []
        }
    }

    /// The type whose physical layout this type has: the index type for dictionaries.
    public var storageLayoutType: DataType {
        if case .dictionary(let index, _, _) = self { return index }
        return self
    }
}

extension DataType: CustomStringConvertible {
    /// A short human-readable name, like `int32`, `timestamp[ms, tz=UTC]` or `list<item: utf8>`.
    public var description: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float16: "float16"
        case .float32: "float32"
        case .float64: "float64"
        case .decimal(let bits, let p, let s): "decimal\(bits)(\(p), \(s))"
        case .date32: "date32"
        case .date64: "date64"
        case .time32(let u): "time32[\(u.abbreviation)]"
        case .time64(let u): "time64[\(u.abbreviation)]"
        case .timestamp(let u, let tz): tz.map { "timestamp[\(u.abbreviation), tz=\($0)]" } ?? "timestamp[\(u.abbreviation)]"
        case .duration(let u): "duration[\(u.abbreviation)]"
        case .interval(.yearMonth): "interval[year_month]"
        case .interval(.dayTime): "interval[day_time]"
        case .interval(.monthDayNano): "interval[month_day_nano]"
        case .binary: "binary"
        case .utf8: "utf8"
        case .largeBinary: "large_binary"
        case .largeUtf8: "large_utf8"
        case .binaryView: "binary_view"
        case .utf8View: "utf8_view"
        case .fixedSizeBinary(let w): "fixed_size_binary[\(w)]"
        case .list(let f): "list<\(f.name): \(f.type)>"
        case .largeList(let f): "large_list<\(f.name): \(f.type)>"
        case .listView(let f): "list_view<\(f.name): \(f.type)>"
        case .largeListView(let f): "large_list_view<\(f.name): \(f.type)>"
        case .fixedSizeList(let f, let n): "fixed_size_list<\(f.name): \(f.type)>[\(n)]"
        case .struct(let fields): "struct<\(fields.map { "\($0.name): \($0.type)" }.joined(separator: ", "))>"
        case .map(let f, let sorted):
            "map<\(f.type.children.map { "\($0.type)" }.joined(separator: ", "))\(sorted ? ", keys_sorted" : "")>"
        case .union(let mode, let fields, let ids):
            "\(mode == .dense ? "dense" : "sparse")_union<\(zip(fields, ids).map { "\($0.name)=\($1): \($0.type)" }.joined(separator: ", "))>"
        case .dictionary(let index, let value, let ordered):
            "dictionary<values=\(value), indices=\(index)\(ordered ? ", ordered" : "")>"
        case .runEndEncoded(let r, let v): "run_end_encoded<run_ends=\(r.type), values=\(v.type)>"
        }
    }
}

extension TimeUnit {
    /// `s`, `ms`, `us` or `ns`.
    public var abbreviation: String {
        switch self {
        case .second: "s"
        case .millisecond: "ms"
        case .microsecond: "us"
        case .nanosecond: "ns"
        }
    }
}
