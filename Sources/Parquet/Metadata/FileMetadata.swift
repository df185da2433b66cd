/// One element of a file's flattened schema (`SchemaElement`).
public struct ParquetSchemaElement: Sendable, Hashable {
    /// The physical type; nil for a group.
    public var type: ParquetPhysicalType?
    /// The byte width of a FIXED_LEN_BYTE_ARRAY.
    public var typeLength: Int32?
    /// Nil only for the root.
    public var repetition: ParquetRepetition?
    public var name: String
    /// The number of children of a group; nil for a leaf.
    public var numChildren: Int32?
    public var convertedType: ParquetConvertedType?
    public var scale: Int32?
    public var precision: Int32?
    public var fieldID: Int32?
    public var logicalType: ParquetLogicalType?
}

/// Min, max and counts of a column chunk or a page (`Statistics`).
public struct ParquetStatistics: Sendable, Hashable {
    /// The deprecated min and max (signed comparison; use ``minValue``/``maxValue`` first).
    public var max: [UInt8]?
    public var min: [UInt8]?
    public var nullCount: Int64?
    public var distinctCount: Int64?
    public var maxValue: [UInt8]?
    public var minValue: [UInt8]?
    public var isMaxValueExact: Bool?
    public var isMinValueExact: Bool?
    public var nanCount: Int64?
}

/// A key and optional value of file or column metadata.
public struct ParquetKeyValue: Sendable, Hashable {
    public var key: String
    public var value: String?
}

/// How many pages of a type used an encoding (`PageEncodingStats`).
public struct ParquetPageEncodingStats: Sendable, Hashable {
    /// The page type: 0 data, 1 index, 2 dictionary, 3 data v2.
    public var pageType: Int32
    public var encoding: ParquetEncoding
    public var count: Int32
}

/// What a column chunk holds and where (`ColumnMetaData`).
public struct ParquetColumnMetadata: Sendable, Hashable {
    public var type: ParquetPhysicalType
    public var encodings: [ParquetEncoding]
    public var pathInSchema: [String]
    public var codec: ParquetCompression
    public var numValues: Int64
    public var totalUncompressedSize: Int64
    public var totalCompressedSize: Int64
    public var keyValueMetadata: [ParquetKeyValue]?
    public var dataPageOffset: Int64
    public var indexPageOffset: Int64?
    public var dictionaryPageOffset: Int64?
    public var statistics: ParquetStatistics?
    public var encodingStats: [ParquetPageEncodingStats]?
    public var bloomFilterOffset: Int64?
    public var bloomFilterLength: Int32?
}

/// One column of one row group (`ColumnChunk`).
public struct ParquetColumnChunk: Sendable, Hashable {
    /// Set when the chunk lives in another file.
    public var filePath: String?
    public var fileOffset: Int64
    /// Nil when the column's metadata is encrypted (see ``encryptedColumnMetadata``).
    public var metadata: ParquetColumnMetadata?
    public var offsetIndexOffset: Int64?
    public var offsetIndexLength: Int32?
    public var columnIndexOffset: Int64?
    public var columnIndexLength: Int32?
    /// Whether the chunk says how it is encrypted.
    public var isEncrypted: Bool
    /// Which key encrypts the chunk.
    public var crypto: ParquetColumnCrypto?
    public var encryptedColumnMetadata: [UInt8]?
}

/// A column a row group is sorted by.
public struct ParquetSortingColumn: Sendable, Hashable {
    public var columnIndex: Int32
    public var descending: Bool
    public var nullsFirst: Bool
}

/// A horizontal slice of the file (`RowGroup`).
public struct ParquetRowGroup: Sendable, Hashable {
    public var columns: [ParquetColumnChunk]
    public var totalByteSize: Int64
    public var numRows: Int64
    public var sortingColumns: [ParquetSortingColumn]?
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?
}

/// How min and max of a column compare (`ColumnOrder`).
public enum ParquetColumnOrder: Sendable, Hashable {
    case typeDefined, ieee754TotalOrder, int96Timestamp
    /// A member this reader does not know.
    case other(Int16)
}

/// A file's footer (`FileMetaData`).
public struct ParquetFileMetadata: Sendable, Hashable {
    public var version: Int32
    /// The schema, flattened depth first; ``ParquetSchema`` is its tree.
    public var schema: [ParquetSchemaElement]
    public var numRows: Int64
    public var rowGroups: [ParquetRowGroup]
    public var keyValueMetadata: [ParquetKeyValue]?
    public var createdBy: String?
    public var columnOrders: [ParquetColumnOrder]?
    /// Whether the footer names an encryption algorithm (a plaintext footer of an encrypted file).
    public var hasEncryptionAlgorithm: Bool
    /// The encryption algorithm a plaintext footer names.
    public var encryptionAlgorithm: ParquetEncryptionAlgorithm?
    public var footerSigningKeyMetadata: [UInt8]?

