import ArrowCore
import Foundation

/// Where a node's slots lie among the entries of a leaf below it, and when a slot is non-null.
///
/// An entry (one definition and repetition level pair) is a slot of the node when its
/// definition level reaches `ancestorDefinition` (the nearest repeated ancestor holds an
/// element there) and its repetition level is at most `repetition` (it starts a new value at
/// this depth, rather than continuing a deeper list). The slot is non-null when the definition
/// level reaches `definition`.
struct NodeLevels: Sendable, Hashable {
    var ancestorDefinition: Int
    var repetition: Int
    var definition: Int
}

/// How the Arrow arrays of a file's schema are built from its leaf columns: a tree of the
/// Arrow fields, each with the levels that place it.
indirect enum ReadNode: Sendable {
    /// A leaf column read into `field.type`.
    case leaf(Field, column: Int, NodeLevels)
    case structure(Field, [ReadNode], NodeLevels)
    /// A list (or large list, or map): its elements' slots are entries with a definition level
    /// of at least `elementDefinition` and a repetition level of at most `elementRepetition`.
    case list(Field, ReadNode, NodeLevels, elementDefinition: Int, elementRepetition: Int)

    var field: Field {
        switch self {
        case .leaf(let f, _, _), .structure(let f, _, _), .list(let f, _, _, _, _): f
        }
    }

    var levels: NodeLevels {
        switch self {
        case .leaf(_, _, let l), .structure(_, _, let l), .list(_, _, let l, _, _): l
        }
    }

    /// The leaf columns under this node, in file order.
    var columns: [Int] {
        switch self {
        case .leaf(_, let c, _): [c]
        case .structure(_, let children, _): children.flatMap(\.columns)
        case .list(_, let element, _, _, _): element.columns
        }
    }

    /// The same node with another field (its type restored from the stored Arrow schema).
    func with(_ field: Field) -> ReadNode {
        switch self {
        case .leaf(_, let c, let l): .leaf(field, column: c, l)
        case .structure(_, let children, let l): .structure(field, children, l)
        case .list(_, let e, let l, let d, let r): .list(field, e, l, elementDefinition: d, elementRepetition: r)
        }
    }
}

/// A Parquet schema as Arrow sees it: the Arrow schema of the file, and how to build it.
public struct ParquetArrowSchema: Sendable {
    /// The Arrow schema the file reads as.
    public let schema: Schema
    /// One node per top-level field.
    let nodes: [ReadNode]

    /// The key under which Arrow writers store the original Arrow schema (base64 of an IPC
    /// schema message).
    public static let arrowSchemaKey = "ARROW:schema"

    /// Maps `parquet` the way Arrow C++ does, restoring what the stored Arrow schema in
    /// `keyValueMetadata` says Parquet cannot (time zones, large and view types, dictionaries,
    /// durations, field metadata).
    init(_ parquet: ParquetSchema, keyValueMetadata: [ParquetKeyValue]?) throws(ParquetError) {
        var nodes: [ReadNode] = []
        for child in parquet.root.children {
            nodes.append(try Self.child(child, definition: 0, repetition: 0, ancestor: 0))
        }
        var metadata = Metadata()
        var stored: Schema?
        for pair in keyValueMetadata ?? [] {
            if pair.key == Self.arrowSchemaKey {
                stored = Self.decodeStoredSchema(pair.value ?? "")
            } else {
                metadata.pairs.append((pair.key, pair.value ?? ""))
            }
        }
        if let stored, stored.fields.count == nodes.count {
            nodes = zip(nodes, stored.fields).map { Self.restore($0, from: $1) }
        }
        self.nodes = nodes
        schema = Schema(nodes.map(\.field), metadata: metadata)
    }

    /// The stored Arrow schema, or nil when it cannot be decoded (it is then ignored, as Arrow C++ does).
    static func decodeStoredSchema(_ base64: String) -> Schema? {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else { return nil }
        var bytes = [UInt8](data)
        // Writers before Arrow 0.15 framed the message with its length alone.
        if bytes.count >= 4, bytes[0..<4] != [0xFF, 0xFF, 0xFF, 0xFF] { bytes = [0xFF, 0xFF, 0xFF, 0xFF] + bytes }
        return try? IPCStreamReader(Buffer(copying: bytes)).schema
    }

    // MARK: Parquet to Arrow

    /// The node for `node`, a child of a group whose slots are defined at `definition`.
    private static func child(_ node: ParquetSchema.Node, definition: Int, repetition: Int,
                              ancestor: Int) throws(ParquetError) -> ReadNode {
        if node.element.repetition == .repeated {
            // A repeated field outside a LIST or MAP is a list of required elements, never null.
            let d = definition + 1, r = repetition + 1
            let element = try plain(node, nullable: false, definition: d, repetition: r, ancestor: d)
            let field = Field(node.element.name, .list(element.field), nullable: false)
            return .list(field, element, NodeLevels(ancestorDefinition: ancestor, repetition: repetition, definition: definition),
                         elementDefinition: d, elementRepetition: r)
        }
        let optional = node.element.repetition != .required
        return try plain(node, nullable: optional, definition: definition + (optional ? 1 : 0), repetition: repetition,
                         ancestor: ancestor)
    }

