// The IPC file format: "ARROW1", padding, a stream, a Footer flatbuffer, its length, "ARROW1".

/// Where one message lies in an IPC file.
struct IPCBlock: Sendable, Equatable {
    var offset: Int64
    var metadataLength: Int32
    var bodyLength: Int64
}

let arrowMagic: [UInt8] = Array("ARROW1".utf8)

/// Whether `bytes` start with the IPC file magic.
public func isArrowFile(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 6 && zip(bytes.prefix(6), arrowMagic).allSatisfy { $0 == $1 }
}

/// Reads an IPC file held in memory, with random access to its batches. Batches share the
/// file's buffer (zero copy).
public struct IPCFileReader: Sendable {
    private let buffer: Buffer
    private let ipcSchema: IPCSchema
    private let batchBlocks: [IPCBlock]
    private let dictionaries: [Int64: ArrayData]
    /// The schema from the footer.
    public var schema: Schema { ipcSchema.schema }
    /// Custom metadata from the footer.
    public let metadata: Metadata

    /// Reads the footer and every dictionary.
    public init(_ buffer: Buffer) throws(ArrowError) {
        self.buffer = buffer
        let bytes = buffer.bytes
        guard bytes.count >= 6 + 2 + 4 + 6, isArrowFile(bytes),
              zip(bytes.suffix(6), arrowMagic).allSatisfy({ $0 == $1 }) else {
            throw .invalid("not an Arrow IPC file (magic missing at the start or the end)")
        }
        let footerLength = Int(Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: bytes.count - 10, as: UInt32.self).littleEndian))
        guard footerLength > 0, footerLength <= bytes.count - 18 else { throw .invalid("footer length \(footerLength)") }
        let footerStart = bytes.count - 10 - footerLength
        let footer = try FlatTable(root: UnsafeRawBufferPointer(rebasing: bytes[footerStart..<(footerStart + footerLength)]))
        guard let schemaTable = try footer.table(1) else { throw .invalid("file footer without a schema") }
        let ipcSchema = try IPCSchemaReader.readSchema(schemaTable)
        self.ipcSchema = ipcSchema
        metadata = try IPCSchemaReader.readMetadata(footer, slot: 4)
        batchBlocks = try IPCFileReader.blocks(footer, slot: 3)
        var reader = IPCMessageReader()
        _ = try reader.apply(IPCMessage(version: 4, header: .schema(ipcSchema), bodyLength: 0, metadata: Metadata()), body: Buffer())
        for block in try IPCFileReader.blocks(footer, slot: 2) {
            let (message, body) = try IPCFileReader.message(buffer, block, limit: footerStart)
            guard case .dictionaryBatch = message.header else { throw .invalid("a dictionary block holds another kind of message") }
            _ = try reader.apply(message, body: body)
        }
        dictionaries = reader.dictionaries
    }

    private static func blocks(_ footer: FlatTable, slot: Int) throws(ArrowError) -> [IPCBlock] {
        guard let vector = try footer.vector(slot, elementSize: 24) else { return [] }
        return (0..<vector.count).map {
            IPCBlock(offset: vector.load($0, as: Int64.self), metadataLength: vector.load($0, field: 8, as: Int32.self),
                     bodyLength: vector.load($0, field: 16, as: Int64.self))
        }
    }

    private static func message(_ buffer: Buffer, _ block: IPCBlock, limit: Int) throws(ArrowError) -> (IPCMessage, Buffer) {
        let bytes = buffer.bytes
        guard block.offset >= 8, block.offset < Int64(limit), block.metadataLength >= 8,
              Int64(block.metadataLength) <= Int64(limit) - block.offset,
              block.bodyLength >= 0, block.bodyLength <= Int64(limit) - block.offset - Int64(block.metadataLength) else {
            throw .invalid("file block at \(block.offset) (metadata \(block.metadataLength), body \(block.bodyLength)) is outside the file")
        }
        let start = Int(block.offset)
        guard let (length, prefixSize) = try IPCFraming.prefix(UnsafeRawBufferPointer(rebasing: bytes[..<limit]), at: start),
              length > 0, prefixSize + length <= Int(block.metadataLength) else {
            throw .invalid("file block at \(block.offset) does not hold a message")
        }
        let metadata = UnsafeRawBufferPointer(rebasing: bytes[(start + prefixSize)..<(start + prefixSize + length)])
        let message = try IPCMessage.decode(metadata)
        guard message.bodyLength <= block.bodyLength else {
            throw .invalid("message body of \(message.bodyLength) bytes in a block of \(block.bodyLength)")
        }
        let body = buffer.slice(offset: start + Int(block.metadataLength), count: Int(message.bodyLength))
        return (message, body)
    }

    /// The number of record batches.
    public var batchCount: Int { batchBlocks.count }

    /// Reads batch `index`.
    public func batch(_ index: Int) throws(ArrowError) -> RecordBatch {
        guard index >= 0, index < batchBlocks.count else { throw .invalid("batch \(index) of \(batchBlocks.count)") }
        let (message, body) = try IPCFileReader.message(buffer, batchBlocks[index], limit: buffer.count - 10)
        guard case .recordBatch(let header) = message.header else { throw .invalid("batch block \(index) holds another kind of message") }
        return try IPCBatchLoader.loadBatch(header, body: body, schema: ipcSchema, dictionaries: dictionaries, version: message.version)
    }

    /// Reads every batch.
    public func batches() throws(ArrowError) -> [RecordBatch] {
        var result: [RecordBatch] = []
        for i in 0..<batchCount { result.append(try batch(i)) }
        return result
    }
}