    /// Decodes a footer's Thrift bytes.
    public init(thrift bytes: UnsafeRawBufferPointer) throws(ParquetError) {
        var reader = ThriftCompactReader(bytes)
        self = try Self.read(&reader)
    }

    init(version: Int32, schema: [ParquetSchemaElement], numRows: Int64, rowGroups: [ParquetRowGroup]) {
        self.version = version
        self.schema = schema
        self.numRows = numRows
        self.rowGroups = rowGroups
        hasEncryptionAlgorithm = false
    }
}

// MARK: Decoding

private func missing(_ field: String, of structure: String) -> ParquetError {
    ParquetError("\(structure) lacks its required field '\(field)'")
}

extension ThriftCompactReader {
    // Each reads the field's value, or skips a field of another type and gives nil.

    fileprivate mutating func readBool(_ field: FieldHeader) throws(ParquetError) -> Bool? {
        try accepts(field, .boolTrue, or: .boolFalse) ? field.boolValue : nil
    }

    fileprivate mutating func i32(_ field: FieldHeader) throws(ParquetError) -> Int32? {
        try accepts(field, .i32) ? try readI32() : nil
    }

    fileprivate mutating func i64(_ field: FieldHeader) throws(ParquetError) -> Int64? {
        try accepts(field, .i64) ? try readI64() : nil
    }

    fileprivate mutating func i16(_ field: FieldHeader) throws(ParquetError) -> Int16? {
        try accepts(field, .i16) ? try readI16() : nil
    }

    fileprivate mutating func i8(_ field: FieldHeader) throws(ParquetError) -> Int8? {
        try accepts(field, .byte) ? try readI8() : nil
    }

    fileprivate mutating func binary(_ field: FieldHeader) throws(ParquetError) -> [UInt8]? {
        try accepts(field, .binary) ? try readBinary() : nil
    }

    fileprivate mutating func string(_ field: FieldHeader) throws(ParquetError) -> String? {
        try accepts(field, .binary) ? try readString() : nil
    }

    fileprivate mutating func list<T>(_ field: FieldHeader, _ element: (inout ThriftCompactReader, FieldType) throws(ParquetError) -> T) throws(ParquetError) -> [T]? {
        try accepts(field, .list, or: .set) ? try readList(element) : nil
    }

    fileprivate mutating func structure<T>(_ field: FieldHeader, _ read: (inout ThriftCompactReader) throws(ParquetError) -> T) throws(ParquetError) -> T? {
        try accepts(field, .struct) ? try read(&self) : nil
    }

    /// A union: the one member's id, its value read or skipped by `member`.
    fileprivate mutating func union<T>(_ name: String, _ member: (inout ThriftCompactReader, FieldHeader) throws(ParquetError) -> T) throws(ParquetError) -> T {
        var value: T?
        try readStruct { reader, field throws(ParquetError) in
            guard value == nil else {
                try reader.skip(field.type)
                return
            }
            value = try member(&reader, field)
        }
        guard let value else { throw ParquetError("\(name) union with no member") }
        return value
    }

    fileprivate mutating func elementI32(_ type: FieldType) throws(ParquetError) -> Int32 {
        guard type == .i32 else { throw ParquetError("list of \(type) where i32 was expected") }
        return try readI32()
    }

    fileprivate mutating func elementString(_ type: FieldType) throws(ParquetError) -> String {
        guard type == .binary else { throw ParquetError("list of \(type) where strings were expected") }
        return try readString()
    }

    fileprivate mutating func elementStruct<T>(_ type: FieldType, _ read: (inout ThriftCompactReader) throws(ParquetError) -> T) throws(ParquetError) -> T {
        guard type == .struct else { throw ParquetError("list of \(type) where structs were expected") }
        return try read(&self)
    }
}

