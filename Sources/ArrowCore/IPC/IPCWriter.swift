#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where IPC writers send bytes. Writers hand over whole buffers so that an output can pass
/// them on without copying (a file descriptor uses `writev`).
public protocol IPCOutput: AnyObject {
    /// Writes `buffers` in order.
    func write(_ buffers: [Buffer]) throws(ArrowError)
}

/// Collects written bytes in memory, in chunks, so that growing never copies what was written.
public final class IPCMemoryOutput: IPCOutput {
    private var chunks: [Buffer] = []
    private var current = MutableBuffer(capacity: 1 << 16)
    private static let chunkSize = 8 << 20

    /// An empty output.
    public init() {}

    public func write(_ buffers: [Buffer]) throws(ArrowError) {
        for buffer in buffers {
            var remaining = buffer.bytes
            while !remaining.isEmpty {
                if current.count == current.capacity {
                    let full = current.takeAndReset(capacity: Self.chunkSize)
                    if full.count > 0 { chunks.append(full) }
                }
                let n = Swift.min(remaining.count, current.capacity - current.count)
                withExtendedLifetime(buffer) { current.append(contentsOf: UnsafeRawBufferPointer(rebasing: remaining.prefix(n))) }
                remaining = UnsafeRawBufferPointer(rebasing: remaining.dropFirst(n))
            }
        }
    }

    /// The bytes written so far, in order, as chunks (no copy).
    public var buffers: [Buffer] { current.count > 0 ? chunks + [current.snapshot()] : chunks }

    /// The bytes written so far, as one buffer (a copy).
    public var buffer: Buffer {
        var whole = MutableBuffer(capacity: count)
        for chunk in buffers { chunk.withUnsafeBytes { whole.append(contentsOf: $0) } }
        return whole.finish()
    }

    /// The number of bytes written.
    public var count: Int { chunks.reduce(current.count) { $0 + $1.count } }
}

/// Writes to a POSIX file descriptor with `writev`, which the caller keeps open.
public final class IPCFileDescriptorOutput: IPCOutput {
    /// The descriptor.
    public let descriptor: Int32

    /// Wraps an open descriptor.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func write(_ buffers: [Buffer]) throws(ArrowError) {
        var pending = buffers.filter { $0.count > 0 }
        while !pending.isEmpty {
            let batch = pending.prefix(512)
            var vectors = batch.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
            let written = withExtendedLifetime(batch) { writev(descriptor, &vectors, Int32(vectors.count)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("write failed: \(systemErrorMessage(errno))")
            }
            pending.removeFirstBytes(written)
        }
    }
}

extension Array where Element == Buffer {
    /// Drops the first `count` bytes of a list of buffers (what a partial `writev` wrote),
    /// slicing the buffer that was written only in part. Zero-length buffers must not occur.
    package mutating func removeFirstBytes(_ count: Int) {
        var remaining = count
        var consumed = 0
        for buffer in self {
            if remaining >= buffer.count {
                remaining -= buffer.count
                consumed += 1
            } else {
                self[consumed] = buffer.slice(offset: remaining, count: buffer.count - remaining)
                break
            }
        }
        removeFirst(consumed)
    }
}

/// Options for IPC writers.
public struct IPCWriteOptions: Sendable {
    /// Body compression, or nil for none.
    public var compression: CompressionCodec?
    /// Write big-endian data (the schema says `endianness: Big`), for readers on big-endian
    /// machines; every buffer is converted on the way out.
    public var bigEndian: Bool

    /// Creates options.
    public init(compression: CompressionCodec? = nil, bigEndian: Bool = false) {
        self.compression = compression
        self.bigEndian = bigEndian
    }
}

/// Encodes schemas, dictionaries and batches as IPC messages, tracking which dictionaries the
/// reader already has. Shared by the stream and file writers, and by Flight.
public struct IPCMessageWriter: Sendable {
    let ipcSchema: IPCSchema
    /// The options in use.
    public let options: IPCWriteOptions
    private var sent: [Int64: ArrayData] = [:]
    /// Whether a dictionary may be replaced by a different one (streams yes, files no).
    let allowsReplacement: Bool

    /// A writer for batches of `schema`.
    public init(schema: Schema, options: IPCWriteOptions = IPCWriteOptions(), allowsDictionaryReplacement: Bool = true) {
        var ipcSchema = IPCSchema(assigningIDsTo: schema)
        ipcSchema.bigEndian = options.bigEndian
        self.ipcSchema = ipcSchema
        self.options = options
        allowsReplacement = allowsDictionaryReplacement
    }

