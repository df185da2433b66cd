// The Message table of the Arrow IPC format (Message.fbs) and its headers.

/// One node of a record batch's flattened array tree: its length and null count.
struct IPCFieldNode: Sendable, Equatable {
    var length: Int64
    var nullCount: Int64
}

/// Where one body buffer lies in the message body.
struct IPCBufferSpec: Sendable, Equatable {
    var offset: Int64
    var length: Int64
}

/// The header of a record batch or dictionary batch message.
struct IPCRecordBatchHeader: Sendable {
    var length: Int64
    var nodes: [IPCFieldNode]
    var buffers: [IPCBufferSpec]
    var compression: CompressionCodec?
    var variadicBufferCounts: [Int64]
}

/// A decoded IPC message header.
enum IPCMessageHeader: Sendable {
    case schema(IPCSchema)
    case recordBatch(IPCRecordBatchHeader)
    case dictionaryBatch(id: Int64, batch: IPCRecordBatchHeader, isDelta: Bool)
}

/// A decoded Message table.
struct IPCMessage: Sendable {
    var version: Int16
    var header: IPCMessageHeader
    var bodyLength: Int64
    var metadata: Metadata

    /// The metadata versions this library reads: V4 and V5.
    static let currentVersion: Int16 = 4  // MetadataVersion.V5

    /// Decodes the Message flatbuffer in `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ArrowError) -> IPCMessage {
        let table = try FlatTable(root: bytes)
        let version = try table.scalar(0, Int16(0))
        guard version >= 3, version <= 4 else {
            throw .notSupported("IPC metadata version V\(version + 1); V4 and V5 are read")
        }
        let headerType = try table.scalar(1, UInt8(0))
        guard let headerTable = try table.table(2) else { throw .invalid("message without a header") }
        let bodyLength = try table.scalar(3, Int64(0))
        guard bodyLength >= 0 else { throw .invalid("negative body length \(bodyLength)") }
        let metadata = try IPCSchemaReader.readMetadata(table, slot: 4)
        let header: IPCMessageHeader
        switch headerType {
        case 1: header = .schema(try IPCSchemaReader.readSchema(headerTable))
        case 2:
            let id = try headerTable.scalar(0, Int64(0))
            guard let data = try headerTable.table(1) else { throw .invalid("dictionary batch \(id) without data") }
            header = .dictionaryBatch(id: id, batch: try readRecordBatch(data), isDelta: try headerTable.bool(2))
        case 3: header = .recordBatch(try readRecordBatch(headerTable))
        case 4, 5: throw .notSupported("tensor messages")
        default: throw .invalid("unknown message header type \(headerType)")
        }
        return IPCMessage(version: version, header: header, bodyLength: bodyLength, metadata: metadata)
    }

    private static func readRecordBatch(_ table: FlatTable) throws(ArrowError) -> IPCRecordBatchHeader {
        let length = try table.scalar(0, Int64(0))
        guard length >= 0 else { throw .invalid("negative record batch length \(length)") }
        var nodes: [IPCFieldNode] = []
        if let vector = try table.vector(1, elementSize: 16) {
            nodes.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                nodes.append(IPCFieldNode(length: vector.load(i, as: Int64.self), nullCount: vector.load(i, field: 8, as: Int64.self)))
            }
        }
        var buffers: [IPCBufferSpec] = []
        if let vector = try table.vector(2, elementSize: 16) {
            buffers.reserveCapacity(vector.count)
            for i in 0..<vector.count {
                buffers.append(IPCBufferSpec(offset: vector.load(i, as: Int64.self), length: vector.load(i, field: 8, as: Int64.self)))
            }
        }
        var compression: CompressionCodec?
        if let compressionTable = try table.table(3) {
            let method = try compressionTable.scalar(1, Int8(0))
            guard method == 0 else { throw .notSupported("body compression method \(method)") }
            switch try compressionTable.scalar(0, Int8(0)) {
            case 0: compression = .lz4Frame
            case 1: compression = .zstd
            case let codec: throw .notSupported("compression codec \(codec)")
            }
        }
        let variadic = try table.scalars(4, as: Int64.self)
        return IPCRecordBatchHeader(length: length, nodes: nodes, buffers: buffers, compression: compression,
                                    variadicBufferCounts: variadic)
    }

    /// Encodes a Message flatbuffer.
    static func encode(header: IPCMessageHeader, bodyLength: Int64, metadata: Metadata = Metadata()) -> [UInt8] {
        var message = FlatTableBuilder()
        message.add(0, currentVersion)
        switch header {
        case .schema(let schema):
            message.add(1, UInt8(1))
            message.add(2, IPCSchemaWriter.schemaTable(schema))
        case .recordBatch(let batch):
            message.add(1, UInt8(3))
            message.add(2, recordBatchTable(batch))
        case .dictionaryBatch(let id, let batch, let isDelta):
            var dictionary = FlatTableBuilder()
            dictionary.add(0, id)
            dictionary.add(1, recordBatchTable(batch))
            if isDelta { dictionary.add(2, true) }
            message.add(1, UInt8(2))
            message.add(2, dictionary)
        }
        message.add(3, bodyLength)
        if !metadata.isEmpty { message.add(4, IPCSchemaWriter.metadataVector(metadata)) }
        return FlatBufferWriter.serialize(message)
    }

    private static func recordBatchTable(_ batch: IPCRecordBatchHeader) -> FlatTableBuilder {
        var table = FlatTableBuilder()
        table.add(0, batch.length)
        var nodeBytes: [UInt8] = []
        nodeBytes.reserveCapacity(batch.nodes.count * 16)
        for node in batch.nodes {
            withUnsafeBytes(of: node.length.littleEndian) { nodeBytes.append(contentsOf: $0) }
            withUnsafeBytes(of: node.nullCount.littleEndian) { nodeBytes.append(contentsOf: $0) }
        }
        table.add(1, .structs(bytes: nodeBytes, count: batch.nodes.count, alignment: 8))
        var bufferBytes: [UInt8] = []
        bufferBytes.reserveCapacity(batch.buffers.count * 16)
        for buffer in batch.buffers {
            withUnsafeBytes(of: buffer.offset.littleEndian) { bufferBytes.append(contentsOf: $0) }
            withUnsafeBytes(of: buffer.length.littleEndian) { bufferBytes.append(contentsOf: $0) }
        }
        table.add(2, .structs(bytes: bufferBytes, count: batch.buffers.count, alignment: 8))
        if let codec = batch.compression {
            var compression = FlatTableBuilder()
            compression.add(0, Int8(codec == .lz4Frame ? 0 : 1))
            compression.add(1, Int8(0))
            table.add(3, compression)
        }
        if !batch.variadicBufferCounts.isEmpty {
            let bytes = batch.variadicBufferCounts.flatMap { count in withUnsafeBytes(of: count.littleEndian) { [UInt8]($0) } }
            table.add(4, .structs(bytes: bytes, count: batch.variadicBufferCounts.count, alignment: 8))
        }
        return table
    }
}