extension ParquetFileMetadata {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetFileMetadata {
        var version: Int32?, schema: [ParquetSchemaElement]?, numRows: Int64?, rowGroups: [ParquetRowGroup]?
        var keyValue: [ParquetKeyValue]?, createdBy: String?, orders: [ParquetColumnOrder]?
        var encrypted = false, signing: [UInt8]?, algorithm: ParquetEncryptionAlgorithm?
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1: version = try r.i32(f)
            case 2: schema = try r.list(f) { r, t throws(ParquetError) in try r.elementStruct(t, ParquetSchemaElement.read) }
            case 3: numRows = try r.i64(f)
            case 4: rowGroups = try r.list(f) { r, t throws(ParquetError) in try r.elementStruct(t, ParquetRowGroup.read) }
            case 5: keyValue = try r.list(f) { r, t throws(ParquetError) in try r.elementStruct(t, ParquetKeyValue.read) }
            case 6: createdBy = try r.string(f)
            case 7:
                orders = try r.list(f) { r, t throws(ParquetError) in
                    try r.elementStruct(t) { r throws(ParquetError) in
                        try r.union("ColumnOrder") { r, f throws(ParquetError) in
                            try r.skip(f.type)
                            switch f.id {
                            case 1: return ParquetColumnOrder.typeDefined
                            case 2: return .ieee754TotalOrder
                            case 3: return .int96Timestamp
                            default: return .other(f.id)
                            }
                        }
                    }
                }
            case 8:
                if f.type == .struct {
                    algorithm = try ParquetEncryptionAlgorithm.read(&r)
                } else {
                    try r.skip(f.type)
                }
                encrypted = true
            case 9: signing = try r.binary(f)
            default: try r.skip(f.type)
            }
        }
        guard let version else { throw missing("version", of: "FileMetaData") }
        guard let schema else { throw missing("schema", of: "FileMetaData") }
        guard let numRows else { throw missing("num_rows", of: "FileMetaData") }
        guard let rowGroups else { throw missing("row_groups", of: "FileMetaData") }
        var metadata = ParquetFileMetadata(version: version, schema: schema, numRows: numRows, rowGroups: rowGroups)
        metadata.keyValueMetadata = keyValue
        metadata.createdBy = createdBy
        metadata.columnOrders = orders
        metadata.hasEncryptionAlgorithm = encrypted
        metadata.encryptionAlgorithm = algorithm
        metadata.footerSigningKeyMetadata = signing
        return metadata
    }
}

extension ParquetKeyValue {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetKeyValue {
        var key: String?, value: String?
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1: key = try r.string(f)
            case 2: value = try r.string(f)
            default: try r.skip(f.type)
            }
        }
        guard let key else { throw missing("key", of: "KeyValue") }
        return ParquetKeyValue(key: key, value: value)
    }
}

extension ParquetSchemaElement {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetSchemaElement {
        var element = ParquetSchemaElement(name: "")
        var name: String?
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1:
                guard let raw = try r.i32(f) else { return }
                guard let type = ParquetPhysicalType(rawValue: raw) else { throw ParquetError("unknown physical type \(raw)") }
                element.type = type
            case 2: element.typeLength = try r.i32(f)
            case 3:
                guard let raw = try r.i32(f) else { return }
                guard let repetition = ParquetRepetition(rawValue: raw) else { throw ParquetError("unknown repetition type \(raw)") }
                element.repetition = repetition
            case 4: name = try r.string(f)
            case 5: element.numChildren = try r.i32(f)
            case 6: element.convertedType = try r.i32(f).map(ParquetConvertedType.init(rawValue:))
            case 7: element.scale = try r.i32(f)
            case 8: element.precision = try r.i32(f)
            case 9: element.fieldID = try r.i32(f)
            case 10: element.logicalType = try r.structure(f, ParquetLogicalType.read)
            default: try r.skip(f.type)
            }
        }
        guard let name else { throw missing("name", of: "SchemaElement") }
        element.name = name
        return element
    }

    init(name: String) {
        self.name = name
    }
}