    /// `node` read as a single value (not as a list of its repetitions), non-null at `definition`.
    private static func plain(_ node: ParquetSchema.Node, nullable: Bool, definition: Int, repetition: Int,
                              ancestor: Int) throws(ParquetError) -> ReadNode {
        let levels = NodeLevels(ancestorDefinition: ancestor, repetition: repetition, definition: definition)
        let element = node.element
        var metadata = Metadata()
        if let id = element.fieldID { metadata.pairs.append(("PARQUET:field_id", "\(id)")) }
        if let column = node.columnIndex {
            return .leaf(Field(element.name, arrowType(of: element), nullable: nullable, metadata: metadata), column: column, levels)
        }
        switch element.effectiveLogicalType {
        case .list:
            if let list = try list(node, nullable: nullable, levels: levels, metadata: metadata) { return list }
        case .map:
            if let map = try map(node, nullable: nullable, levels: levels, metadata: metadata) { return map }
        default: break
        }
        var children: [ReadNode] = []
        for child in node.children {
            children.append(try self.child(child, definition: definition, repetition: repetition, ancestor: ancestor))
        }
        guard !children.isEmpty else { throw ParquetError("group '\(element.name)' has no fields") }
        return .structure(Field(element.name, .struct(children.map(\.field)), nullable: nullable, metadata: metadata), children, levels)
    }

    /// A LIST-annotated group, by the backward-compatibility rules of the specification; nil
    /// when it is not shaped as a list (it is then read as a struct).
    private static func list(_ node: ParquetSchema.Node, nullable: Bool, levels: NodeLevels,
                             metadata: Metadata) throws(ParquetError) -> ReadNode? {
        guard node.children.count == 1, node.children[0].element.repetition == .repeated else { return nil }
        let repeated = node.children[0]
        let d = levels.definition + 1, r = levels.repetition + 1
        let element: ReadNode
        if repeated.columnIndex != nil {
            // Two levels: the repeated field is the element.
            element = try plain(repeated, nullable: false, definition: d, repetition: r, ancestor: d)
        } else if repeated.children.count > 1 || repeated.element.name == "array"
                    || repeated.element.name == node.element.name + "_tuple" {
            // Two levels: the repeated group is the element (a struct, or a list when annotated so).
            element = try plain(repeated, nullable: false, definition: d, repetition: r, ancestor: d)
        } else {
            guard let only = repeated.children.first else { throw ParquetError("list '\(node.element.name)' has an empty group") }
            element = try child(only, definition: d, repetition: r, ancestor: d)
        }
        let field = Field(node.element.name, .list(element.field), nullable: nullable, metadata: metadata)
        return .list(field, element, levels, elementDefinition: d, elementRepetition: r)
    }

    /// A MAP (or MAP_KEY_VALUE) group; a key-value group with only keys is a list of keys, and
    /// one whose keys may be null a list of key-value structs. Nil when it is not shaped as a map.
    private static func map(_ node: ParquetSchema.Node, nullable: Bool, levels: NodeLevels,
                            metadata: Metadata) throws(ParquetError) -> ReadNode? {
        guard node.children.count == 1, node.children[0].element.repetition == .repeated,
              node.children[0].columnIndex == nil else { return nil }
        let entries = node.children[0]
        let d = levels.definition + 1, r = levels.repetition + 1
        let entryLevels = NodeLevels(ancestorDefinition: d, repetition: r, definition: d)
        if entries.children.count == 1 {
            let key = try child(entries.children[0], definition: d, repetition: r, ancestor: d)
            let field = Field(node.element.name, .list(key.field), nullable: nullable, metadata: metadata)
            return .list(field, key, levels, elementDefinition: d, elementRepetition: r)
        }
        guard entries.children.count == 2 else { return nil }
        let key = try child(entries.children[0], definition: d, repetition: r, ancestor: d)
        let value = try child(entries.children[1], definition: d, repetition: r, ancestor: d)
        let entriesField = Field(entries.element.name, .struct([key.field, value.field]), nullable: false)
        let entriesNode = ReadNode.structure(entriesField, [key, value], entryLevels)
        let type: DataType = key.field.nullable ? .list(entriesField) : .map(entriesField, keysSorted: false)
        let field = Field(node.element.name, type, nullable: nullable, metadata: metadata)
        return .list(field, entriesNode, levels, elementDefinition: d, elementRepetition: r)
    }