/// Writes the IPC file format to an output.
public final class IPCFileWriter {
    private var writer: IPCMessageWriter
    private let output: any IPCOutput
    private var position = 0
    private var dictionaryBlocks: [IPCBlock] = []
    private var batchBlocks: [IPCBlock] = []
    private var finished = false
    /// Custom metadata for the footer.
    public var metadata = Metadata()

    /// Writes the magic and the schema message.
    public init(output: any IPCOutput, schema: Schema, options: IPCWriteOptions = IPCWriteOptions()) throws(ArrowError) {
        writer = IPCMessageWriter(schema: schema, options: options, allowsDictionaryReplacement: false)
        self.output = output
        try emit([Buffer(copying: arrowMagic + [0, 0])])
        _ = try writeMessage(writer.schemaMessage())
    }

    private func emit(_ buffers: [Buffer]) throws(ArrowError) {
        try output.write(buffers)
        position += buffers.reduce(0) { $0 + $1.count }
    }

    private func writeMessage(_ message: IPCEncodedMessage) throws(ArrowError) -> IPCBlock {
        let block = IPCBlock(offset: Int64(position), metadataLength: Int32(8 + message.metadata.count), bodyLength: Int64(message.bodyLength))
        try emit(IPCMessageWriter.framed(message))
        return block
    }

    /// Writes a batch (and any dictionaries it needs first).
    public func write(_ batch: RecordBatch) throws(ArrowError) {
        guard !finished else { throw .invalid("write after finish") }
        for message in try writer.messages(for: batch) {
            let block = try writeMessage(message)
            if message.kind == .dictionary { dictionaryBlocks.append(block) } else { batchBlocks.append(block) }
        }
    }

    /// Writes the end-of-stream marker, the footer and the trailing magic.
    public func finish() throws(ArrowError) {
        guard !finished else { return }
        finished = true
        try emit([IPCMessageWriter.endOfStream])
        var footer = FlatTableBuilder()
        footer.add(0, IPCMessage.currentVersion)
        footer.add(1, IPCSchemaWriter.schemaTable(writer.ipcSchema))
        footer.add(2, IPCFileWriter.blockVector(dictionaryBlocks))
        footer.add(3, IPCFileWriter.blockVector(batchBlocks))
        if !metadata.isEmpty { footer.add(4, IPCSchemaWriter.metadataVector(metadata)) }
        let bytes = FlatBufferWriter.serialize(footer)
        var tail = bytes
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { tail.append(contentsOf: $0) }
        tail.append(contentsOf: arrowMagic)
        try emit([Buffer(copying: tail)])
    }

    private static func blockVector(_ blocks: [IPCBlock]) -> FlatObject {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(blocks.count * 24)
        for block in blocks {
            withUnsafeBytes(of: block.offset.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: block.metadataLength.littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [0, 0, 0, 0])
            withUnsafeBytes(of: block.bodyLength.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return .structs(bytes: bytes, count: blocks.count, alignment: 8)
    }

    /// A whole file in memory.
    public static func encode(schema: Schema, batches: [RecordBatch], options: IPCWriteOptions = IPCWriteOptions()) throws(ArrowError) -> Buffer {
        let output = IPCMemoryOutput()
        let writer = try IPCFileWriter(output: output, schema: schema, options: options)
        for batch in batches { try writer.write(batch) }
        try writer.finish()
        return output.buffer
    }
}
