/// A schema field as the JSON describes it: the `Field`, plus the dictionary encoding, which the
/// JSON attaches by id and `Field` does not carry.
struct JSONField {
    /// The field; its type is `.dictionary(...)` when `dictionary` is set.
    var field: Field
    /// The type of the values: `field.type`, or the dictionary's value type when encoded.
    var valueType: DataType
    var dictionary: (id: Int, indexType: DataType, ordered: Bool)?
    /// The children of `valueType`.
    var children: [JSONField]

    /// This field with the dictionary encoding taken off: how the dictionary's own values are laid out.
    var dictionaryValues: JSONField {
        JSONField(field: Field(field.name, valueType, nullable: field.nullable, metadata: field.metadata),
                  valueType: valueType, dictionary: nil, children: children)
    }
}

/// Turns parsed integration JSON into a schema and validated record batches.
struct IntegrationJSONReader {
    /// For each dictionary id, how its values are typed (taken from the fields that use it).
    private var dictionaryFields: [Int: JSONField] = [:]
    /// For each dictionary id, its column in the "dictionaries" section.
    private var dictionaryColumns: [Int: JSONObject] = [:]
    private var decodedDictionaries: [Int: ArrayData] = [:]
    /// Ids being decoded, to reject a dictionary whose values contain itself.
    private var decoding: Set<Int> = []

    static func file(from root: JSONObject) throws(ArrowError) -> IntegrationFile {
        let schemaJSON = try root.object("schema")
        var fields: [JSONField] = []
        for (i, item) in try schemaJSON.array("fields").enumerated() {
            fields.append(try parseField(JSONObject(item, path: "schema.fields[\(i)]"), depth: 0))
        }
        let metadata = try jsonMetadata(schemaJSON.optional("metadata"), path: "schema.metadata")
        let schema = Schema(fields.map(\.field), metadata: metadata)

        var reader = IntegrationJSONReader()
        for field in fields { try reader.registerDictionaries(field) }
        for (i, item) in (try root.optionalArray("dictionaries") ?? []).enumerated() {
            let entry = try JSONObject(item, path: "dictionaries[\(i)]")
            let id = try entry.int("id")
            let data = try entry.object("data")
            let count = try data.int("count")
            let columns = try data.array("columns")
            guard columns.count == 1 else { throw .invalid("\(data.path): \(columns.count) columns, expected 1") }
            let column = try JSONObject(columns[0], path: "dictionaries[id=\(id)]")
            guard try column.int("count") == count else {
                throw .invalid("\(column.path): column count \(try column.int("count")) != dictionary count \(count)")
            }
            guard reader.dictionaryColumns.updateValue(column, forKey: id) == nil else {
                throw .invalid("\(entry.path): dictionary id \(id) appears twice")
            }
        }

        var batches: [RecordBatch] = []
        for (b, item) in (try root.array("batches")).enumerated() {
            let batchJSON = try JSONObject(item, path: "batches[\(b)]")
            let count = try batchJSON.int("count")
            let columnsJSON = try batchJSON.array("columns")
            guard columnsJSON.count == fields.count else {
                throw .invalid("\(batchJSON.path): \(columnsJSON.count) columns for \(fields.count) fields")
            }
            var columns: [ArrayData] = []
            for (field, column) in zip(fields, columnsJSON) {
                columns.append(try reader.column(JSONObject(column, path: "\(batchJSON.path).\(field.field.name)"), field))
            }
            do {
                let batch = try RecordBatch(schema: schema, columns: columns, length: count)
                try batch.validate()
                batches.append(batch)
            } catch {
                throw error.withContext(batchJSON.path)
            }
        }
        return IntegrationFile(schema: schema, batches: batches)
    }

    // MARK: Schema

    private static func parseField(_ json: JSONObject, depth: Int) throws(ArrowError) -> JSONField {
        guard depth < ArrayData.maximumNestingDepth else {
            throw .invalid("\(json.path): fields nested deeper than \(ArrayData.maximumNestingDepth)")
        }
        let name = try json.string("name")
        let nullable = try json.bool("nullable", default: true)
        var children: [JSONField] = []
        for (i, item) in (try json.optionalArray("children") ?? []).enumerated() {
            children.append(try parseField(JSONObject(item, path: "\(json.path).children[\(i)]"), depth: depth + 1))
        }
        let valueType = try parseType(json.object("type"), children: children.map(\.field))
        let metadata = try jsonMetadata(json.optional("metadata"), path: "\(json.path).metadata")

        var dictionary: (id: Int, indexType: DataType, ordered: Bool)?
        var type = valueType
        if json.optional("dictionary") != nil {
            let encoding = try json.object("dictionary")
            let indexType = try parseType(encoding.object("indexType"), children: [])
            guard indexType.isInteger else { throw .invalid("\(encoding.path): index type \(indexType) is not an integer") }
            let ordered = try encoding.bool("isOrdered", default: false)
            dictionary = (try encoding.int("id"), indexType, ordered)
            type = .dictionary(index: indexType, value: valueType, ordered: ordered)
        }
        return JSONField(field: Field(name, type, nullable: nullable, metadata: metadata), valueType: valueType,
                         dictionary: dictionary, children: children)
    }

