/// Turns a record batch header and its body into arrays, slicing buffers out of the body
/// without copying (unless the body is compressed).
///
/// Every count, offset and length from the header is checked against the body before use, and
/// the resulting arrays are validated before they are returned.
struct IPCBatchLoader {
    let header: IPCRecordBatchHeader
    let body: Buffer
    let dictionaries: [Int64: ArrayData]
    /// Whether the message's metadata is older than V5 (version V4, Arrow before 1.0): unions
    /// then have a validity buffer slot.
    let preV5: Bool
    private var nodeIndex = 0
    private var bufferIndex = 0
    private var variadicIndex = 0

    init(header: IPCRecordBatchHeader, body: Buffer, dictionaries: [Int64: ArrayData], version: Int16) {
        self.header = header
        self.body = body
        self.dictionaries = dictionaries
        preV5 = version < IPCMessage.currentVersion
    }

    /// Loads a record batch for `schema`.
    static func loadBatch(_ header: IPCRecordBatchHeader, body: Buffer, schema: IPCSchema,
                          dictionaries: [Int64: ArrayData], version: Int16 = IPCMessage.currentVersion) throws(ArrowError) -> RecordBatch {
        var loader = IPCBatchLoader(header: header, body: body, dictionaries: dictionaries, version: version)
        var columns: [ArrayData] = []
        columns.reserveCapacity(schema.schema.fields.count)
        for (field, node) in zip(schema.schema.fields, schema.idNodes) {
            let column = try loader.load(field, node, depth: 0)
            // Big-endian data is converted before it is validated (its offsets read wrong before).
            columns.append(schema.bigEndian ? try IPCByteOrder.swapped(column, toNative: true, dictionaries: false) : column)
        }
        let batch = try RecordBatch(schema: schema.schema, columns: columns, length: Int(header.length))
        try batch.validate()
        return batch
    }

    /// Loads a dictionary batch: one column of the dictionary's value type.
    static func loadDictionary(_ header: IPCRecordBatchHeader, body: Buffer, valueType: DataType,
                               node: DictionaryIDNode, dictionaries: [Int64: ArrayData],
                               version: Int16 = IPCMessage.currentVersion, bigEndian: Bool = false) throws(ArrowError) -> ArrayData {
        var loader = IPCBatchLoader(header: header, body: body, dictionaries: dictionaries, version: version)
        let loaded = try loader.load(Field("dictionary", valueType), node, depth: 0)
        let array = bigEndian ? try IPCByteOrder.swapped(loaded, toNative: true, dictionaries: false) : loaded
        guard array.length == header.length else {
            throw .invalid("dictionary batch length \(header.length) but its column has \(array.length)")
        }
        try array.validate(path: "dictionary")
        return array
    }

    private mutating func nextNode(_ field: Field) throws(ArrowError) -> (length: Int, nullCount: Int) {
        guard nodeIndex < header.nodes.count else {
            throw .invalid("record batch has \(header.nodes.count) field nodes, field '\(field.name)' needs more")
        }
        let node = header.nodes[nodeIndex]
        nodeIndex += 1
        guard node.length >= 0, node.length <= Int64(Int.max / 64), node.nullCount >= 0, node.nullCount <= node.length else {
            throw .invalid("field '\(field.name)': node length \(node.length), null count \(node.nullCount)")
        }
        return (Int(node.length), Int(node.nullCount))
    }

    private mutating func nextBuffer(_ field: Field) throws(ArrowError) -> Buffer {
        guard bufferIndex < header.buffers.count else {
            throw .invalid("record batch has \(header.buffers.count) buffers, field '\(field.name)' needs more")
        }
        let spec = header.buffers[bufferIndex]
        bufferIndex += 1
        guard spec.offset >= 0, spec.length >= 0, spec.offset <= Int64(body.count), spec.length <= Int64(body.count) - spec.offset else {
            throw .invalid("field '\(field.name)': buffer \(bufferIndex - 1) at \(spec.offset) of \(spec.length) bytes is outside a body of \(body.count) bytes")
        }
        let raw = body.slice(offset: Int(spec.offset), count: Int(spec.length))
        guard let codec = header.compression else { return raw }
        return try CompressionCodec.decodeIPCBuffer(raw, codec: codec)
    }

