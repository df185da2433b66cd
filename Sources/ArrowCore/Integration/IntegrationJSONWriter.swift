/// The dictionary id of each dictionary-encoded field, in the shape of the field tree.
struct DictionaryIDs {
    /// The id when this field is dictionary-encoded.
    var id: Int?
    /// The ids of the value type's children.
    var children: [DictionaryIDs]
}

/// A range of logical slots of an array. Columns are written from a list of pieces, which is how
/// slices, nested ranges and concatenated dictionaries are written without copying any array.
struct ArrayPiece {
    let array: ArrayData
    let range: Range<Int>

    init(_ array: ArrayData, _ range: Range<Int>) {
        self.array = array
        self.range = range
    }

    init(whole array: ArrayData) { self.init(array, 0..<array.length) }
}

/// Writes an `IntegrationFile` as integration JSON text.
struct IntegrationJSONWriter {
    private var out: [UInt8] = []
    private var nextID = 0
    /// For each dictionary id: the type of its values and the ids inside them.
    private var dictionaryValues: [Int: (type: DataType, ids: DictionaryIDs)] = [:]
    /// For each dictionary id, the distinct dictionaries met in the batches; the written
    /// dictionary is their concatenation.
    private var dictionaryParts: [Int: [ArrayData]] = [:]

    static func write(_ file: IntegrationFile) -> [UInt8] {
        var writer = IntegrationJSONWriter()
        var ids: [DictionaryIDs] = []
        for field in file.schema.fields { ids.append(writer.assignIDs(field)) }

        // Batches go first: they decide which dictionaries exist and where each batch's part starts.
        for (b, batch) in file.batches.enumerated() {
            if b > 0 { writer.raw(",") }
            writer.batch(batch, schema: file.schema, ids: ids)
        }
        let batchesText = writer.take()
        // Ids are given parent first, so writing a dictionary only adds parts to later ids.
        for id in 0..<writer.nextID {
            if id > 0 { writer.raw(",") }
            writer.dictionary(id)
        }
        let dictionariesText = writer.take()

        writer.raw("{\"schema\":")
        writer.schema(file.schema, ids: ids)
        if writer.nextID > 0 {
            writer.raw(",\"dictionaries\":[")
            writer.out += dictionariesText
            writer.raw("]")
        }
        writer.raw(",\"batches\":[")
        writer.out += batchesText
        writer.raw("]}\n")
        return writer.out
    }

    private mutating func take() -> [UInt8] {
        defer { out = [] }
        return out
    }

    private mutating func raw(_ text: String) { out.append(contentsOf: text.utf8) }

    private mutating func assignIDs(_ field: Field) -> DictionaryIDs {
        var id: Int?
        var valueType = field.type
        if case .dictionary(_, let value, _) = field.type {
            id = nextID
            nextID += 1
            valueType = value
        }
        var children: [DictionaryIDs] = []
        for child in valueType.children { children.append(assignIDs(child)) }
        if let id { dictionaryValues[id] = (valueType, DictionaryIDs(id: nil, children: children)) }
        return DictionaryIDs(id: id, children: children)
    }

    // MARK: Schema

    private mutating func schema(_ schema: Schema, ids: [DictionaryIDs]) {
        raw("{\"fields\":[")
        for (k, (field, fieldIDs)) in zip(schema.fields, ids).enumerated() {
            if k > 0 { raw(",") }
            self.field(field, ids: fieldIDs)
        }
        raw("]")
        if !schema.metadata.isEmpty {
            raw(",\"metadata\":")
            metadata(schema.metadata)
        }
        raw("}")
    }

