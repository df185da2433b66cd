import ArrowCore

/// One message of a Flight data stream: a batch, application metadata, or both.
public struct FlightStreamChunk: Sendable {
    /// The record batch, if the message carried one.
    public var batch: RecordBatch?
    /// The message's `app_metadata`, if it had any.
    public var appMetadata: Buffer?
}

/// Reads a Flight data stream (DoGet responses, DoPut and DoExchange requests) as record
/// batches. Batches are validated; their buffers are slices of the received messages.
///
/// A reader belongs to one task at a time. Iterate it for batches, or call `nextChunk()` to
/// see application metadata too.
public final class FlightRecordBatchReader: AsyncSequence, @unchecked Sendable {
    public typealias Element = RecordBatch

    private var messages: GRPCInbound.AsyncIterator
    private var reader = IPCMessageReader()
    private var buffered: FlightStreamChunk?
    private let onEnd: (@Sendable () async throws -> Void)?
    private var ended = false
    /// The descriptor sent with the first message (DoPut, DoExchange), if any.
    public private(set) var descriptor: FlightDescriptor?

    private let onCancel: (@Sendable () -> Void)?

    init(_ messages: GRPCInbound, onEnd: (@Sendable () async throws -> Void)? = nil, onCancel: (@Sendable () -> Void)? = nil) {
        self.messages = messages.makeAsyncIterator()
        self.onEnd = onEnd
        self.onCancel = onCancel
    }

    /// A reader dropped before the end of its stream cancels the call, so that the sender stops.
    deinit {
        if !ended { onCancel?() }
    }

    /// Stops reading: the call is cancelled (client side) and later reads return nil.
    public func cancel() {
        guard !ended else { return }
        ended = true
        onCancel?()
    }

    /// The schema, reading up to the schema message if it has not arrived yet. Nil when the
    /// stream ended without one.
    public func schema() async throws -> Schema? {
        while reader.schema == nil {
            guard let chunk = try await readChunk() else { return nil }
            if chunk.batch != nil || chunk.appMetadata != nil {
                buffered = chunk
                break
            }
        }
        return reader.schema
    }

    /// The next batch and/or metadata, or nil at the end of the stream.
    public func nextChunk() async throws -> FlightStreamChunk? {
        if let chunk = buffered {
            buffered = nil
            return chunk
        }
        while true {
            guard let chunk = try await readChunk() else { return nil }
            if chunk.batch != nil || chunk.appMetadata != nil { return chunk }
        }
    }

    /// The next batch, skipping metadata-only messages; nil at the end.
    public func next() async throws -> RecordBatch? {
        while let chunk = try await nextChunk() {
            if let batch = chunk.batch { return batch }
        }
        return nil
    }

    /// Reads every remaining batch.
    public func readAll() async throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        while let batch = try await next() { batches.append(batch) }
        return batches
    }

    /// Reads one message; a chunk with neither batch nor metadata for schema/dictionary messages.
    private func readChunk() async throws -> FlightStreamChunk? {
        guard !ended else { return nil }
        let next: Buffer?
        do {
            next = try await messages.next()
        } catch {
            ended = true
            // A client call's status says why its stream broke (deadline, server error).
            try await onEnd?()
            throw error
        }
        guard let raw = next else {
            ended = true
            try await onEnd?()
            return nil
        }
        let message = try FlightDataMessage.decode(raw)
        if descriptor == nil, let d = message.descriptor { descriptor = d }
        var chunk = FlightStreamChunk(batch: nil, appMetadata: message.appMetadata)
        if message.header.count > 0 {
            do {
                let event = try message.header.withUnsafeBytes { bytes throws(ArrowError) in
                    try reader.apply(metadata: bytes, body: message.body)
                }
                if case .batch(let batch, _) = event { chunk.batch = batch }
            } catch let error as ArrowError {
                throw FlightError(.invalidArgument, "malformed IPC data in FlightData: \(error)")
            }
        }
        return chunk
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: FlightRecordBatchReader
        public mutating func next() async throws -> RecordBatch? { try await reader.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: self) }
}

/// Writes a Flight data stream: the schema, then batches (split to the maximum message size),
/// each optionally with application metadata. `write` suspends while the peer is slow.
///
/// A writer belongs to one task at a time.
public final class FlightRecordBatchWriter: @unchecked Sendable {
    private let send: @Sendable ([Buffer]) async throws -> Void
    private var encoder: FlightDataEncoder?
    private let options: FlightWriteOptions
    private var descriptor: FlightDescriptor?

    init(options: FlightWriteOptions, descriptor: FlightDescriptor? = nil, send: @escaping @Sendable ([Buffer]) async throws -> Void) {
        self.send = send
        self.options = options
        self.descriptor = descriptor
    }

    /// The schema in use, once `begin` or the first `write` has set it.
    public var schema: Schema? { encoder?.schema }

    /// Sends the schema. Called by the first `write` if not called before; a second call with
    /// another schema is an error.
    public func begin(_ schema: Schema) async throws {
        if let encoder {
            guard encoder.schema == schema else { throw FlightError(.invalidArgument, "the stream's schema is already set") }
            return
        }
        encoder = FlightDataEncoder(schema: schema, options: options)
        let message = FlightDataEncoder.schemaMessage(schema: schema, options: options, descriptor: descriptor)
        descriptor = nil
        try await send(message)
    }

    /// Sends a batch, with `appMetadata` on its last message.
    public func write(_ batch: RecordBatch, appMetadata: [UInt8]? = nil) async throws {
        if encoder == nil { try await begin(batch.schema) }
        guard var current = encoder else { return }
        let messages = try current.messages(for: batch, appMetadata: appMetadata)
        encoder = current
        for message in messages { try await send(message) }
    }

    /// Sends application metadata without a batch.
    public func writeMetadata(_ appMetadata: [UInt8]) async throws {
        try await send(FlightDataMessage.encode(header: [], body: [], bodyLength: 0, appMetadata: appMetadata))
    }
}
