// Field and type tables of the Arrow IPC metadata (Schema.fbs), read and written by hand.
// Slot numbers and enum values are those of the Arrow format specification.

/// Where the dictionary-encoded fields of a schema are, as a tree parallel to the fields:
/// `id` is set for a dictionary-encoded field, and `children` follow the field's type
/// children (for a dictionary, its value type's children).
struct DictionaryIDNode: Sendable {
    var id: Int64?
    var children: [DictionaryIDNode]
}

/// A schema as the IPC format carries it: the fields plus their dictionary ids.
struct IPCSchema: Sendable {
    var schema: Schema
    var idNodes: [DictionaryIDNode]
    /// Whether the data is big-endian (`endianness: Big`): the reader converts it.
    var bigEndian = false
    /// For each dictionary id, the type of the dictionary's values and the ids inside them.
    var dictionaries: [Int64: (valueType: DataType, node: DictionaryIDNode)]

    init(schema: Schema, idNodes: [DictionaryIDNode]) throws(ArrowError) {
        self.schema = schema
        self.idNodes = idNodes
        dictionaries = [:]
        for (field, node) in zip(schema.fields, idNodes) { try collect(field.type, node) }
    }

    /// Assigns dictionary ids depth-first, for writing.
    init(assigningIDsTo schema: Schema) {
        var next: Int64 = 0
        func assign(_ type: DataType) -> DictionaryIDNode {
            var node = DictionaryIDNode(id: nil, children: [])
            if case .dictionary = type {
                node.id = next
                next += 1
            }
            node.children = type.children.map { assign($0.type) }
            return node
        }
        let nodes = schema.fields.map { assign($0.type) }
        // The ids are fresh and unique, so collecting cannot fail.
        self.schema = schema
        self.idNodes = nodes
        dictionaries = [:]
        for (field, node) in zip(schema.fields, nodes) { try? collect(field.type, node) }
    }

    private mutating func collect(_ type: DataType, _ node: DictionaryIDNode) throws(ArrowError) {
        if let id = node.id, case .dictionary(_, let valueType, _) = type {
            if let existing = dictionaries[id], existing.valueType != valueType {
                throw .invalid("dictionary id \(id) is used for both \(existing.valueType) and \(valueType)")
            }
            dictionaries[id] = (valueType, DictionaryIDNode(id: nil, children: node.children))
        }
        for (child, childNode) in zip(type.children, node.children) { try collect(child.type, childNode) }
    }
}

enum IPCTypeTag: UInt8 {
    case none = 0, null, int, floatingPoint, binary, utf8, bool, decimal, date, time, timestamp, interval,
         list, structType, union, fixedSizeBinary, fixedSizeList, map, duration, largeBinary, largeUtf8,
         largeList, runEndEncoded, binaryView, utf8View, listView, largeListView
}

/// Reading fields from FlatBuffers.
enum IPCSchemaReader {
    static let maximumDepth = 64

    static func readSchema(_ table: FlatTable) throws(ArrowError) -> IPCSchema {
        let endianness = try table.scalar(0, Int16(0))
        guard endianness == 0 || endianness == 1 else { throw .invalid("unknown endianness \(endianness)") }
        var fields: [Field] = []
        var nodes: [DictionaryIDNode] = []
        for fieldTable in try table.tables(1) {
            let (field, node) = try readField(fieldTable, depth: 0)
            fields.append(field)
            nodes.append(node)
        }
        let metadata = try readMetadata(table, slot: 2)
        var schema = try IPCSchema(schema: Schema(fields, metadata: metadata), idNodes: nodes)
        schema.bigEndian = endianness == 1
        return schema
    }

    static func readMetadata(_ table: FlatTable, slot: Int) throws(ArrowError) -> Metadata {
        var pairs: [(key: String, value: String)] = []
        for kv in try table.tables(slot) {
            pairs.append((key: try kv.string(0) ?? "", value: try kv.string(1) ?? ""))
        }
        return Metadata(pairs)
    }