    private static func parseType(_ json: JSONObject, children: [Field]) throws(ArrowError) -> DataType {
        let name = try json.string("name")
        func needChildren(_ n: Int) throws(ArrowError) {
            guard children.count == n else { throw .invalid("\(json.path): \(name) needs \(n) children, found \(children.count)") }
        }
        func unit() throws(ArrowError) -> TimeUnit {
            switch try json.string("unit") {
            case "SECOND": return .second
            case "MILLISECOND": return .millisecond
            case "MICROSECOND": return .microsecond
            case "NANOSECOND": return .nanosecond
            case let other: throw .invalid("\(json.path): unknown time unit \"\(other)\"")
            }
        }
        switch name {
        case "null": return .null
        case "bool": return .bool
        case "int":
            let signed = try json.bool("isSigned", default: true)
            let bits = try json.int("bitWidth")
            guard let type = DataType.integer(bitWidth: bits, signed: signed) else {
                throw .invalid("\(json.path): integer bit width \(bits)")
            }
            return type
        case "floatingpoint":
            switch try json.string("precision") {
            case "HALF": return .float16
            case "SINGLE": return .float32
            case "DOUBLE": return .float64
            case let other: throw .invalid("\(json.path): unknown float precision \"\(other)\"")
            }
        case "decimal":
            let bits = try json.optionalInt("bitWidth") ?? 128
            guard [32, 64, 128, 256].contains(bits) else { throw .invalid("\(json.path): decimal bit width \(bits)") }
            let precision = try json.int("precision")
            guard precision >= 1 else { throw .invalid("\(json.path): decimal precision \(precision)") }
            return .decimal(bitWidth: bits, precision: precision, scale: try json.optionalInt("scale") ?? 0)
        case "date":
            switch try json.string("unit") {
            case "DAY": return .date32
            case "MILLISECOND": return .date64
            case let other: throw .invalid("\(json.path): unknown date unit \"\(other)\"")
            }
        case "time":
            let timeUnit = try unit()
            switch (try json.int("bitWidth"), timeUnit) {
            case (32, .second), (32, .millisecond): return .time32(timeUnit)
            case (64, .microsecond), (64, .nanosecond): return .time64(timeUnit)
            case (let bits, _): throw .invalid("\(json.path): time of \(bits) bits in \(timeUnit.abbreviation)")
            }
        case "timestamp": return .timestamp(try unit(), timeZone: try json.optionalString("timezone"))
        case "duration": return .duration(try unit())
        case "interval":
            switch try json.string("unit") {
            case "YEAR_MONTH": return .interval(.yearMonth)
            case "DAY_TIME": return .interval(.dayTime)
            case "MONTH_DAY_NANO": return .interval(.monthDayNano)
            case let other: throw .invalid("\(json.path): unknown interval unit \"\(other)\"")
            }
        case "binary": return .binary
        case "utf8": return .utf8
        case "largebinary": return .largeBinary
        case "largeutf8": return .largeUtf8
        case "binaryview": return .binaryView
        case "utf8view": return .utf8View
        case "fixedsizebinary":
            let width = try json.int("byteWidth")
            guard width >= 0 else { throw .invalid("\(json.path): byte width \(width)") }
            return .fixedSizeBinary(width)
        case "list":
            try needChildren(1)
            return .list(children[0])
        case "largelist":
            try needChildren(1)
            return .largeList(children[0])
        case "listview":
            try needChildren(1)
            return .listView(children[0])
        case "largelistview":
            try needChildren(1)
            return .largeListView(children[0])
        case "fixedsizelist":
            try needChildren(1)
            let size = try json.int("listSize")
            guard size >= 0 else { throw .invalid("\(json.path): list size \(size)") }
            return .fixedSizeList(children[0], size)
        case "struct":
            return .struct(children)
        case "map":
            try needChildren(1)
            guard case .struct(let entries) = children[0].type, entries.count == 2 else {
                throw .invalid("\(json.path): map entries must be a struct of key and value")
            }
            return .map(children[0], keysSorted: try json.bool("keysSorted", default: false))
        case "union":
            let mode: UnionMode
            switch try json.string("mode") {
            case "SPARSE": mode = .sparse
            case "DENSE": mode = .dense
            case let other: throw .invalid("\(json.path): unknown union mode \"\(other)\"")
            }
            var typeIDs: [Int8] = []
            if let ids = try json.optionalArray("typeIds") {
                for (i, id) in ids.enumerated() {
                    let value = try jsonInteger(id, as: Int8.self, path: "\(json.path).typeIds[\(i)]")
                    guard value >= 0 else { throw .invalid("\(json.path): negative union type id \(value)") }
                    typeIDs.append(value)
                }
            } else {
                guard children.count <= 128 else { throw .invalid("\(json.path): \(children.count) union children") }
                typeIDs = (0..<children.count).map { Int8($0) }
            }
            guard typeIDs.count == children.count, Set(typeIDs).count == typeIDs.count else {
                throw .invalid("\(json.path): union type ids \(typeIDs) do not match \(children.count) children")
            }
            return .union(mode, children, typeIDs: typeIDs)
        case "runendencoded":
            try needChildren(2)
            guard [.int16, .int32, .int64].contains(children[0].type) else {
                throw .invalid("\(json.path): run ends of type \(children[0].type)")
            }
            return .runEndEncoded(runEnds: children[0], values: children[1])
        default:
            throw .notSupported("\(json.path): type \"\(name)\"")
        }
    }