extension ParquetLogicalType {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetLogicalType {
        try r.union("LogicalType") { r, f throws(ParquetError) in
            switch f.id {
            case 5:
                var scale: Int32?, precision: Int32?
                _ = try r.structure(f) { r throws(ParquetError) in
                    try r.readStruct { r, f throws(ParquetError) in
                        switch f.id {
                        case 1: scale = try r.i32(f)
                        case 2: precision = try r.i32(f)
                        default: try r.skip(f.type)
                        }
                    }
                }
                guard let scale, let precision else { throw missing("scale and precision", of: "DecimalType") }
                return .decimal(scale: scale, precision: precision)
            case 7, 8:
                var utc: Bool?, unit: ParquetTimeUnit?
                _ = try r.structure(f) { r throws(ParquetError) in
                    try r.readStruct { r, f throws(ParquetError) in
                        switch f.id {
                        case 1: utc = try r.readBool(f)
                        case 2: unit = try r.structure(f, ParquetTimeUnit.read)
                        default: try r.skip(f.type)
                        }
                    }
                }
                guard let utc, let unit else { throw missing("isAdjustedToUTC and unit", of: f.id == 7 ? "TimeType" : "TimestampType") }
                return f.id == 7 ? .time(isAdjustedToUTC: utc, unit: unit) : .timestamp(isAdjustedToUTC: utc, unit: unit)
            case 10:
                var bits: Int8?, signed: Bool?
                _ = try r.structure(f) { r throws(ParquetError) in
                    try r.readStruct { r, f throws(ParquetError) in
                        switch f.id {
                        case 1: bits = try r.i8(f)
                        case 2: signed = try r.readBool(f)
                        default: try r.skip(f.type)
                        }
                    }
                }
                guard let bits, let signed else { throw missing("bitWidth and isSigned", of: "IntType") }
                return .integer(bitWidth: bits, isSigned: signed)
            default:
                try r.skip(f.type)
                let simple: [Int16: ParquetLogicalType] = [
                    1: .string, 2: .map, 3: .list, 4: .enum, 6: .date, 11: .null, 12: .json, 13: .bson, 14: .uuid,
                    15: .float16, 16: .variant, 17: .geometry, 18: .geography,
                ]
                return simple[f.id] ?? .other(f.id)
            }
        }
    }
}

extension ParquetTimeUnit {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetTimeUnit {
        try r.union("TimeUnit") { r, f throws(ParquetError) in
            try r.skip(f.type)
            switch f.id {
            case 1: return .milliseconds
            case 2: return .microseconds
            case 3: return .nanoseconds
            default: throw ParquetError("unknown time unit \(f.id)")
            }
        }
    }
}

extension ParquetStatistics {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetStatistics {
        var s = ParquetStatistics()
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1: s.max = try r.binary(f)
            case 2: s.min = try r.binary(f)
            case 3: s.nullCount = try r.i64(f)
            case 4: s.distinctCount = try r.i64(f)
            case 5: s.maxValue = try r.binary(f)
            case 6: s.minValue = try r.binary(f)
            case 7: s.isMaxValueExact = try r.readBool(f)
            case 8: s.isMinValueExact = try r.readBool(f)
            case 9: s.nanCount = try r.i64(f)
            default: try r.skip(f.type)
            }
        }
        return s
    }
}

extension ParquetColumnMetadata {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetColumnMetadata {
        var type: ParquetPhysicalType?, encodings: [ParquetEncoding]?, path: [String]?, codec: ParquetCompression?
        var numValues: Int64?, uncompressed: Int64?, compressed: Int64?, dataPageOffset: Int64?
        var keyValue: [ParquetKeyValue]?, indexPageOffset: Int64?, dictionaryPageOffset: Int64?
        var statistics: ParquetStatistics?, encodingStats: [ParquetPageEncodingStats]?
        var bloomOffset: Int64?, bloomLength: Int32?
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1:
                guard let raw = try r.i32(f) else { return }
                guard let known = ParquetPhysicalType(rawValue: raw) else { throw ParquetError("unknown physical type \(raw)") }
                type = known
            case 2: encodings = try r.list(f) { r, t throws(ParquetError) in ParquetEncoding(rawValue: try r.elementI32(t)) }
            case 3: path = try r.list(f) { r, t throws(ParquetError) in try r.elementString(t) }
            case 4: codec = try r.i32(f).map(ParquetCompression.init(rawValue:))
            case 5: numValues = try r.i64(f)
            case 6: uncompressed = try r.i64(f)
            case 7: compressed = try r.i64(f)
            case 8: keyValue = try r.list(f) { r, t throws(ParquetError) in try r.elementStruct(t, ParquetKeyValue.read) }
            case 9: dataPageOffset = try r.i64(f)
            case 10: indexPageOffset = try r.i64(f)
            case 11: dictionaryPageOffset = try r.i64(f)
            case 12: statistics = try r.structure(f, ParquetStatistics.read)
            case 13:
                encodingStats = try r.list(f) { r, t throws(ParquetError) in
                    try r.elementStruct(t) { r throws(ParquetError) in
                        var pageType: Int32?, encoding: Int32?, count: Int32?
                        try r.readStruct { r, f throws(ParquetError) in
                            switch f.id {
                            case 1: pageType = try r.i32(f)
                            case 2: encoding = try r.i32(f)
                            case 3: count = try r.i32(f)
                            default: try r.skip(f.type)
                            }
                        }
                        guard let pageType, let encoding, let count else { throw missing("page_type, encoding and count", of: "PageEncodingStats") }
                        return ParquetPageEncodingStats(pageType: pageType, encoding: ParquetEncoding(rawValue: encoding), count: count)
                    }
                }
            case 14: bloomOffset = try r.i64(f)
            case 15: bloomLength = try r.i32(f)
            default: try r.skip(f.type)
            }
        }
        guard let type else { throw missing("type", of: "ColumnMetaData") }
        guard let encodings else { throw missing("encodings", of: "ColumnMetaData") }
        guard let path else { throw missing("path_in_schema", of: "ColumnMetaData") }
        guard let codec else { throw missing("codec", of: "ColumnMetaData") }
        guard let numValues else { throw missing("num_values", of: "ColumnMetaData") }
        guard let uncompressed else { throw missing("total_uncompressed_size", of: "ColumnMetaData") }
        guard let compressed else { throw missing("total_compressed_size", of: "ColumnMetaData") }
        guard let dataPageOffset else { throw missing("data_page_offset", of: "ColumnMetaData") }
        return ParquetColumnMetadata(type: type, encodings: encodings, pathInSchema: path, codec: codec, numValues: numValues,
                                     totalUncompressedSize: uncompressed, totalCompressedSize: compressed, keyValueMetadata: keyValue,
                                     dataPageOffset: dataPageOffset, indexPageOffset: indexPageOffset,
                                     dictionaryPageOffset: dictionaryPageOffset, statistics: statistics, encodingStats: encodingStats,
                                     bloomFilterOffset: bloomOffset, bloomFilterLength: bloomLength)
    }
}