    static func readField(_ table: FlatTable, depth: Int) throws(ArrowError) -> (Field, DictionaryIDNode) {
        guard depth < maximumDepth else { throw .invalid("schema nesting deeper than \(maximumDepth)") }
        let name = try table.string(0) ?? ""
        let nullable = try table.bool(1)
        let tag = try table.scalar(2, UInt8(0))
        var children: [Field] = []
        var childNodes: [DictionaryIDNode] = []
        for childTable in try table.tables(5) {
            let (child, node) = try readField(childTable, depth: depth + 1)
            children.append(child)
            childNodes.append(node)
        }
        let typeTable = try table.table(3)
        var type = try readType(tag: tag, typeTable, children: children, fieldName: name)
        var node = DictionaryIDNode(id: nil, children: childNodes)
        if let encoding = try table.table(4) {
            let id = try encoding.scalar(0, Int64(0))
            let indexType: DataType
            if let intTable = try encoding.table(1) {
                indexType = try intType(intTable)
            } else {
                indexType = .int32
            }
            guard indexType.isInteger else { throw .invalid("field '\(name)': dictionary index type \(indexType)") }
            type = .dictionary(index: indexType, value: type, ordered: try encoding.bool(2))
            node.id = id
        }
        let metadata = try readMetadata(table, slot: 6)
        return (Field(name, type, nullable: nullable, metadata: metadata), node)
    }

    static func intType(_ table: FlatTable) throws(ArrowError) -> DataType {
        let bits = try table.scalar(0, Int32(0))
        guard let type = DataType.integer(bitWidth: Int(bits), signed: try table.bool(1)) else {
            throw .invalid("integer bit width \(bits)")
        }
        return type
    }

    static func timeUnit(_ raw: Int16) throws(ArrowError) -> TimeUnit {
        guard let unit = TimeUnit(rawValue: raw) else { throw .invalid("time unit \(raw)") }
        return unit
    }