    private mutating func field(_ field: Field, ids: DictionaryIDs) {
        var valueType = field.type
        var encoding: (index: DataType, ordered: Bool)?
        if case .dictionary(let index, let value, let ordered) = field.type {
            valueType = value
            encoding = (index, ordered)
        }
        raw("{\"name\":\(jsonQuoted(field.name)),\"nullable\":\(field.nullable),\"type\":")
        type(valueType)
        raw(",\"children\":[")
        for (k, (child, childIDs)) in zip(valueType.children, ids.children).enumerated() {
            if k > 0 { raw(",") }
            self.field(child, ids: childIDs)
        }
        raw("]")
        if let encoding, let id = ids.id {
            raw(",\"dictionary\":{\"id\":\(id),\"indexType\":")
            type(encoding.index)
            raw(",\"isOrdered\":\(encoding.ordered)}")
        }
        if !field.metadata.isEmpty {
            raw(",\"metadata\":")
            metadata(field.metadata)
        }
        raw("}")
    }

    private mutating func metadata(_ metadata: Metadata) {
        raw("[")
        for (k, pair) in metadata.pairs.enumerated() {
            if k > 0 { raw(",") }
            raw("{\"key\":\(jsonQuoted(pair.key)),\"value\":\(jsonQuoted(pair.value))}")
        }
        raw("]")
    }

    private mutating func type(_ type: DataType) {
        if case .dictionary(_, let value, _) = type {
            // A field has a single dictionary encoding, so a dictionary nested directly inside
            // another has no JSON form; its values' type is the closest there is.
            self.type(value)
            return
        }
        func unit(_ unit: TimeUnit) -> String {
            switch unit {
            case .second: "SECOND"
            case .millisecond: "MILLISECOND"
            case .microsecond: "MICROSECOND"
            case .nanosecond: "NANOSECOND"
            }
        }
        func int(_ bits: Int, _ signed: Bool) -> String { "{\"name\":\"int\",\"isSigned\":\(signed),\"bitWidth\":\(bits)}" }
        func named(_ name: String) -> String { "{\"name\":\"\(name)\"}" }
        let text: String = switch type {
        case .null: named("null")
        case .bool: named("bool")
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
            int(type.integerLayout?.bitWidth ?? 64, type.integerLayout?.signed ?? true)
        case .float16: "{\"name\":\"floatingpoint\",\"precision\":\"HALF\"}"
        case .float32: "{\"name\":\"floatingpoint\",\"precision\":\"SINGLE\"}"
        case .float64: "{\"name\":\"floatingpoint\",\"precision\":\"DOUBLE\"}"
        case .decimal(let bits, let precision, let scale):
            "{\"name\":\"decimal\",\"precision\":\(precision),\"scale\":\(scale),\"bitWidth\":\(bits)}"
        case .date32: "{\"name\":\"date\",\"unit\":\"DAY\"}"
        case .date64: "{\"name\":\"date\",\"unit\":\"MILLISECOND\"}"
        case .time32(let u): "{\"name\":\"time\",\"unit\":\"\(unit(u))\",\"bitWidth\":32}"
        case .time64(let u): "{\"name\":\"time\",\"unit\":\"\(unit(u))\",\"bitWidth\":64}"
        case .timestamp(let u, let zone):
            "{\"name\":\"timestamp\",\"unit\":\"\(unit(u))\"" + (zone.map { ",\"timezone\":\(jsonQuoted($0))" } ?? "") + "}"
        case .duration(let u): "{\"name\":\"duration\",\"unit\":\"\(unit(u))\"}"
        case .interval(.yearMonth): "{\"name\":\"interval\",\"unit\":\"YEAR_MONTH\"}"
        case .interval(.dayTime): "{\"name\":\"interval\",\"unit\":\"DAY_TIME\"}"
        case .interval(.monthDayNano): "{\"name\":\"interval\",\"unit\":\"MONTH_DAY_NANO\"}"
        case .binary: named("binary")
        case .utf8: named("utf8")
        case .largeBinary: named("largebinary")
        case .largeUtf8: named("largeutf8")
        case .binaryView: named("binaryview")
        case .utf8View: named("utf8view")
        case .fixedSizeBinary(let width): "{\"name\":\"fixedsizebinary\",\"byteWidth\":\(width)}"
        case .list: named("list")
        case .largeList: named("largelist")
        case .listView: named("listview")
        case .largeListView: named("largelistview")
        case .fixedSizeList(_, let size): "{\"name\":\"fixedsizelist\",\"listSize\":\(size)}"
        case .struct: named("struct")
        case .map(_, let sorted): "{\"name\":\"map\",\"keysSorted\":\(sorted)}"
        case .union(let mode, _, let typeIDs):
            "{\"name\":\"union\",\"mode\":\"\(mode == .dense ? "DENSE" : "SPARSE")\",\"typeIds\":["
                + typeIDs.map { String($0) }.joined(separator: ",") + "]}"
        case .runEndEncoded: named("runendencoded")
        case .dictionary: ""  // handled above
        }
        raw(text)
    }

