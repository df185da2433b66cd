import ArrowCore

/// A leaf column as the writer writes it.
struct WriteLeaf {
    let path: [String]
    let element: ParquetSchemaElement
    let physicalType: ParquetPhysicalType
    /// The Arrow type of the values the leaf takes (a dictionary's value type for a dictionary).
    let arrowType: DataType
    let maxDefinition: Int
    let maxRepetition: Int

    var typeLength: Int { Int(element.typeLength ?? 0) }
}

/// How an Arrow field's arrays become its leaves' levels and values.
indirect enum WriteNode {
    case leaf(Int, nullable: Bool)
    case structure([WriteNode], nullable: Bool, leaves: Range<Int>)
    /// A list, large list, fixed-size list, list view or map: its elements repeat at `repetition`.
    case list(WriteNode, nullable: Bool, repetition: Int16, leaves: Range<Int>)

    var leaves: Range<Int> {
        switch self {
        case .leaf(let i, _): i..<(i + 1)
        case .structure(_, _, let l), .list(_, _, _, let l): l
        }
    }
}

/// An Arrow schema as Parquet: the flattened schema elements, the leaves, and a node per field.
struct WriterSchema {
    var elements: [ParquetSchemaElement] = []
    var leaves: [WriteLeaf] = []
    var nodes: [WriteNode] = []

    init(_ schema: Schema) throws(ParquetError) {
        elements.append(ParquetSchemaElement(name: "schema", numChildren: Int32(schema.fields.count)))
        for field in schema.fields {
            nodes.append(try node(field, path: [], definition: 0, repetition: 0))
        }
    }

    private mutating func node(_ field: Field, path: [String], definition: Int, repetition: Int) throws(ParquetError) -> WriteNode {
        let path = path + [field.name]
        let repetitionType: ParquetRepetition = field.nullable ? .optional : .required
        let definition = definition + (field.nullable ? 1 : 0)
        var type = field.type
        if case .dictionary(_, let value, _) = type { type = value }
        switch type {
        case .struct(let children):
            guard !children.isEmpty else { throw ParquetError("field \(field.name): a struct without fields has no Parquet form") }
            elements.append(ParquetSchemaElement(repetition: repetitionType, name: field.name, numChildren: Int32(children.count)))
            let first = leaves.count
            var nodes: [WriteNode] = []
            for child in children { nodes.append(try node(child, path: path, definition: definition, repetition: repetition)) }
            return .structure(nodes, nullable: field.nullable, leaves: first..<leaves.count)
        case .list(let item), .largeList(let item), .fixedSizeList(let item, _), .listView(let item), .largeListView(let item):
            elements.append(ParquetSchemaElement(repetition: repetitionType, name: field.name, numChildren: 1,
                                                 convertedType: .list, logicalType: .list))
            elements.append(ParquetSchemaElement(repetition: .repeated, name: "list", numChildren: 1))
            let first = leaves.count
            var element = item
            element.name = "element"
            let child = try node(element, path: path + ["list"], definition: definition + 1, repetition: repetition + 1)
            return .list(child, nullable: field.nullable, repetition: Int16(repetition + 1), leaves: first..<leaves.count)
        case .map(let entries, _):
            guard case .struct(let pair) = entries.type, pair.count == 2 else {
                throw ParquetError("field \(field.name): a map whose entries are not key-value structs")
            }
            elements.append(ParquetSchemaElement(repetition: repetitionType, name: field.name, numChildren: 1,
                                                 convertedType: .map, logicalType: .map))
            elements.append(ParquetSchemaElement(repetition: .repeated, name: "key_value", numChildren: 2))
            let first = leaves.count
            var key = pair[0], value = pair[1]
            key.name = "key"
            key.nullable = false
            value.name = "value"
            let keyNode = try node(key, path: path + ["key_value"], definition: definition + 1, repetition: repetition + 1)
            let valueNode = try node(value, path: path + ["key_value"], definition: definition + 1, repetition: repetition + 1)
            let entriesNode = WriteNode.structure([keyNode, valueNode], nullable: false, leaves: first..<leaves.count)
            return .list(entriesNode, nullable: field.nullable, repetition: Int16(repetition + 1), leaves: first..<leaves.count)
        default:
            if case .null = type, !field.nullable { throw ParquetError("field \(field.name): a null column must be nullable") }
            let element = try Self.leafElement(type, name: field.name, repetition: repetitionType)
            leaves.append(WriteLeaf(path: path, element: element, physicalType: element.type ?? .int32, arrowType: type,
                                    maxDefinition: definition, maxRepetition: repetition))
            elements.append(element)
            return .leaf(leaves.count - 1, nullable: field.nullable)
        }
    }