    static func readType(tag rawTag: UInt8, _ table: FlatTable?, children: [Field], fieldName: String) throws(ArrowError) -> DataType {
        guard let tag = IPCTypeTag(rawValue: rawTag), tag != .none else {
            throw .invalid("field '\(fieldName)' has unknown type tag \(rawTag)")
        }
        func params() throws(ArrowError) -> FlatTable {
            guard let table else { throw .invalid("field '\(fieldName)': type \(tag) without its parameters") }
            return table
        }
        func oneChild() throws(ArrowError) -> Field {
            guard children.count == 1 else { throw .invalid("field '\(fieldName)': \(tag) needs one child, has \(children.count)") }
            return children[0]
        }
        func noChildren() throws(ArrowError) {
            guard children.isEmpty else { throw .invalid("field '\(fieldName)': \(tag) cannot have children") }
        }
        switch tag {
        case .none: throw .invalid("field '\(fieldName)' has no type")
        case .null: try noChildren(); return .null
        case .bool: try noChildren(); return .bool
        case .int: try noChildren(); return try intType(try params())
        case .floatingPoint:
            try noChildren()
            switch try params().scalar(0, Int16(0)) {
            case 0: return .float16
            case 1: return .float32
            case 2: return .float64
            case let p: throw .invalid("floating point precision \(p)")
            }
        case .binary: try noChildren(); return .binary
        case .utf8: try noChildren(); return .utf8
        case .largeBinary: try noChildren(); return .largeBinary
        case .largeUtf8: try noChildren(); return .largeUtf8
        case .binaryView: try noChildren(); return .binaryView
        case .utf8View: try noChildren(); return .utf8View
        case .decimal:
            try noChildren()
            let t = try params()
            let precision = Int(try t.scalar(0, Int32(0)))
            let scale = Int(try t.scalar(1, Int32(0)))
            let bits = Int(try t.scalar(2, Int32(128)))
            guard [32, 64, 128, 256].contains(bits) else { throw .invalid("decimal bit width \(bits)") }
            guard precision >= 1 else { throw .invalid("decimal precision \(precision)") }
            return .decimal(bitWidth: bits, precision: precision, scale: scale)
        case .date:
            try noChildren()
            switch try params().scalar(0, Int16(1)) {
            case 0: return .date32
            case 1: return .date64
            case let u: throw .invalid("date unit \(u)")
            }
        case .time:
            try noChildren()
            let t = try params()
            let unit = try timeUnit(try t.scalar(0, Int16(1)))
            let bits = try t.scalar(1, Int32(32))
            switch (bits, unit) {
            case (32, .second), (32, .millisecond): return .time32(unit)
            case (64, .microsecond), (64, .nanosecond): return .time64(unit)
            default: throw .invalid("time of \(bits) bits in \(unit)")
            }
        case .timestamp:
            try noChildren()
            let t = try params()
            return .timestamp(try timeUnit(try t.scalar(0, Int16(0))), timeZone: try t.string(1))
        case .duration:
            try noChildren()
            return .duration(try timeUnit(try params().scalar(0, Int16(1))))
        case .interval:
            try noChildren()
            let raw = try params().scalar(0, Int16(0))
            guard let unit = IntervalUnit(rawValue: raw) else { throw .invalid("interval unit \(raw)") }
            return .interval(unit)
        case .fixedSizeBinary:
            try noChildren()
            let width = Int(try params().scalar(0, Int32(0)))
            guard width >= 0 else { throw .invalid("fixed size binary width \(width)") }
            return .fixedSizeBinary(width)
        case .list: return .list(try oneChild())
        case .largeList: return .largeList(try oneChild())
        case .listView: return .listView(try oneChild())
        case .largeListView: return .largeListView(try oneChild())
        case .fixedSizeList:
            let size = Int(try params().scalar(0, Int32(0)))
            guard size >= 0 else { throw .invalid("fixed size list size \(size)") }
            return .fixedSizeList(try oneChild(), size)
        case .structType: return .struct(children)
        case .map:
            let entries = try oneChild()
            guard case .struct(let kv) = entries.type, kv.count == 2 else {
                throw .invalid("field '\(fieldName)': map entries must be a struct of two fields")
            }
            return .map(entries, keysSorted: try params().bool(0))
        case .union:
            let t = try params()
            let modeRaw = try t.scalar(0, Int16(0))
            guard let mode = UnionMode(rawValue: modeRaw) else { throw .invalid("union mode \(modeRaw)") }
            let rawIDs = try t.scalars(1, as: Int32.self)
            let ids: [Int8]
            if rawIDs.isEmpty {
                ids = children.indices.map { Int8(truncatingIfNeeded: $0) }
            } else {
                guard rawIDs.count == children.count else {
                    throw .invalid("field '\(fieldName)': \(rawIDs.count) union type ids for \(children.count) children")
                }
                ids = try rawIDs.map { (id: Int32) throws(ArrowError) -> Int8 in
                    guard id >= 0, id < 128 else { throw .invalid("union type id \(id)") }
                    return Int8(id)
                }
            }
            guard children.count <= 128, Set(ids).count == ids.count else { throw .invalid("union type ids \(ids) are not distinct") }
            return .union(mode, children, typeIDs: ids)
        case .runEndEncoded:
            guard children.count == 2 else { throw .invalid("field '\(fieldName)': run-end encoded needs two children") }
            guard [.int16, .int32, .int64].contains(children[0].type) else {
                throw .invalid("field '\(fieldName)': run ends of type \(children[0].type)")
            }
            return .runEndEncoded(runEnds: children[0], values: children[1])
        }
    }
}

/// Writing fields to FlatBuffers.
enum IPCSchemaWriter {
    static func schemaTable(_ ipc: IPCSchema) -> FlatTableBuilder {
        var table = FlatTableBuilder()
        table.add(0, Int16(ipc.bigEndian ? 1 : 0))
        table.add(1, .tables(zip(ipc.schema.fields, ipc.idNodes).map { fieldTable($0, $1) }))
        if !ipc.schema.metadata.isEmpty { table.add(2, metadataVector(ipc.schema.metadata)) }
        return table
    }