extension ParquetColumnChunk {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetColumnChunk {
        var chunk = ParquetColumnChunk(fileOffset: 0, isEncrypted: false)
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1: chunk.filePath = try r.string(f)
            case 2: chunk.fileOffset = try r.i64(f) ?? chunk.fileOffset
            case 3: chunk.metadata = try r.structure(f, ParquetColumnMetadata.read)
            case 4: chunk.offsetIndexOffset = try r.i64(f)
            case 5: chunk.offsetIndexLength = try r.i32(f)
            case 6: chunk.columnIndexOffset = try r.i64(f)
            case 7: chunk.columnIndexLength = try r.i32(f)
            case 8:
                if f.type == .struct {
                    chunk.crypto = try ParquetColumnCrypto.read(&r)
                } else {
                    try r.skip(f.type)
                }
                chunk.isEncrypted = true
            case 9: chunk.encryptedColumnMetadata = try r.binary(f)
            default: try r.skip(f.type)
            }
        }
        return chunk
    }

    init(fileOffset: Int64, isEncrypted: Bool) {
        self.fileOffset = fileOffset
        self.isEncrypted = isEncrypted
    }
}

extension ParquetRowGroup {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetRowGroup {
        var columns: [ParquetColumnChunk]?, totalByteSize: Int64?, numRows: Int64?
        var sorting: [ParquetSortingColumn]?, fileOffset: Int64?, compressed: Int64?, ordinal: Int16?
        try r.readStruct { r, f throws(ParquetError) in
            switch f.id {
            case 1: columns = try r.list(f) { r, t throws(ParquetError) in try r.elementStruct(t, ParquetColumnChunk.read) }
            case 2: totalByteSize = try r.i64(f)
            case 3: numRows = try r.i64(f)
            case 4:
                sorting = try r.list(f) { r, t throws(ParquetError) in
                    try r.elementStruct(t) { r throws(ParquetError) in
                        var index: Int32?, descending: Bool?, nullsFirst: Bool?
                        try r.readStruct { r, f throws(ParquetError) in
                            switch f.id {
                            case 1: index = try r.i32(f)
                            case 2: descending = try r.readBool(f)
                            case 3: nullsFirst = try r.readBool(f)
                            default: try r.skip(f.type)
                            }
                        }
                        guard let index, let descending, let nullsFirst else { throw missing("column_idx, descending and nulls_first", of: "SortingColumn") }
                        return ParquetSortingColumn(columnIndex: index, descending: descending, nullsFirst: nullsFirst)
                    }
                }
            case 5: fileOffset = try r.i64(f)
            case 6: compressed = try r.i64(f)
            case 7: ordinal = try r.i16(f)
            default: try r.skip(f.type)
            }
        }
        guard let columns else { throw missing("columns", of: "RowGroup") }
        guard let totalByteSize else { throw missing("total_byte_size", of: "RowGroup") }
        guard let numRows else { throw missing("num_rows", of: "RowGroup") }
        return ParquetRowGroup(columns: columns, totalByteSize: totalByteSize, numRows: numRows, sortingColumns: sorting,
                               fileOffset: fileOffset, totalCompressedSize: compressed, ordinal: ordinal)
    }
}