    // MARK: Batches and dictionaries

    private mutating func batch(_ batch: RecordBatch, schema: Schema, ids: [DictionaryIDs]) {
        raw("{\"count\":\(batch.length),\"columns\":[")
        for (k, (field, fieldIDs)) in zip(schema.fields, ids).enumerated() {
            if k > 0 { raw(",") }
            // A column that does not match the schema cannot be written under it; it is left empty
            // rather than read with the wrong layout.
            var pieces: [ArrayPiece] = []
            if k < batch.columns.count, batch.columns[k].type == field.type { pieces = [ArrayPiece(whole: batch.columns[k])] }
            column(name: field.name, type: field.type, ids: fieldIDs, pieces: pieces)
        }
        raw("]}")
    }

    private mutating func dictionary(_ id: Int) {
        guard let values = dictionaryValues[id] else { return }
        let pieces = (dictionaryParts[id] ?? []).map { ArrayPiece(whole: $0) }
        let count = pieces.reduce(0) { $0 + $1.range.count }
        raw("{\"id\":\(id),\"data\":{\"count\":\(count),\"columns\":[")
        column(name: "DICT\(id)", type: values.type, ids: values.ids, pieces: pieces)
        raw("]}}")
    }

    /// Where `dictionary` starts in the written dictionary `id`, adding it as a new part unless an
    /// equal one is already there.
    private mutating func dictionaryStart(id: Int, _ dictionary: ArrayData) -> Int? {
        guard let values = dictionaryValues[id], dictionary.type == values.type else { return nil }
        var start = 0
        for part in dictionaryParts[id] ?? [] {
            if part === dictionary || part.firstDifference(from: dictionary) == nil { return start }
            start += part.length
        }
        dictionaryParts[id, default: []].append(dictionary)
        return start
    }

    // MARK: Columns