    static func metadataVector(_ metadata: Metadata) -> FlatObject {
        .tables(metadata.pairs.map { pair in
            var kv = FlatTableBuilder()
            kv.add(0, pair.key)
            kv.add(1, pair.value)
            return kv
        })
    }

    static func intTable(_ type: DataType) -> FlatTableBuilder {
        var table = FlatTableBuilder()
        let (bits, signed) = type.integerLayout ?? (64, true)
        table.add(0, Int32(bits))
        table.add(1, signed)
        return table
    }

    static func fieldTable(_ field: Field, _ node: DictionaryIDNode) -> FlatTableBuilder {
        var table = FlatTableBuilder()
        table.add(0, field.name)
        table.add(1, field.nullable)
        var type = field.type
        if case .dictionary(let index, let value, let ordered) = field.type {
            var encoding = FlatTableBuilder()
            encoding.add(0, node.id ?? 0)
            encoding.add(1, intTable(index))
            encoding.add(2, ordered)
            table.add(4, encoding)
            type = value
        }
        let (tag, parameters) = typeTable(type)
        table.add(2, tag.rawValue)
        table.add(3, parameters)
        table.add(5, .tables(zip(type.children, node.children).map { fieldTable($0, $1) }))
        if !field.metadata.isEmpty { table.add(6, metadataVector(field.metadata)) }
        return table
    }

    static func typeTable(_ type: DataType) -> (IPCTypeTag, FlatTableBuilder) {
        var t = FlatTableBuilder()
        switch type {
        case .null: return (.null, t)
        case .bool: return (.bool, t)
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return (.int, intTable(type))
        case .float16, .float32, .float64:
            t.add(0, Int16(type == .float16 ? 0 : type == .float32 ? 1 : 2))
            return (.floatingPoint, t)
        case .decimal(let bits, let precision, let scale):
            t.add(0, Int32(precision))
            t.add(1, Int32(scale))
            t.add(2, Int32(bits))
            return (.decimal, t)
        case .date32, .date64:
            t.add(0, Int16(type == .date32 ? 0 : 1))
            return (.date, t)
        case .time32(let unit), .time64(let unit):
            t.add(0, unit.rawValue)
            t.add(1, Int32(type == .time32(unit) ? 32 : 64))
            return (.time, t)
        case .timestamp(let unit, let zone):
            t.add(0, unit.rawValue)
            if let zone { t.add(1, zone) }
            return (.timestamp, t)
        case .duration(let unit):
            t.add(0, unit.rawValue)
            return (.duration, t)
        case .interval(let unit):
            t.add(0, unit.rawValue)
            return (.interval, t)
        case .binary: return (.binary, t)
        case .utf8: return (.utf8, t)
        case .largeBinary: return (.largeBinary, t)
        case .largeUtf8: return (.largeUtf8, t)
        case .binaryView: return (.binaryView, t)
        case .utf8View: return (.utf8View, t)
        case .fixedSizeBinary(let width):
            t.add(0, Int32(width))
            return (.fixedSizeBinary, t)
        case .list: return (.list, t)
        case .largeList: return (.largeList, t)
        case .listView: return (.listView, t)
        case .largeListView: return (.largeListView, t)
        case .fixedSizeList(_, let size):
            t.add(0, Int32(size))
            return (.fixedSizeList, t)
        case .struct: return (.structType, t)
        case .map(_, let sorted):
            t.add(0, sorted)
            return (.map, t)
        case .union(let mode, _, let ids):
            t.add(0, mode.rawValue)
            t.add(1, .structs(bytes: ids.flatMap { id in withUnsafeBytes(of: Int32(id).littleEndian) { [UInt8]($0) } },
                              count: ids.count, alignment: 4))
            return (.union, t)
        case .runEndEncoded: return (.runEndEncoded, t)
        case .dictionary(_, let value, _): return typeTable(value)
        }
    }
}