    /// The schema element of a leaf of Arrow type `type`, as Arrow C++ writes it.
    static func leafElement(_ type: DataType, name: String, repetition: ParquetRepetition) throws(ParquetError) -> ParquetSchemaElement {
        var e = ParquetSchemaElement(repetition: repetition, name: name)
        func set(_ physical: ParquetPhysicalType, _ logical: ParquetLogicalType? = nil, _ converted: Int32? = nil) {
            e.type = physical
            e.logicalType = logical
            e.convertedType = converted.map(ParquetConvertedType.init(rawValue:))
        }
        switch type {
        case .null: set(.int32, .null)
        case .bool: set(.boolean)
        case .int8: set(.int32, .integer(bitWidth: 8, isSigned: true), 15)
        case .int16: set(.int32, .integer(bitWidth: 16, isSigned: true), 16)
        case .int32: set(.int32)
        case .int64: set(.int64)
        case .uint8: set(.int32, .integer(bitWidth: 8, isSigned: false), 11)
        case .uint16: set(.int32, .integer(bitWidth: 16, isSigned: false), 12)
        case .uint32: set(.int32, .integer(bitWidth: 32, isSigned: false), 13)
        case .uint64: set(.int64, .integer(bitWidth: 64, isSigned: false), 14)
        case .float16:
            set(.fixedLenByteArray, .float16)
            e.typeLength = 2
        case .float32: set(.float)
        case .float64: set(.double)
        case .decimal(_, let precision, let scale):
            set(.fixedLenByteArray, .decimal(scale: Int32(scale), precision: Int32(precision)), 5)
            e.typeLength = Int32(decimalBytes(precision: precision))
            e.scale = Int32(scale)
            e.precision = Int32(precision)
        case .date32, .date64: set(.int32, .date, 6)
        case .time32: set(.int32, .time(isAdjustedToUTC: true, unit: .milliseconds), 7)
        case .time64(.microsecond): set(.int64, .time(isAdjustedToUTC: true, unit: .microseconds), 8)
        case .time64: set(.int64, .time(isAdjustedToUTC: true, unit: .nanoseconds))
        case .timestamp(let unit, let zone):
            let utc = zone != nil
            switch unit {
            case .second, .millisecond: set(.int64, .timestamp(isAdjustedToUTC: utc, unit: .milliseconds), utc ? 9 : nil)
            case .microsecond: set(.int64, .timestamp(isAdjustedToUTC: utc, unit: .microseconds), utc ? 10 : nil)
            case .nanosecond: set(.int64, .timestamp(isAdjustedToUTC: utc, unit: .nanoseconds))
            }
        case .duration: set(.int64)
        case .utf8, .largeUtf8, .utf8View: set(.byteArray, .string, 0)
        case .binary, .largeBinary, .binaryView: set(.byteArray)
        case .fixedSizeBinary(let width):
            set(.fixedLenByteArray)
            e.typeLength = Int32(width)
        default:
            throw ParquetError("field \(name): \(type) has no Parquet form")
        }
        return e
    }

    /// The fewest bytes of a two's complement integer that hold every decimal of `precision` digits.
    static func decimalBytes(precision: Int) -> Int {
        var bytes = 1
        // 10^precision - 1 must be below 2^(8 bytes - 1).
        while Double(8 * bytes - 1) < Double(precision) * 3.321928094887362 { bytes += 1 }
        return bytes
    }
}

extension ParquetSchemaElement {
    init(type: ParquetPhysicalType? = nil, repetition: ParquetRepetition? = nil, name: String, numChildren: Int32? = nil,
         convertedType: ParquetConvertedType? = nil, logicalType: ParquetLogicalType? = nil) {
        self.type = type
        self.repetition = repetition
        self.name = name
        self.numChildren = numChildren
        self.convertedType = convertedType
        self.logicalType = logicalType
    }
}
