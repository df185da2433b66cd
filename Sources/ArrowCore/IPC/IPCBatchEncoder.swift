/// An encoded IPC message: the Message flatbuffer and the body as a list of buffers.
///
/// The body buffers are the arrays' own buffers (or slices of them) plus zero padding, so
/// encoding copies no column data unless an array's offset forces it (a bitmap at a bit offset,
/// offsets that must be rebased) or compression is on. Flight sends `metadata` as
/// `data_header` and the concatenated body as `data_body`.
public struct IPCEncodedMessage: Sendable {
    /// What the message carries.
    public enum Kind: Sendable, Equatable { case schema, dictionary, recordBatch }
    /// What the message carries.
    public let kind: Kind
    /// The Message flatbuffer, padded to a multiple of 8 bytes.
    public let metadata: [UInt8]
    /// The body, in order; the sum of their sizes is `bodyLength`.
    public let body: [Buffer]
    /// The body length in bytes (a multiple of 8).
    public let bodyLength: Int
}

/// Zero bytes to pad body buffers with.
private let zeroPadding = Buffer(copying: [UInt8](repeating: 0, count: 64))

/// Flattens arrays into IPC field nodes and body buffers.
struct IPCBatchEncoder {
    var nodes: [IPCFieldNode] = []
    var specs: [IPCBufferSpec] = []
    var body: [Buffer] = []
    var bodyLength = 0
    var variadicCounts: [Int64] = []
    let compression: CompressionCodec?
    /// Whether buffers are written big-endian (converted as they are added).
    let bigEndian: Bool

    init(compression: CompressionCodec?, bigEndian: Bool = false) {
        self.compression = compression
        self.bigEndian = bigEndian
    }

    /// Encodes a record batch message.
    static func encodeBatch(_ batch: RecordBatch, compression: CompressionCodec?, bigEndian: Bool = false) throws(ArrowError) -> IPCEncodedMessage {
        var encoder = IPCBatchEncoder(compression: compression, bigEndian: bigEndian)
        for column in batch.columns { try encoder.append(column) }
        let header = IPCRecordBatchHeader(length: Int64(batch.length), nodes: encoder.nodes, buffers: encoder.specs,
                                          compression: compression, variadicBufferCounts: encoder.variadicCounts)
        let metadata = IPCMessage.encode(header: .recordBatch(header), bodyLength: Int64(encoder.bodyLength))
        return IPCEncodedMessage(kind: .recordBatch, metadata: metadata, body: encoder.body, bodyLength: encoder.bodyLength)
    }

    /// Encodes a dictionary batch message.
    static func encodeDictionary(id: Int64, _ dictionary: ArrayData, isDelta: Bool, compression: CompressionCodec?,
                                 bigEndian: Bool = false) throws(ArrowError) -> IPCEncodedMessage {
        var encoder = IPCBatchEncoder(compression: compression, bigEndian: bigEndian)
        try encoder.append(dictionary)
        let header = IPCRecordBatchHeader(length: Int64(dictionary.length), nodes: encoder.nodes, buffers: encoder.specs,
                                          compression: compression, variadicBufferCounts: encoder.variadicCounts)
        let metadata = IPCMessage.encode(header: .dictionaryBatch(id: id, batch: header, isDelta: isDelta),
                                         bodyLength: Int64(encoder.bodyLength))
        return IPCEncodedMessage(kind: .dictionary, metadata: metadata, body: encoder.body, bodyLength: encoder.bodyLength)
    }

    /// Adds a buffer of values with byte order: `groups` are the widths of one value's fields
    /// (one width for most types); in big-endian output each is reversed.
    /// The widths are only worked out for big-endian output: little-endian batches (every
    /// Flight message) pay nothing here.
    private mutating func addBuffer(_ plain: Buffer, values groups: @autoclosure () -> [Int]) throws(ArrowError) {
        try addBuffer(bigEndian ? IPCByteOrder.reversed(plain, groups: groups()) : plain)
    }

    private mutating func addBuffer(_ plain: Buffer) throws(ArrowError) {
        let buffer = try compression.map { codec throws(ArrowError) in try CompressionCodec.encodeIPCBuffer(plain, codec: codec) } ?? plain
        specs.append(IPCBufferSpec(offset: Int64(bodyLength), length: Int64(buffer.count)))
        if buffer.count > 0 { body.append(buffer) }
        bodyLength += buffer.count
        let padding = (8 - bodyLength % 8) % 8
        if padding > 0 {
            body.append(zeroPadding.slice(offset: 0, count: padding))
            bodyLength += padding
        }
    }

    /// A bitmap holding bits `offset..<offset+length` of `bitmap`, starting at bit 0.
    private func bitmap(_ bitmap: Buffer, offset: Int, length: Int) -> Buffer {
        let bytes = (length + 7) / 8
        if offset % 8 == 0 { return bitmap.slice(offset: offset / 8, count: Swift.min(bytes, bitmap.count - offset / 8)) }
        var out = MutableBuffer(capacity: bytes)
        out.appendZeros(bytes)
        for i in 0..<length where bitmap.bit(offset + i) { out.setBit(i, true) }
        return out.finish()
    }