    /// Records which fields use which dictionary ids, so each dictionary can be decoded with the
    /// right value type.
    private mutating func registerDictionaries(_ field: JSONField) throws(ArrowError) {
        if let encoding = field.dictionary {
            let values = field.dictionaryValues
            if let existing = dictionaryFields[encoding.id], existing.valueType != values.valueType {
                throw .invalid("dictionary id \(encoding.id) is used for both \(existing.valueType) and \(values.valueType)")
            }
            if dictionaryFields[encoding.id] == nil { dictionaryFields[encoding.id] = values }
        }
        for child in field.children { try registerDictionaries(child) }
    }

    private mutating func decodedDictionary(id: Int, path: String) throws(ArrowError) -> ArrayData {
        if let decoded = decodedDictionaries[id] { return decoded }
        guard let field = dictionaryFields[id], let column = dictionaryColumns[id] else {
            throw .invalid("\(path): dictionary id \(id) has no entry in \"dictionaries\"")
        }
        guard decoding.insert(id).inserted else { throw .invalid("\(path): dictionary id \(id) contains itself") }
        let decoded = try self.column(column, field)
        decoding.remove(id)
        decodedDictionaries[id] = decoded
        return decoded
    }

    // MARK: Columns

    /// Builds the array of one column (or child, or dictionary) in the layout `ArrayData` documents.
    private mutating func column(_ json: JSONObject, _ field: JSONField) throws(ArrowError) -> ArrayData {
        let count = try json.int("count")
        guard count >= 0 else { throw .invalid("\(json.path): negative count \(count)") }

        if let encoding = field.dictionary {
            let (validity, nulls) = try Self.validity(json, count: count)
            let indices = try Self.fixedWidth(encoding.indexType, json.array("DATA", count: count), path: "\(json.path).DATA")
            let dictionary = try decodedDictionary(id: encoding.id, path: json.path)
            return ArrayData(type: field.field.type, length: count, nullCount: nulls, buffers: [validity, indices],
                             dictionary: dictionary)
        }

        let type = field.valueType
        switch type {
        case .null:
            return ArrayData(type: .null, length: count, nullCount: count, buffers: [])

        case .bool:
            let (validity, nulls) = try Self.validity(json, count: count)
            let data = try json.array("DATA", count: count)
            var bits = MutableBuffer(capacity: (count + 7) / 8)
            bits.appendZeros((count + 7) / 8)
            for (i, value) in data.enumerated() {
                guard let flag = jsonBool(value) else { throw .invalid("\(json.path).DATA[\(i)]: expected a boolean") }
                if flag { bits.setBit(i, true) }
            }
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity, bits.finish()])

        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            let (validity, nulls) = try Self.validity(json, count: count)
            let values = try Self.fixedWidth(type, json.array("DATA", count: count), path: "\(json.path).DATA")
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity, values])

        case .binary, .utf8, .largeBinary, .largeUtf8:
            let (validity, nulls) = try Self.validity(json, count: count)
            let (offsets, data) = try Self.variableLength(json, type: type, count: count)
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity, offsets, data])

        case .binaryView, .utf8View:
            let (validity, nulls) = try Self.validity(json, count: count)
            let buffers = try Self.views(json, utf8: type == .utf8View, count: count)
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity] + buffers)

        case .list, .largeList, .map:
            let (validity, nulls) = try Self.validity(json, count: count)
            let large = if case .largeList = type { true } else { false }
            let offsets = try Self.listOffsets(json, large: large, count: count)
            let children = try childColumns(json, field)
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity, offsets], children: children)

        case .listView, .largeListView:
            let (validity, nulls) = try Self.validity(json, count: count)
            let width: DataType = if case .listView = type { .int32 } else { .int64 }
            let offsets = try Self.fixedWidth(width, json.array("OFFSET", count: count), path: "\(json.path).OFFSET")
            let sizes = try Self.fixedWidth(width, json.array("SIZE", count: count), path: "\(json.path).SIZE")
            let children = try childColumns(json, field)
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity, offsets, sizes],
                             children: children)

        case .fixedSizeList, .struct:
            let (validity, nulls) = try Self.validity(json, count: count)
            let children = try childColumns(json, field)
            return ArrayData(type: type, length: count, nullCount: nulls, buffers: [validity], children: children)

        case .union(let mode, _, _):
            // Unions have no validity of their own; the format's first buffer is kept empty.
            var buffers = [Buffer(), try Self.fixedWidth(.int8, json.array("TYPE_ID", count: count), path: "\(json.path).TYPE_ID")]
            if mode == .dense {
                buffers.append(try Self.fixedWidth(.int32, json.array("OFFSET", count: count), path: "\(json.path).OFFSET"))
            }
            let children = try childColumns(json, field)
            return ArrayData(type: type, length: count, nullCount: 0, buffers: buffers, children: children)

        case .runEndEncoded:
            let children = try childColumns(json, field)
            return ArrayData(type: type, length: count, nullCount: 0, buffers: [], children: children)

        case .dictionary:
            // A dictionary whose values are themselves a dictionary type has no JSON form.
            throw .notSupported("\(json.path): dictionary values of type \(type)")
        }
    }

    private mutating func childColumns(_ json: JSONObject, _ field: JSONField) throws(ArrowError) -> [ArrayData] {
        let items = try json.optionalArray("children") ?? []
        guard items.count == field.children.count else {
            throw .invalid("\(json.path): \(items.count) children, the type has \(field.children.count)")
        }
        var children: [ArrayData] = []
        for (child, item) in zip(field.children, items) {
            children.append(try column(JSONObject(item, path: "\(json.path).\(child.field.name)"), child))
        }
        return children
    }

    // MARK: Buffers

    /// The validity bitmap and null count; a bitmap of zero bytes when every slot is valid.
    private static func validity(_ json: JSONObject, count: Int) throws(ArrowError) -> (Buffer, Int) {
        guard json.optional("VALIDITY") != nil else { return (Buffer(), 0) }
        let items = try json.array("VALIDITY", count: count)
        var valid: [Bool] = []
        valid.reserveCapacity(count)
        for (i, item) in items.enumerated() {
            guard let bit = jsonBool(item) else { throw .invalid("\(json.path).VALIDITY[\(i)]: expected 0 or 1") }
            valid.append(bit)
        }
        let nulls = valid.count(where: { !$0 })
        if nulls == 0 { return (Buffer(), 0) }
        var bits = MutableBuffer(capacity: (count + 7) / 8)
        bits.appendZeros((count + 7) / 8)
        for (i, bit) in valid.enumerated() where bit { bits.setBit(i, true) }
        return (bits.finish(), nulls)
    }

    /// The values buffer of a fixed-width type (or integer buffer: indices, offsets, type ids).
    private static func fixedWidth(_ type: DataType, _ items: [Any], path: String) throws(ArrowError) -> Buffer {
        switch type {
        case .int8: return try integers(items, as: Int8.self, path: path)
        case .int16: return try integers(items, as: Int16.self, path: path)
        case .int32, .date32, .time32, .interval(.yearMonth): return try integers(items, as: Int32.self, path: path)
        case .int64, .date64, .time64, .timestamp, .duration: return try integers(items, as: Int64.self, path: path)
        case .uint8: return try integers(items, as: UInt8.self, path: path)
        case .uint16: return try integers(items, as: UInt16.self, path: path)
        case .uint32: return try integers(items, as: UInt32.self, path: path)
        case .uint64: return try integers(items, as: UInt64.self, path: path)
        default: break
        }
        // A fixed-size binary width comes from the input, so the buffer grows with the data instead.
        let width = if case .fixedSizeBinary = type { 1 } else { type.byteWidth ?? 1 }
        var buffer = MutableBuffer(capacity: items.count * width)
        switch type {
        case .float16:
            for (i, item) in items.enumerated() { buffer.append(Float16(try jsonDouble(item, path: "\(path)[\(i)]")).bitPattern) }
        case .float32:
            for (i, item) in items.enumerated() { buffer.append(Float(try jsonDouble(item, path: "\(path)[\(i)]"))) }
        case .float64:
            for (i, item) in items.enumerated() { buffer.append(try jsonDouble(item, path: "\(path)[\(i)]")) }
        case .decimal(let bits, _, _):
            for (i, item) in items.enumerated() {
                buffer.append(contentsOf: try jsonWideInteger(item, byteWidth: bits / 8, path: "\(path)[\(i)]"))
            }
        case .interval(.dayTime):
            for (i, item) in items.enumerated() {
                let value = try JSONObject(item, path: "\(path)[\(i)]")
                buffer.append(try jsonInteger(value.required("days"), as: Int32.self, path: "\(value.path).days"))
                buffer.append(try jsonInteger(value.required("milliseconds"), as: Int32.self, path: "\(value.path).milliseconds"))
            }
        case .interval(.monthDayNano):
            for (i, item) in items.enumerated() {
                let value = try JSONObject(item, path: "\(path)[\(i)]")
                buffer.append(try jsonInteger(value.required("months"), as: Int32.self, path: "\(value.path).months"))
                buffer.append(try jsonInteger(value.required("days"), as: Int32.self, path: "\(value.path).days"))
                buffer.append(try jsonInteger(value.required("nanoseconds"), as: Int64.self, path: "\(value.path).nanoseconds"))
            }
        case .fixedSizeBinary(let width):
            for (i, item) in items.enumerated() {
                let bytes = try jsonHex(item, path: "\(path)[\(i)]")
                guard bytes.count == width else { throw .invalid("\(path)[\(i)]: \(bytes.count) bytes, expected \(width)") }
                buffer.append(contentsOf: bytes)
            }
        default:
            throw .invalid("\(path): \(type) is not a fixed-width type")
        }
        return buffer.finish()
    }

    private static func integers<T: FixedWidthInteger & BitwiseCopyable>(
        _ items: [Any], as: T.Type, path: String
    ) throws(ArrowError) -> Buffer {
        var buffer = MutableBuffer(capacity: items.count * MemoryLayout<T>.size)
        for (i, item) in items.enumerated() { buffer.append(try jsonInteger(item, as: T.self, path: "\(path)[\(i)]")) }
        return buffer.finish()
    }

    /// Offsets and data of binary and string columns, built from the per-slot DATA values; a given
    /// OFFSET list must agree with their lengths.
    private static func variableLength(_ json: JSONObject, type: DataType, count: Int) throws(ArrowError) -> (Buffer, Buffer) {
        let large = type == .largeBinary || type == .largeUtf8
        let text = type == .utf8 || type == .largeUtf8
        let items = try json.array("DATA", count: count)
        var data = MutableBuffer()
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        for (i, item) in items.enumerated() {
            if text {
                guard let string = item as? String else { throw .invalid("\(json.path).DATA[\(i)]: expected a string") }
                var utf8 = string
                utf8.withUTF8 { data.append(contentsOf: UnsafeRawBufferPointer($0)) }
                lengths.append(utf8.utf8.count)
            } else {
                let bytes = try jsonHex(item, path: "\(json.path).DATA[\(i)]")
                data.append(contentsOf: bytes)
                lengths.append(bytes.count)
            }
        }
        if !large, data.count > Int(Int32.max) { throw .invalid("\(json.path): \(data.count) bytes overflow 32-bit offsets") }

        if let given = try json.optionalArray("OFFSET"), !(given.isEmpty && count == 0) {
            guard given.count == count + 1 else {
                throw .invalid("\(json.path): OFFSET has \(given.count) values for count \(count)")
            }
            var previous = try jsonInteger(given[0], as: Int64.self, path: "\(json.path).OFFSET[0]")
            for i in 0..<count {
                let next = try jsonInteger(given[i + 1], as: Int64.self, path: "\(json.path).OFFSET[\(i + 1)]")
                guard next &- previous == Int64(lengths[i]) else {
                    throw .invalid("\(json.path): OFFSET gives slot \(i) \(next &- previous) bytes but DATA has \(lengths[i])")
                }
                previous = next
            }
        }

        var offsets = MutableBuffer(capacity: (count + 1) * (large ? 8 : 4))
        var total = 0
        if large { offsets.append(Int64(0)) } else { offsets.append(Int32(0)) }
        for length in lengths {
            total += length
            if large { offsets.append(Int64(total)) } else { offsets.append(Int32(total)) }
        }
        return (offsets.finish(), data.finish())
    }

    /// The offsets of a list, large list or map: count + 1 values (or none for an empty column).
    private static func listOffsets(_ json: JSONObject, large: Bool, count: Int) throws(ArrowError) -> Buffer {
        var items = try json.array("OFFSET")
        if items.isEmpty && count == 0 { items = [0] }
        guard items.count == count + 1 else {
            throw .invalid("\(json.path): OFFSET has \(items.count) values for count \(count)")
        }
        return try fixedWidth(large ? .int64 : .int32, items, path: "\(json.path).OFFSET")
    }

    /// The views buffer and variadic data buffers of a binary or string view column.
    private static func views(_ json: JSONObject, utf8: Bool, count: Int) throws(ArrowError) -> [Buffer] {
        var variadic: [[UInt8]] = []
        for (i, item) in (try json.optionalArray("VARIADIC_DATA_BUFFERS") ?? []).enumerated() {
            variadic.append(try jsonHex(item, path: "\(json.path).VARIADIC_DATA_BUFFERS[\(i)]"))
        }
        let items = try json.array("VIEWS", count: count)
        var views = MutableBuffer(capacity: count * 16)
        for (i, item) in items.enumerated() {
            let view = try JSONObject(item, path: "\(json.path).VIEWS[\(i)]")
            let size = try jsonInteger(view.required("SIZE"), as: Int32.self, path: "\(view.path).SIZE")
            guard size >= 0 else { throw .invalid("\(view.path): negative SIZE \(size)") }
            views.append(size)
            if size <= 12 {
                let inlined: [UInt8]
                if utf8 {
                    inlined = Array(try view.string("INLINED").utf8)
                } else {
                    inlined = try jsonHex(view.required("INLINED"), path: "\(view.path).INLINED")
                }
                guard inlined.count == Int(size) else {
                    throw .invalid("\(view.path): INLINED has \(inlined.count) bytes for SIZE \(size)")
                }
                views.append(contentsOf: inlined)
                views.appendZeros(12 - inlined.count)
            } else {
                let prefix = try jsonHex(view.required("PREFIX_HEX"), path: "\(view.path).PREFIX_HEX")
                guard prefix.count == 4 else { throw .invalid("\(view.path): PREFIX_HEX has \(prefix.count) bytes, expected 4") }
                let index = try jsonInteger(view.required("BUFFER_INDEX"), as: Int32.self, path: "\(view.path).BUFFER_INDEX")
                let offset = try jsonInteger(view.required("OFFSET"), as: Int32.self, path: "\(view.path).OFFSET")
                // Out-of-range views are left for validation, which knows whether the slot is null.
                if index >= 0, Int(index) < variadic.count, offset >= 0, Int(offset) + 4 <= variadic[Int(index)].count {
                    let start = Int(offset)
                    guard variadic[Int(index)][start..<(start + 4)].elementsEqual(prefix) else {
                        throw .invalid("\(view.path): PREFIX_HEX does not match the viewed bytes")
                    }
                }
                views.append(contentsOf: prefix)
                views.append(index)
                views.append(offset)
            }
        }
        return [views.finish()] + variadic.map { Buffer(copying: $0) }
    }
}

extension ArrowError {
    /// The same error with `context` and a colon put before its message.
    fileprivate func withContext(_ context: String) -> ArrowError {
        switch self {
        case .invalid(let message): .invalid("\(context): \(message)")
        case .notSupported(let message): .notSupported("\(context): \(message)")
        case .io(let message): .io("\(context): \(message)")
        case .mismatch(let message): .mismatch("\(context): \(message)")
        }
    }
}