    /// Metadata before V5 gives every type but null a validity buffer slot, unions and
    /// run-end encoded arrays included, which have none in V5: the slot is skipped, and an
    /// array that used it for nulls is refused (as Arrow C++ does), since V5 cannot say them.
    private mutating func skipPreV5Validity(_ field: Field, nullCount: Int) throws(ArrowError) {
        guard preV5 else { return }
        let validity = try nextBuffer(field)
        guard nullCount == 0 || validity.count == 0 else {
            throw .notSupported("field '\(field.name)': a \(field.type) with a validity bitmap (metadata V4, before Arrow 1.0)")
        }
    }

    private mutating func validity(_ field: Field, nullCount: Int) throws(ArrowError) -> Buffer {
        let buffer = try nextBuffer(field)
        return nullCount == 0 ? Buffer() : buffer
    }

    private mutating func load(_ field: Field, _ idNode: DictionaryIDNode, depth: Int) throws(ArrowError) -> ArrayData {
        guard depth < ArrayData.maximumNestingDepth else { throw .invalid("nesting deeper than \(ArrayData.maximumNestingDepth)") }
        let type = field.type
        func loadChildren() throws(ArrowError) -> [ArrayData] {
            let fields = type.children
            guard idNode.children.count == fields.count else { throw .invalid("field '\(field.name)': schema tree mismatch") }
            var result: [ArrayData] = []
            for (child, node) in zip(fields, idNode.children) { result.append(try load(child, node, depth: depth + 1)) }
            return result
        }
        switch type {
        case .null:
            let node = try nextNode(field)
            return ArrayData(type: type, length: node.length, nullCount: node.length, buffers: [])

        case .dictionary:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let indices = try nextBuffer(field)
            guard let id = idNode.id else { throw .invalid("field '\(field.name)': dictionary field without an id") }
            guard let dictionary = dictionaries[id] else {
                throw .invalid("field '\(field.name)': dictionary \(id) has not been sent before the batch that uses it")
            }
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid, indices],
                             dictionary: dictionary)

        case .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let values = try nextBuffer(field)
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid, values])

        case .binary, .utf8, .largeBinary, .largeUtf8:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let offsets = try nextBuffer(field)
            let data = try nextBuffer(field)
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid, offsets, data])

        case .binaryView, .utf8View:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let views = try nextBuffer(field)
            guard variadicIndex < header.variadicBufferCounts.count else {
                throw .invalid("field '\(field.name)': no variadic buffer count for this view array")
            }
            let count = header.variadicBufferCounts[variadicIndex]
            variadicIndex += 1
            guard count >= 0, count <= Int64(header.buffers.count - bufferIndex) else {
                throw .invalid("field '\(field.name)': \(count) variadic buffers, \(header.buffers.count - bufferIndex) left")
            }
            var buffers = [valid, views]
            for _ in 0..<Int(count) { buffers.append(try nextBuffer(field)) }
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: buffers)

        case .list, .largeList, .map:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let offsets = try nextBuffer(field)
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid, offsets],
                             children: try loadChildren())

        case .listView, .largeListView:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            let offsets = try nextBuffer(field)
            let sizes = try nextBuffer(field)
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid, offsets, sizes],
                             children: try loadChildren())

        case .fixedSizeList, .struct:
            let node = try nextNode(field)
            let valid = try validity(field, nullCount: node.nullCount)
            return ArrayData(type: type, length: node.length, nullCount: node.nullCount, buffers: [valid],
                             children: try loadChildren())

        case .union(let mode, _, _):
            let node = try nextNode(field)
            // Unions have no validity bitmap, and no buffer slot for one in format V5.
            try skipPreV5Validity(field, nullCount: node.nullCount)
            let typeIDs = try nextBuffer(field)
            var buffers = [Buffer(), typeIDs]
            if mode == .dense { buffers.append(try nextBuffer(field)) }
            return ArrayData(type: type, length: node.length, nullCount: 0, buffers: buffers, children: try loadChildren())

        case .runEndEncoded:
            let node = try nextNode(field)
            try skipPreV5Validity(field, nullCount: node.nullCount)
            return ArrayData(type: type, length: node.length, nullCount: 0, buffers: [], children: try loadChildren())
        }
    }
}