    private mutating func appendValidity(_ array: ArrayData) throws(ArrowError) {
        if array.nullCount == 0 || array.buffers[0].count == 0 {
            try addBuffer(Buffer())
        } else {
            try addBuffer(bitmap(array.buffers[0], offset: array.offset, length: array.length))
        }
    }

    /// Offsets rebased to start at zero, and the range of the child or data they cover.
    private func rebasedOffsets(_ array: ArrayData, large: Bool) -> (Buffer, Range<Int>) {
        let buffer = array.buffers[1]
        if array.length == 0 {
            return (large ? Buffer(values: [Int64(0)]) : Buffer(values: [Int32(0)]), 0..<0)
        }
        let width = large ? 8 : 4
        func at(_ i: Int) -> Int {
            large ? Int(buffer.value(at: i, as: Int64.self)) : Int(buffer.value(at: i, as: Int32.self))
        }
        let first = at(array.offset)
        let last = at(array.offset + array.length)
        if first == 0 {
            return (buffer.slice(offset: array.offset * width, count: (array.length + 1) * width), 0..<last)
        }
        var out = MutableBuffer(capacity: (array.length + 1) * width)
        for i in array.offset...(array.offset + array.length) {
            if large { out.append(Int64(at(i) - first)) } else { out.append(Int32(at(i) - first)) }
        }
        return (out.finish(), first..<last)
    }

    mutating func append(_ array: ArrayData) throws(ArrowError) {
        nodes.append(IPCFieldNode(length: Int64(array.length), nullCount: Int64(array.nullCount)))
        let offset = array.offset, length = array.length
        switch array.type {
        case .null:
            break

        case .bool:
            try appendValidity(array)
            try addBuffer(bitmap(array.buffers[1], offset: offset, length: length))

        case .dictionary, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            try appendValidity(array)
            let width = array.type.storageLayoutType.byteWidth ?? 0
            try addBuffer(array.buffers[1].slice(offset: offset * width, count: length * width), values: IPCByteOrder.groups(array.type))

        case .binary, .utf8, .largeBinary, .largeUtf8:
            try appendValidity(array)
            let large = array.type == .largeBinary || array.type == .largeUtf8
            let (offsets, range) = rebasedOffsets(array, large: large)
            try addBuffer(offsets, values: [large ? 8 : 4])
            try addBuffer(array.buffers[2].slice(offset: range.lowerBound, count: range.count))

        case .binaryView, .utf8View:
            try appendValidity(array)
            let views = array.buffers[1].slice(offset: offset * 16, count: length * 16)
            try addBuffer(bigEndian ? IPCByteOrder.swappedViews(views, toNative: false) : views)
            variadicCounts.append(Int64(array.buffers.count - 2))
            for buffer in array.buffers.dropFirst(2) { try addBuffer(buffer) }

        case .list, .largeList, .map:
            try appendValidity(array)
            let (offsets, range) = rebasedOffsets(array, large: array.type.isLargeList)
            try addBuffer(offsets, values: [array.type.isLargeList ? 8 : 4])
            try append(array.children[0].slice(range.lowerBound, range.count))

        case .listView, .largeListView:
            try appendValidity(array)
            let width = array.type.isLargeList ? 8 : 4
            try addBuffer(array.buffers[1].slice(offset: offset * width, count: length * width), values: [width])
            try addBuffer(array.buffers[2].slice(offset: offset * width, count: length * width), values: [width])
            try append(array.children[0])

        case .fixedSizeList(_, let size):
            try appendValidity(array)
            try append(array.children[0].slice(offset * size, length * size))

        case .struct:
            try appendValidity(array)
            for child in array.children { try append(child.slice(offset, length)) }

        case .union(let mode, _, _):
            try addBuffer(array.buffers[1].slice(offset: offset, count: length))
            if mode == .dense {
                try addBuffer(array.buffers[2].slice(offset: offset * 4, count: length * 4), values: [4])
                for child in array.children { try append(child) }
            } else {
                for child in array.children { try append(child.slice(offset, length)) }
            }

        case .runEndEncoded:
            let (ends, values) = try runEndWindow(array)
            try append(ends)
            try append(values)
        }
    }

    /// The run ends and values covering exactly the array's window, rebased to start at zero.
    private func runEndWindow(_ array: ArrayData) throws(ArrowError) -> (ArrayData, ArrayData) {
        let ends = array.children[0], values = array.children[1]
        if array.offset == 0, ends.length > 0, ends.integer(ends.length - 1) == array.length { return (ends, values) }
        if array.length == 0 { return (try ends.slice(0, 0), try values.slice(0, 0)) }
        let first = array.runIndex(0)
        let last = array.runIndex(array.length - 1)
        var out = MutableBuffer(capacity: (last - first + 1) * 8)
        for run in first...last {
            let end = Swift.min(ends.integer(run) - array.offset, array.length)
            switch ends.type {
            case .int16: out.append(Int16(end))
            case .int32: out.append(Int32(end))
            default: out.append(Int64(end))
            }
        }
        let newEnds = ArrayData(type: ends.type, length: last - first + 1, nullCount: 0, buffers: [Buffer(), out.finish()])
        return (newEnds, try values.slice(first, last - first + 1))
    }
}

extension DataType {
    var isLargeList: Bool {
        switch self {
        case .largeList, .largeListView: true
        default: false
        }
    }
}