    /// The schema message.
    public func schemaMessage() -> IPCEncodedMessage {
        IPCEncodedMessage(kind: .schema, metadata: IPCMessage.encode(header: .schema(ipcSchema), bodyLength: 0), body: [], bodyLength: 0)
    }

    /// The messages for one batch: any new or changed dictionaries, then the batch.
    public mutating func messages(for batch: RecordBatch) throws(ArrowError) -> [IPCEncodedMessage] {
        guard batch.schema.fields == ipcSchema.schema.fields else {
            throw .invalid("batch schema differs from the writer's schema")
        }
        var out: [IPCEncodedMessage] = []
        for (column, node) in zip(batch.columns, ipcSchema.idNodes) { try collectDictionaries(column, node, into: &out) }
        out.append(try IPCBatchEncoder.encodeBatch(batch, compression: options.compression, bigEndian: options.bigEndian))
        return out
    }

    private mutating func collectDictionaries(_ array: ArrayData, _ node: DictionaryIDNode, into out: inout [IPCEncodedMessage]) throws(ArrowError) {
        if case .dictionary = array.type {
            guard let id = node.id, let dictionary = array.dictionary else { return }
            // Dictionaries inside the dictionary's values go first.
            for (child, childNode) in zip(dictionary.children, node.children) { try collectDictionaries(child, childNode, into: &out) }
            if let previous = sent[id] {
                if previous === dictionary { return }
                if previous.length <= dictionary.length,
                   let prefix = try? dictionary.slice(0, previous.length), prefix.firstDifference(from: previous) == nil {
                    if previous.length < dictionary.length {
                        let delta = try dictionary.slice(previous.length, dictionary.length - previous.length)
                        out.append(try IPCBatchEncoder.encodeDictionary(id: id, delta, isDelta: true, compression: options.compression,
                                                                    bigEndian: options.bigEndian))
                    }
                    sent[id] = dictionary
                    return
                }
                guard allowsReplacement else {
                    throw .invalid("the IPC file format cannot replace dictionary \(id) with a different one")
                }
            }
            out.append(try IPCBatchEncoder.encodeDictionary(id: id, dictionary, isDelta: false, compression: options.compression,
                                                            bigEndian: options.bigEndian))
            sent[id] = dictionary
            return
        }
        for (child, childNode) in zip(array.children, node.children) { try collectDictionaries(child, childNode, into: &out) }
    }

    /// Frames a message as `0xFFFFFFFF`, length, metadata, body.
    public static func framed(_ message: IPCEncodedMessage) -> [Buffer] {
        var prefix = [UInt8](repeating: 0xFF, count: 8)
        let length = UInt32(message.metadata.count).littleEndian
        withUnsafeBytes(of: length) { for i in 0..<4 { prefix[4 + i] = $0[i] } }
        return [Buffer(copying: prefix + message.metadata)] + message.body
    }

    /// The end-of-stream marker.
    public static let endOfStream = Buffer(copying: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0] as [UInt8])
}

/// Writes the IPC stream format to an output.
public final class IPCStreamWriter {
    private var writer: IPCMessageWriter
    private let output: any IPCOutput
    private var finished = false

    /// Writes the schema message.
    public init(output: any IPCOutput, schema: Schema, options: IPCWriteOptions = IPCWriteOptions()) throws(ArrowError) {
        writer = IPCMessageWriter(schema: schema, options: options)
        self.output = output
        try output.write(IPCMessageWriter.framed(writer.schemaMessage()))
    }

    /// Writes a batch (and any dictionaries it needs first).
    public func write(_ batch: RecordBatch) throws(ArrowError) {
        guard !finished else { throw .invalid("write after finish") }
        for message in try writer.messages(for: batch) { try output.write(IPCMessageWriter.framed(message)) }
    }

    /// Writes the end-of-stream marker.
    public func finish() throws(ArrowError) {
        guard !finished else { return }
        finished = true
        try output.write([IPCMessageWriter.endOfStream])
    }

    /// A whole stream in memory.
    public static func encode(schema: Schema, batches: [RecordBatch], options: IPCWriteOptions = IPCWriteOptions()) throws(ArrowError) -> Buffer {
        let output = IPCMemoryOutput()
        let writer = try IPCStreamWriter(output: output, schema: schema, options: options)
        for batch in batches { try writer.write(batch) }
        try writer.finish()
        return output.buffer
    }
}
