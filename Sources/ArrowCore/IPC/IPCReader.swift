/// What reading one IPC message produced.
public enum IPCReadEvent: Sendable {
    /// The stream's schema (always the first event).
    case schema(Schema)
    /// A record batch, with the message's custom metadata.
    case batch(RecordBatch, metadata: Metadata)
    /// A dictionary was defined or extended; nothing for the caller to do.
    case dictionary(id: Int64)
}

/// The state shared by every IPC reader: the schema and the current dictionaries.
///
/// Feed it decoded messages in order (`apply`). It checks that the schema comes first and
/// once, that dictionaries arrive before the batches that use them, and validates each batch.
public struct IPCMessageReader: Sendable {
    private(set) var ipcSchema: IPCSchema?
    private(set) var dictionaries: [Int64: ArrayData] = [:]

    /// A reader that has seen nothing yet.
    public init() {}

    /// The schema, once the schema message has been read.
    public var schema: Schema? { ipcSchema?.schema }

    /// Reads one message: its flatbuffer `metadata` and its `body` (which must be exactly the
    /// message's body length). Batches are returned validated; their buffers are slices of `body`.
    public mutating func apply(metadata: UnsafeRawBufferPointer, body: Buffer) throws(ArrowError) -> IPCReadEvent {
        let message = try IPCMessage.decode(metadata)
        guard message.bodyLength <= Int64(body.count) else {
            throw .invalid("message body of \(message.bodyLength) bytes, only \(body.count) available")
        }
        return try apply(message, body: body)
    }

    mutating func apply(_ message: IPCMessage, body: Buffer) throws(ArrowError) -> IPCReadEvent {
        switch message.header {
        case .schema(let schema):
            guard ipcSchema == nil else { throw .invalid("a second schema message in one stream") }
            ipcSchema = schema
            return .schema(schema.schema)
        case .recordBatch(let header):
            guard let ipcSchema else { throw .invalid("record batch before the schema") }
            let batch = try IPCBatchLoader.loadBatch(header, body: body, schema: ipcSchema, dictionaries: dictionaries,
                                                     version: message.version)
            return .batch(batch, metadata: message.metadata)
        case .dictionaryBatch(let id, let header, let isDelta):
            guard let ipcSchema else { throw .invalid("dictionary batch before the schema") }
            guard let entry = ipcSchema.dictionaries[id] else { throw .invalid("dictionary batch for unknown id \(id)") }
            let values = try IPCBatchLoader.loadDictionary(header, body: body, valueType: entry.valueType, node: entry.node,
                                                           dictionaries: dictionaries, version: message.version,
                                                           bigEndian: ipcSchema.bigEndian)
            if isDelta, let existing = dictionaries[id] {
                dictionaries[id] = try ArrayData.concatenate([existing, values])
            } else {
                dictionaries[id] = values
            }
            return .dictionary(id: id)
        }
    }
}

/// The framing of encapsulated IPC messages: `0xFFFFFFFF`, a 32-bit metadata length, the
/// metadata flatbuffer (padded to 8 bytes), then the body. A zero length marks the end of a stream.
enum IPCFraming {
    static let continuation: UInt32 = 0xFFFF_FFFF

    /// A framed message found at a position: where its metadata and body are, and where the next begins.
    struct Frame {
        var metadata: Range<Int>
        var message: IPCMessage
        var body: Range<Int>
    }

    /// The metadata length prefix at `position`, and the prefix size; nil length for end-of-stream.
    /// Returns nil when fewer than 8 bytes (or 4 for the legacy form) are available.
    static func prefix(_ bytes: UnsafeRawBufferPointer, at position: Int) throws(ArrowError) -> (length: Int, prefixSize: Int)? {
        guard bytes.count - position >= 4 else { return nil }
        let first = bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
        if first == continuation {
            guard bytes.count - position >= 8 else { return nil }
            let length = Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self).littleEndian)
            guard length >= 0 else { throw .invalid("negative metadata length \(length) at byte \(position)") }
            return (Int(length), 8)
        }
        // Before format 0.15 there was no continuation marker.
        let length = Int32(bitPattern: first)
        guard length >= 0 else { throw .invalid("negative metadata length \(length) at byte \(position)") }
        return (Int(length), 4)
    }
}

/// Reads an IPC stream held in memory. Batches share the stream's buffer (zero copy).
public struct IPCStreamReader: Sendable, Sequence, IteratorProtocol {
    private let buffer: Buffer
    private var position = 0
    private var reader = IPCMessageReader()
    private var failed = false
    /// The stream's schema.
    public let schema: Schema
    /// The first error met by `next()`; iteration stops there.
    public private(set) var error: ArrowError?

    /// Reads the schema message at the start of `buffer`.
    public init(_ buffer: Buffer) throws(ArrowError) {
        self.buffer = buffer
        var first: IPCReadEvent?
        var reader = IPCMessageReader()
        var position = 0
        if let (event, next) = try IPCStreamReader.readMessage(buffer, at: position, reader: &reader) {
            first = event
            position = next
        }
        guard case .schema(let schema) = first else { throw .invalid("the stream does not start with a schema message") }
        self.schema = schema
        self.reader = reader
        self.position = position
    }

    /// Reads the message at `position`; nil at the end of the stream.
    static func readMessage(_ buffer: Buffer, at position: Int, reader: inout IPCMessageReader) throws(ArrowError) -> (IPCReadEvent, Int)? {
        let bytes = buffer.bytes
        guard let (length, prefixSize) = try IPCFraming.prefix(bytes, at: position) else {
            if position == bytes.count { return nil }
            throw .invalid("truncated message prefix at byte \(position)")
        }
        if length == 0 { return nil }
        let metadataStart = position + prefixSize
        guard length <= bytes.count - metadataStart else {
            throw .invalid("message metadata of \(length) bytes at byte \(metadataStart) overruns the stream of \(bytes.count)")
        }
        let metadata = UnsafeRawBufferPointer(rebasing: bytes[metadataStart..<(metadataStart + length)])
        let message = try IPCMessage.decode(metadata)
        let bodyStart = metadataStart + length
        guard message.bodyLength <= Int64(bytes.count - bodyStart) else {
            throw .invalid("message body of \(message.bodyLength) bytes at byte \(bodyStart) overruns the stream of \(bytes.count)")
        }
        let body = buffer.slice(offset: bodyStart, count: Int(message.bodyLength))
        let event = try reader.apply(message, body: body)
        return (event, bodyStart + Int(message.bodyLength))
    }

    /// The next batch, or nil at the end of the stream or after an error (see `error`).
    public mutating func next() -> RecordBatch? {
        do {
            return try nextBatch()
        } catch {
            self.error = error
            return nil
        }
    }

    /// The next batch, nil at the end of the stream; throws on malformed input.
    public mutating func nextBatch() throws(ArrowError) -> RecordBatch? {
        guard !failed else { return nil }
        do throws(ArrowError) {
            while let (event, next) = try IPCStreamReader.readMessage(buffer, at: position, reader: &reader) {
                position = next
                switch event {
                case .batch(let batch, _): return batch
                case .schema: throw .invalid("a second schema message in one stream")
                case .dictionary: continue
                }
            }
            return nil
        } catch {
            failed = true
            throw error
        }
    }

    /// Reads every batch of a stream.
    public static func readAll(_ buffer: Buffer) throws(ArrowError) -> (schema: Schema, batches: [RecordBatch]) {
        var reader = try IPCStreamReader(buffer)
        var batches: [RecordBatch] = []
        while let batch = try reader.nextBatch() { batches.append(batch) }
        return (reader.schema, batches)
    }
}