    /// The Arrow type of a leaf, as Arrow C++ maps it.
    static func arrowType(of element: ParquetSchemaElement) -> DataType {
        let logical = element.effectiveLogicalType
        if case .null = logical { return .null }
        func decimal(_ scale: Int32, _ precision: Int32, limit: Int32) -> DataType? {
            guard precision >= 1, precision <= limit, scale >= 0, scale <= precision else { return nil }
            return .decimal(bitWidth: precision > 38 ? 256 : 128, precision: Int(precision), scale: Int(scale))
        }
        switch element.type ?? .byteArray {
        case .boolean: return .bool
        case .int32:
            switch logical {
            case .integer(let bits, let signed) where bits <= 32:
                return DataType.integer(bitWidth: Int(bits), signed: signed) ?? .int32
            case .date: return .date32
            case .time(_, .milliseconds): return .time32(.millisecond)
            case .decimal(let scale, let precision): return decimal(scale, precision, limit: 9) ?? .int32
            default: return .int32
            }
        case .int64:
            switch logical {
            case .integer(64, let signed): return signed ? .int64 : .uint64
            case .timestamp(let utc, let unit): return .timestamp(unit.arrow, timeZone: utc ? "UTC" : nil)
            case .time(_, .microseconds): return .time64(.microsecond)
            case .time(_, .nanoseconds): return .time64(.nanosecond)
            case .decimal(let scale, let precision): return decimal(scale, precision, limit: 18) ?? .int64
            default: return .int64
            }
        case .int96: return .timestamp(.nanosecond, timeZone: nil)
        case .float: return .float32
        case .double: return .float64
        case .byteArray:
            switch logical {
            case .string, .json: return .utf8
            case .enum: return .binary
            case .decimal(let scale, let precision): return decimal(scale, precision, limit: 76) ?? .binary
            default: return .binary
            }
        case .fixedLenByteArray:
            let width = Int(element.typeLength ?? 0)
            switch logical {
            case .decimal(let scale, let precision):
                // A width of n bytes holds at most floor(log10(2^(8n-1) - 1)) digits.
                let digits = Int32(Double(8 * width - 1) * 0.30102999566398120)
                return decimal(scale, precision, limit: min(digits, 76)) ?? .fixedSizeBinary(width)
            case .float16 where width == 2: return .float16
            default: return .fixedSizeBinary(width)
            }
        }
    }

    // MARK: The stored Arrow schema

    /// `node` with what `origin` (the field the writer had) says and Parquet cannot.
    static func restore(_ node: ReadNode, from origin: Field) -> ReadNode {
        var field = node.field
        if !origin.metadata.isEmpty {
            var metadata = origin.metadata
            for pair in field.metadata where metadata[pair.key] == nil { metadata.pairs.append(pair) }
            field.metadata = metadata
        }
        switch node {
        case .leaf:
            if let type = restoredLeaf(field.type, origin.type) { field.type = type }
            return node.with(field)
        case .structure(_, let children, let levels):
            guard case .struct(let originFields) = origin.type, originFields.count == children.count else { return node.with(field) }
            let restored = zip(children, originFields).map { restore($0, from: $1) }
            field.type = .struct(restored.map(\.field))
            return .structure(field, restored, levels)
        case .list(_, let element, let levels, let d, let r):
            switch (field.type, origin.type) {
            case (.list, .list(let item)), (.list, .largeList(let item)):
                var restored = restore(element, from: item)
                var itemField = restored.field
                itemField.name = item.name
                restored = restored.with(itemField)
                if case .largeList = origin.type { field.type = .largeList(itemField) } else { field.type = .list(itemField) }
                return .list(field, restored, levels, elementDefinition: d, elementRepetition: r)
            case (.map(_, _), .map(let entries, let sorted)):
                let restored = restore(element, from: entries)
                field.type = .map(restored.field, keysSorted: sorted)
                return .list(field, restored, levels, elementDefinition: d, elementRepetition: r)
            default:
                return node.with(field)
            }
        }
    }

    /// The type a leaf read as `inferred` takes when the writer's type was `origin`; nil to keep it.
    static func restoredLeaf(_ inferred: DataType, _ origin: DataType) -> DataType? {
        switch (inferred, origin) {
        case (.timestamp(let unit, let zone), .timestamp(let originUnit, let originZone)):
            // Parquet keeps only whether an instant is in UTC; the writer's zone comes back.
            guard zone == "UTC", let originZone, !originZone.isEmpty else { return nil }
            return .timestamp(unit == originUnit ? originUnit : unit, timeZone: originZone)
        case (.int64, .duration(let unit)): return .duration(unit)
        case (.utf8, .largeUtf8), (.binary, .largeBinary), (.utf8, .utf8View), (.binary, .binaryView): return origin
        case (.decimal(_, let p, let s), .decimal(let bits, let originP, let originS)) where p == originP && s == originS:
            return .decimal(bitWidth: bits, precision: p, scale: s)
        case (.utf8, .dictionary(_, let value, let ordered)), (.binary, .dictionary(_, let value, let ordered)):
            // Only byte arrays are read as dictionaries, as Arrow C++ reads them.
            return .dictionary(index: .int32, value: restoredLeaf(inferred, value) ?? inferred, ordered: ordered)
        default:
            return nil
        }
    }
}

extension ParquetTimeUnit {
    var arrow: TimeUnit {
        switch self {
        case .milliseconds: .millisecond
        case .microseconds: .microsecond
        case .nanoseconds: .nanosecond
        }
    }
}
