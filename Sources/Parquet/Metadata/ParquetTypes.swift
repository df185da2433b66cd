/// A Parquet physical type.
public enum ParquetPhysicalType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    /// The specification's name, for example `FIXED_LEN_BYTE_ARRAY`.
    public var description: String {
        ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"][Int(rawValue)]
    }
}

/// Whether a field is required, optional or repeated.
public enum ParquetRepetition: Int32, Sendable, CustomStringConvertible {
    case required = 0, optional = 1, repeated = 2

    public var description: String { ["REQUIRED", "OPTIONAL", "REPEATED"][Int(rawValue)] }
}

/// A page or column encoding. Open: values from newer versions of the format are kept.
public struct ParquetEncoding: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let plain = Self(rawValue: 0)
    public static let plainDictionary = Self(rawValue: 2)
    public static let rle = Self(rawValue: 3)
    public static let bitPacked = Self(rawValue: 4)
    public static let deltaBinaryPacked = Self(rawValue: 5)
    public static let deltaLengthByteArray = Self(rawValue: 6)
    public static let deltaByteArray = Self(rawValue: 7)
    public static let rleDictionary = Self(rawValue: 8)
    public static let byteStreamSplit = Self(rawValue: 9)

    static let names: [Int32: String] = [
        0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
        6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT", 10: "ALP",
    ]

    /// The specification's name, or `ENCODING(n)` for one this reader does not know.
    public var description: String { Self.names[rawValue] ?? "ENCODING(\(rawValue))" }
}

/// A column chunk's compression codec. Open, like ``ParquetEncoding``.
public struct ParquetCompression: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let uncompressed = Self(rawValue: 0)
    public static let snappy = Self(rawValue: 1)
    public static let gzip = Self(rawValue: 2)
    public static let lzo = Self(rawValue: 3)
    public static let brotli = Self(rawValue: 4)
    public static let lz4 = Self(rawValue: 5)
    public static let zstd = Self(rawValue: 6)
    public static let lz4Raw = Self(rawValue: 7)

    static let names: [Int32: String] = [0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"]

    public var description: String { Self.names[rawValue] ?? "CODEC(\(rawValue))" }
}

/// A legacy converted type. Open, like ``ParquetEncoding``.
public struct ParquetConvertedType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    static let names = ["UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS", "TIME_MICROS",
                        "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16",
                        "INT_32", "INT_64", "JSON", "BSON", "INTERVAL"]

    public static let utf8 = Self(rawValue: 0)
    public static let map = Self(rawValue: 1)
    public static let mapKeyValue = Self(rawValue: 2)
    public static let list = Self(rawValue: 3)
    public static let decimal = Self(rawValue: 5)

    public var description: String {
        (0..<Int32(Self.names.count)).contains(rawValue) ? Self.names[Int(rawValue)] : "CONVERTED_TYPE(\(rawValue))"
    }
}

/// The unit of a TIME or TIMESTAMP logical type.
public enum ParquetTimeUnit: Sendable, Hashable, CustomStringConvertible {
    case milliseconds, microseconds, nanoseconds

    public var description: String {
        switch self {
        case .milliseconds: "MILLIS"
        case .microseconds: "MICROS"
        case .nanoseconds: "NANOS"
        }
    }
}

/// A logical type annotation (`LogicalType` in the specification).
public enum ParquetLogicalType: Sendable, Hashable, CustomStringConvertible {
    case string, map, list, `enum`, date, json, bson, uuid, float16, variant, geometry, geography
    case decimal(scale: Int32, precision: Int32)
    case time(isAdjustedToUTC: Bool, unit: ParquetTimeUnit)
    case timestamp(isAdjustedToUTC: Bool, unit: ParquetTimeUnit)
    case integer(bitWidth: Int8, isSigned: Bool)
    /// `UNKNOWN`: only nulls are stored.
    case null
    /// The legacy INTERVAL converted type (no logical type of the format stands for it).
    case interval
    /// A member of the union this reader does not know (its field id).
    case other(Int16)

    /// The annotation's kind as the specification names it, for example `TIMESTAMP`.
    public var kind: String {
        switch self {
        case .string: "STRING"
        case .map: "MAP"
        case .list: "LIST"
        case .enum: "ENUM"
        case .date: "DATE"
        case .json: "JSON"
        case .bson: "BSON"
        case .uuid: "UUID"
        case .float16: "FLOAT16"
        case .variant: "VARIANT"
        case .geometry: "GEOMETRY"
        case .geography: "GEOGRAPHY"
        case .decimal: "DECIMAL"
        case .time: "TIME"
        case .timestamp: "TIMESTAMP"
        case .integer: "INT"
        case .null: "UNKNOWN"
        case .interval: "INTERVAL"
        case .other(let id): "LOGICAL_TYPE(\(id))"
        }
    }

    public var description: String {
        switch self {
        case .decimal(let scale, let precision): "DECIMAL(\(precision), \(scale))"
        case .time(let utc, let unit): "TIME(\(unit), utc=\(utc))"
        case .timestamp(let utc, let unit): "TIMESTAMP(\(unit), utc=\(utc))"
        case .integer(let bits, let signed): "INT(\(bits), \(signed ? "signed" : "unsigned"))"
        default: kind
        }
    }
}

extension ParquetSchemaElement {
    /// The logical type: the one stored, or the one the legacy converted type stands for, as
    /// the specification's backward-compatibility rules (and Arrow C++) read it.
    public var effectiveLogicalType: ParquetLogicalType? {
        if let logicalType { return logicalType }
        guard let convertedType else { return nil }
        switch convertedType.rawValue {
        case 0: return .string
        case 1, 2: return .map
        case 3: return .list
        case 4: return .enum
        case 5: return .decimal(scale: scale ?? 0, precision: precision ?? 0)
        case 6: return .date
        case 7: return .time(isAdjustedToUTC: true, unit: .milliseconds)
        case 8: return .time(isAdjustedToUTC: true, unit: .microseconds)
        case 9: return .timestamp(isAdjustedToUTC: true, unit: .milliseconds)
        case 10: return .timestamp(isAdjustedToUTC: true, unit: .microseconds)
        case 11...14: return .integer(bitWidth: Int8(8 << (convertedType.rawValue - 11)), isSigned: false)
        case 15...18: return .integer(bitWidth: Int8(8 << (convertedType.rawValue - 15)), isSigned: true)
        case 19: return .json
        case 20: return .bson
        case 21: return .interval
        default: return nil
        }
    }
}