    private mutating func column(name: String, type: DataType, ids: DictionaryIDs, pieces: [ArrayPiece]) {
        let count = pieces.reduce(0) { $0 + $1.range.count }
        raw("{\"name\":\(jsonQuoted(name)),\"count\":\(count)")
        switch type {
        case .null:
            break

        case .dictionary(let index, _, _):
            validity(pieces)
            let wide = index == .int64 || index == .uint64
            raw(",\"DATA\":[")
            var first = true
            for piece in pieces {
                var start = 0
                if let id = ids.id, let dictionary = piece.array.dictionary { start = dictionaryStart(id: id, dictionary) ?? 0 }
                for i in piece.range {
                    if !first { raw(",") }
                    first = false
                    // Null slots may hold any index; a neutral one keeps the written file valid.
                    let value = piece.array.isValid(i) ? piece.array.dictionaryIndex(i) + start : 0
                    raw(wide ? "\"\(value)\"" : String(value))
                }
            }
            raw("]")

        case .bool:
            validity(pieces)
            slots("DATA", pieces) { a, i in a.boolValue(i) ? "true" : "false" }
        case .int8:
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: Int8.self)) }
        case .int16:
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: Int16.self)) }
        case .int32, .date32, .time32, .interval(.yearMonth):
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: Int32.self)) }
        case .uint8:
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: UInt8.self)) }
        case .uint16:
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: UInt16.self)) }
        case .uint32:
            validity(pieces)
            slots("DATA", pieces) { a, i in String(a.value(i, as: UInt32.self)) }
        case .int64, .date64, .time64, .timestamp, .duration:
            validity(pieces)
            slots("DATA", pieces) { a, i in "\"\(a.value(i, as: Int64.self))\"" }
        case .uint64:
            validity(pieces)
            slots("DATA", pieces) { a, i in "\"\(a.value(i, as: UInt64.self))\"" }
        case .float16:
            validity(pieces)
            slots("DATA", pieces) { a, i in Self.number(Float16(bitPattern: a.value(i, as: UInt16.self))) }
        case .float32:
            validity(pieces)
            slots("DATA", pieces) { a, i in Self.number(a.value(i, as: Float.self)) }
        case .float64:
            validity(pieces)
            slots("DATA", pieces) { a, i in Self.number(a.value(i, as: Double.self)) }
        case .decimal(let bits, _, _):
            validity(pieces)
            let width = bits / 8
            slots("DATA", pieces) { a, i in
                "\"\(integerText(twosComplement: Self.slotBytes(a, i, width: width)))\""
            }
        case .interval(.dayTime):
            validity(pieces)
            slots("DATA", pieces) { a, i in
                let bytes = Self.slotBytes(a, i, width: 8)
                return "{\"days\":\(bytes.loadUnaligned(as: Int32.self)),"
                    + "\"milliseconds\":\(bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self))}"
            }
        case .interval(.monthDayNano):
            validity(pieces)
            slots("DATA", pieces) { a, i in
                let bytes = Self.slotBytes(a, i, width: 16)
                return "{\"months\":\(bytes.loadUnaligned(as: Int32.self)),"
                    + "\"days\":\(bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self)),"
                    + "\"nanoseconds\":\(bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))}"
            }
        case .fixedSizeBinary:
            validity(pieces)
            slots("DATA", pieces) { a, i in "\"\(hexText(a.bytes(i)))\"" }

        case .binary, .utf8, .largeBinary, .largeUtf8:
            validity(pieces)
            let large = type == .largeBinary || type == .largeUtf8
            raw(large ? ",\"OFFSET\":[\"0\"" : ",\"OFFSET\":[0")
            var total = 0
            for piece in pieces {
                for i in piece.range {
                    total += piece.array.bytes(i).count
                    raw(large ? ",\"\(total)\"" : ",\(total)")
                }
            }
            raw("]")
            if type == .utf8 || type == .largeUtf8 {
                slots("DATA", pieces) { a, i in jsonQuoted(a.string(i)) }
            } else {
                slots("DATA", pieces) { a, i in "\"\(hexText(a.bytes(i)))\"" }
            }

        case .binaryView, .utf8View:
            validity(pieces)
            views(pieces, utf8: type == .utf8View)

        case .list(let child), .largeList(let child), .map(let child, _):
            validity(pieces)
            let large = if case .largeList = type { true } else { false }
            raw(large ? ",\"OFFSET\":[\"0\"" : ",\"OFFSET\":[0")
            var total = 0
            var childPieces: [ArrayPiece] = []
            for piece in pieces where !piece.range.isEmpty {
                let a = piece.array
                // Offsets are non-decreasing over every slot, so a piece's elements are contiguous.
                let start = a.valueRange(piece.range.lowerBound).lowerBound
                let end = a.valueRange(piece.range.upperBound - 1).upperBound
                for i in piece.range {
                    let offset = total + a.valueRange(i).upperBound - start
                    raw(large ? ",\"\(offset)\"" : ",\(offset)")
                }
                total += end - start
                childPieces.append(ArrayPiece(a.children[0], start..<end))
            }
            raw("]")
            children([child], ids: ids.children, pieces: [childPieces])

        case .listView(let child), .largeListView(let child):
            validity(pieces)
            let large = if case .largeListView = type { true } else { false }
            var base = 0
            var bases: [Int] = []
            for piece in pieces {
                bases.append(base)
                base += piece.array.children[0].length
            }
            // Every piece's whole child is written, so views keep their (possibly overlapping) ranges.
            slots("OFFSET", pieces, bases: bases) { a, i, base in
                let offset = a.isValid(i) ? a.valueRange(i).lowerBound + base : 0
                return large ? "\"\(offset)\"" : String(offset)
            }
            slots("SIZE", pieces, bases: bases) { a, i, _ in
                let size = a.isValid(i) ? a.valueRange(i).count : 0
                return large ? "\"\(size)\"" : String(size)
            }
            children([child], ids: ids.children, pieces: [pieces.map { ArrayPiece(whole: $0.array.children[0]) }])

        case .fixedSizeList(let child, let size):
            validity(pieces)
            let childPieces = pieces.map { piece in
                // The parent's offset applies to the child, scaled by the list size.
                let start = piece.array.offset + piece.range.lowerBound, end = piece.array.offset + piece.range.upperBound
                return ArrayPiece(piece.array.children[0], start * size..<end * size)
            }
            children([child], ids: ids.children, pieces: [childPieces])

        case .struct(let fields):
            validity(pieces)
            children(fields, ids: ids.children, pieces: fields.indices.map { k in Self.alignedChildPieces(pieces, k) })

        case .union(let mode, let fields, let typeIDs):
            slots("TYPE_ID", pieces) { a, i in String(a.unionTypeID(i)) }
            if mode == .sparse {
                children(fields, ids: ids.children, pieces: fields.indices.map { k in Self.alignedChildPieces(pieces, k) })
            } else {
                // Each piece's children are written whole, one after another, so offsets shift by
                // the lengths of the same child in earlier pieces.
                var childForID = [Int](repeating: 0, count: 128)
                for (k, id) in typeIDs.enumerated() where id >= 0 { childForID[Int(id)] = k }
                var base = [Int](repeating: 0, count: fields.count)
                var bases: [[Int]] = []
                for piece in pieces {
                    bases.append(base)
                    for k in fields.indices where k < piece.array.children.count { base[k] += piece.array.children[k].length }
                }
                raw(",\"OFFSET\":[")
                var first = true
                for (p, piece) in pieces.enumerated() {
                    for i in piece.range {
                        if !first { raw(",") }
                        first = false
                        let k = childForID[Int(max(0, piece.array.unionTypeID(i)))]
                        raw(String(piece.array.unionOffset(i) + bases[p][k]))
                    }
                }
                raw("]")
                children(fields, ids: ids.children, pieces: fields.indices.map { k in
                    pieces.map { ArrayPiece(whole: $0.array.children[k]) }
                })
            }

        case .runEndEncoded(let runEndsField, let valuesField):
            var ends: [Int] = []
            var valuePieces: [ArrayPiece] = []
            var written = 0
            for piece in pieces where !piece.range.isEmpty {
                let a = piece.array
                let first = a.runIndex(piece.range.lowerBound), last = a.runIndex(piece.range.upperBound - 1)
                for run in first...last {
                    let end = a.children[0].integer(run) - (a.offset + piece.range.lowerBound)
                    ends.append(written + min(end, piece.range.count))
                }
                written += piece.range.count
                valuePieces.append(ArrayPiece(a.children[1], first..<(last + 1)))
            }
            let wide = runEndsField.type == .int64
            raw(",\"children\":[{\"name\":\(jsonQuoted(runEndsField.name)),\"count\":\(ends.count),\"VALIDITY\":[")
            raw(ends.map { _ in "1" }.joined(separator: ","))
            raw("],\"DATA\":[")
            raw(ends.map { wide ? "\"\($0)\"" : String($0) }.joined(separator: ","))
            raw("]},")
            let valueIDs = ids.children.count > 1 ? ids.children[1] : DictionaryIDs(id: nil, children: [])
            column(name: valuesField.name, type: valuesField.type, ids: valueIDs, pieces: valuePieces)
            raw("]")
        }
        raw("}")
    }

    /// Child pieces of struct and sparse union pieces, whose offset applies to their children too.
    private static func alignedChildPieces(_ pieces: [ArrayPiece], _ k: Int) -> [ArrayPiece] {
        pieces.map { piece in
            ArrayPiece(piece.array.children[k],
                       (piece.array.offset + piece.range.lowerBound)..<(piece.array.offset + piece.range.upperBound))
        }
    }

    private mutating func children(_ fields: [Field], ids: [DictionaryIDs], pieces: [[ArrayPiece]]) {
        raw(",\"children\":[")
        for (k, field) in fields.enumerated() {
            if k > 0 { raw(",") }
            column(name: field.name, type: field.type, ids: k < ids.count ? ids[k] : DictionaryIDs(id: nil, children: []),
                   pieces: k < pieces.count ? pieces[k] : [])
        }
        raw("]")
    }

    private mutating func validity(_ pieces: [ArrayPiece]) {
        slots("VALIDITY", pieces) { a, i in a.isValid(i) ? "1" : "0" }
    }

    /// Writes `"key":[...]` with one value per slot of the pieces.
    private mutating func slots(_ key: String, _ pieces: [ArrayPiece], _ value: (ArrayData, Int) -> String) {
        raw(",\"\(key)\":[")
        var first = true
        for piece in pieces {
            for i in piece.range {
                if !first { raw(",") }
                first = false
                raw(value(piece.array, i))
            }
        }
        raw("]")
    }

    /// Writes `"key":[...]` with one value per slot, given each piece's entry of `bases`.
    private mutating func slots(_ key: String, _ pieces: [ArrayPiece], bases: [Int], _ value: (ArrayData, Int, Int) -> String) {
        raw(",\"\(key)\":[")
        var first = true
        for (p, piece) in pieces.enumerated() {
            for i in piece.range {
                if !first { raw(",") }
                first = false
                raw(value(piece.array, i, bases[p]))
            }
        }
        raw("]")
    }

    private mutating func views(_ pieces: [ArrayPiece], utf8: Bool) {
        raw(",\"VIEWS\":[")
        var first = true
        var bufferBase = 0
        for piece in pieces {
            let a = piece.array
            for i in piece.range {
                if !first { raw(",") }
                first = false
                guard a.isValid(i) else {
                    raw("{\"SIZE\":0,\"INLINED\":\"\"}")
                    continue
                }
                let bytes = a.bytes(i)
                if bytes.count <= 12 {
                    let inlined = utf8 ? jsonQuoted(String(decoding: bytes, as: UTF8.self)) : "\"\(hexText(bytes))\""
                    raw("{\"SIZE\":\(bytes.count),\"INLINED\":\(inlined)}")
                } else {
                    let view = (a.offset + i) * 16
                    let index = Int(a.buffers[1].load(fromByteOffset: view + 8, as: Int32.self)) + bufferBase
                    let offset = a.buffers[1].load(fromByteOffset: view + 12, as: Int32.self)
                    let prefix = hexText(UnsafeRawBufferPointer(rebasing: bytes.prefix(4)))
                    raw("{\"SIZE\":\(bytes.count),\"PREFIX_HEX\":\"\(prefix)\",\"BUFFER_INDEX\":\(index),\"OFFSET\":\(offset)}")
                }
            }
            bufferBase += max(0, a.buffers.count - 2)
        }
        raw("],\"VARIADIC_DATA_BUFFERS\":[")
        var firstBuffer = true
        for piece in pieces {
            for buffer in piece.array.buffers.dropFirst(2) {
                if !firstBuffer { raw(",") }
                firstBuffer = false
                raw("\"\(hexText(buffer.bytes))\"")
            }
        }
        raw("]")
    }

    // MARK: Values

    private static func slotBytes(_ array: ArrayData, _ i: Int, width: Int) -> UnsafeRawBufferPointer {
        let start = (array.offset + i) * width
        return UnsafeRawBufferPointer(rebasing: array.buffers[1].bytes[start..<(start + width)])
    }

    /// A float as a JSON number; values JSON numbers cannot hold become strings.
    private static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        return value.description  // the shortest text that reads back as the same value
    }
}

/// `text` as a JSON string literal.
package func jsonQuoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
