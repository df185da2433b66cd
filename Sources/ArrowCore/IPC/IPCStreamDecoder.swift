/// Decodes an IPC stream from bytes as they arrive, in chunks of any size.
///
/// Each message body is gathered into one aligned buffer of exactly its length (the one copy)
/// unless it arrives whole and 8-byte aligned inside a chunk, in which case it is sliced from
/// the chunk without copying. Batches are validated before they are returned.
///
/// A decoder belongs to one task at a time. Message sizes are limited (`maximumMessageSize`)
/// so that a hostile length prefix cannot make it reserve unbounded memory.
public final class IPCStreamDecoder {
    private enum State {
        case prefix
        case metadata(length: Int)
        case body(metadata: IPCMessage, length: Int)
        case finished
    }

    private var state = State.prefix
    private var reader = IPCMessageReader()
    /// Bytes of the current prefix or metadata gathered so far.
    private var header: [UInt8] = []
    /// The body gathered so far, when it spans chunks.
    private var body = MutableBuffer(capacity: 0)
    /// The largest metadata or body this decoder accepts, in bytes.
    public let maximumMessageSize: Int

    /// A decoder that accepts messages of up to `maximumMessageSize` bytes (default 2 GiB).
    public init(maximumMessageSize: Int = Int(Int32.max)) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// The schema, once the schema message has been decoded.
    public var schema: Schema? { reader.schema }

    /// Whether the end-of-stream marker has been seen.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Decodes what `chunk` completes and returns the events in order. Bytes after the
    /// end-of-stream marker are an error.
    public func feed(_ chunk: Buffer) throws(ArrowError) -> [IPCReadEvent] {
        var events: [IPCReadEvent] = []
        var position = 0
        let bytes = chunk.bytes
        while position < bytes.count {
            switch state {
            case .finished:
                throw .invalid("\(bytes.count - position) bytes after the end of the stream")

            case .prefix:
                let need = header.count < 4 ? 4 - header.count : 8 - header.count
                let take = Swift.min(need, bytes.count - position)
                header.append(contentsOf: bytes[position..<(position + take)])
                position += take
                guard header.count >= 4 else { continue }
                let first = header.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian }
                let length: Int32
                if first == IPCFraming.continuation {
                    guard header.count == 8 else { continue }
                    length = header.withUnsafeBytes { Int32(bitPattern: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian) }
                } else {
                    length = Int32(bitPattern: first)  // the legacy form without a continuation marker
                }
                header.removeAll(keepingCapacity: true)
                guard length >= 0 else { throw .invalid("negative metadata length \(length)") }
                guard Int(length) <= maximumMessageSize else {
                    throw .invalid("metadata of \(length) bytes exceeds the limit of \(maximumMessageSize)")
                }
                state = length == 0 ? .finished : .metadata(length: Int(length))

            case .metadata(let length):
                let take = Swift.min(length - header.count, bytes.count - position)
                header.append(contentsOf: bytes[position..<(position + take)])
                position += take
                guard header.count == length else { continue }
                let decoded = header.withUnsafeBytes { raw in Result { () throws(ArrowError) in try IPCMessage.decode(raw) } }
                let message = try decoded.get()
                header.removeAll(keepingCapacity: true)
                guard message.bodyLength <= Int64(maximumMessageSize) else {
                    throw .invalid("message body of \(message.bodyLength) bytes exceeds the limit of \(maximumMessageSize)")
                }
                let bodyLength = Int(message.bodyLength)
                if bodyLength == 0 {
                    events.append(try reader.apply(message, body: Buffer()))
                    state = .prefix
                } else if bodyLength <= bytes.count - position, (Int(bitPattern: bytes.baseAddress) + position) % 8 == 0 {
                    events.append(try reader.apply(message, body: chunk.slice(offset: position, count: bodyLength)))
                    position += bodyLength
                    state = .prefix
                } else {
                    body = MutableBuffer(capacity: bodyLength)
                    state = .body(metadata: message, length: bodyLength)
                }

            case .body(let message, let length):
                let take = Swift.min(length - body.count, bytes.count - position)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + take)]))
                position += take
                guard body.count == length else { continue }
                let complete = body.takeAndReset(capacity: 0)
                events.append(try reader.apply(message, body: complete))
                state = .prefix
            }
        }
        return events
    }

    /// Decodes bytes that the caller owns; they are copied as needed.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws(ArrowError) -> [IPCReadEvent] {
        try feed(Buffer(copying: bytes))
    }

    /// Checks that the stream ended at a message boundary (with or without the end-of-stream marker).
    public func finish() throws(ArrowError) {
        switch state {
        case .finished: return
        case .prefix where header.isEmpty: return
        default: throw .invalid("the stream ends inside a message")
        }
    }
}
