import ArrowCore
import Foundation
import SwiftProtobuf

/// A FlightData message, coded by hand so that the Arrow body travels by reference: on send,
/// the body buffers go to the socket as they are; on receive, they are slices of the received
/// message.
struct FlightDataMessage: Sendable {
    var descriptor: FlightDescriptor?
    /// The IPC Message flatbuffer (`data_header`), empty for metadata-only messages.
    var header: Buffer
    var appMetadata: Buffer?
    var body: Buffer

    // Field tags: 1 descriptor, 2 data_header, 3 app_metadata (length-delimited), 1000 data_body.
    private static let bodyTag: [UInt8] = [0xC2, 0x3E]

    /// Decodes a received message; bytes fields are slices of `message`.
    static func decode(_ message: Buffer) throws(FlightError) -> FlightDataMessage {
        var out = FlightDataMessage(descriptor: nil, header: Buffer(), appMetadata: nil, body: Buffer())
        let bytes = message.bytes
        var position = 0
        func varint() throws(FlightError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count, shift < 64 else { throw FlightError(.invalidArgument, "malformed FlightData: bad varint") }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while position < bytes.count {
            let key = try varint()
            let field = key >> 3
            switch key & 7 {
            case 0: _ = try varint()
            case 1: position += 8
            case 5: position += 4
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.count - position) else {
                    throw FlightError(.invalidArgument, "malformed FlightData: field \(field) overruns the message")
                }
                let slice = message.slice(offset: position, count: Int(length))
                position += Int(length)
                switch field {
                case 1:
                    do {
                        let proto = try Arrow_Flight_Protocol_FlightDescriptor(serializedBytes: Data(slice.bytes))
                        out.descriptor = FlightDescriptor(proto)
                    } catch {
                        throw FlightError(.invalidArgument, "malformed FlightData descriptor")
                    }
                case 2: out.header = slice
                case 3: out.appMetadata = slice
                case 1000: out.body = slice
                default: break
                }
            default:
                throw FlightError(.invalidArgument, "malformed FlightData: wire type \(key & 7)")
            }
            guard position <= bytes.count else { throw FlightError(.invalidArgument, "malformed FlightData: truncated field") }
        }
        return out
    }

    /// Where the data_body bytes begin in a message that starts with `head`, if the fields
    /// before it fit in `head`. Used to place received messages so that the body is aligned.
    static func bodyOffset(_ head: UnsafeRawBufferPointer) -> Int? {
        var position = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < head.count, shift < 64 {
                let byte = head[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while position < head.count {
            guard let key = varint() else { return nil }
            switch key & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = varint() else { return nil }
                if key >> 3 == 1000 { return position }
                guard length < UInt64(head.count) else { return nil }
                position += Int(length)
            default: return nil
            }
        }
        return nil
    }

    private static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// The message as buffers: a small encoded head, then the body buffers themselves.
    static func encode(header: [UInt8], body: [Buffer], bodyLength: Int, appMetadata: [UInt8]? = nil,
                       descriptor: FlightDescriptor? = nil) -> [Buffer] {
        var head: [UInt8] = []
        head.reserveCapacity(header.count + 32)
        if let descriptor, let encoded: [UInt8] = try? descriptor.proto.serializedBytes() {
            head.append(0x0A)
            appendVarint(encoded.count, to: &head)
            head.append(contentsOf: encoded)
        }
        if !header.isEmpty {
            head.append(0x12)
            appendVarint(header.count, to: &head)
            head.append(contentsOf: header)
        }
        if let appMetadata {
            head.append(0x1A)
            appendVarint(appMetadata.count, to: &head)
            head.append(contentsOf: appMetadata)
        }
        if bodyLength > 0 {
            head.append(contentsOf: bodyTag)
            appendVarint(bodyLength, to: &head)
        }
        return [Buffer(copying: head)] + body
    }
}

/// Options for sending record batches over Flight.
public struct FlightWriteOptions: Sendable {
    /// Batches whose IPC body would exceed this many bytes are split into several messages,
    /// so that no peer's receive limit is hit.
    public var maximumMessageSize: Int
    /// IPC options (compression).
    public var ipc: IPCWriteOptions

    /// Creates options. The default size (4 MiB) stays well under the 16 MiB many clients accept.
    public init(maximumMessageSize: Int = 4 << 20, ipc: IPCWriteOptions = IPCWriteOptions()) {
        self.maximumMessageSize = maximumMessageSize
        self.ipc = ipc
    }
}

/// Turns a schema and batches into FlightData messages (schema first, dictionaries before the
/// batches that need them, large batches split).
struct FlightDataEncoder {
    private var writer: IPCMessageWriter
    let options: FlightWriteOptions
    let schema: Schema

    init(schema: Schema, options: FlightWriteOptions) {
        self.schema = schema
        writer = IPCMessageWriter(schema: schema, options: options.ipc)
        self.options = options
    }

    /// The schema message, with the descriptor when one goes with the first message (DoPut).
    static func schemaMessage(schema: Schema, options: FlightWriteOptions, descriptor: FlightDescriptor?) -> [Buffer] {
        let message = IPCMessageWriter(schema: schema, options: options.ipc).schemaMessage()
        return FlightDataMessage.encode(header: message.metadata, body: [], bodyLength: 0, descriptor: descriptor)
    }

    /// The messages for one batch; `appMetadata` rides on the last one.
    mutating func messages(for batch: RecordBatch, appMetadata: [UInt8]?) throws(FlightError) -> [[Buffer]] {
        var encoded: [IPCEncodedMessage] = []
        do throws(ArrowError) {
            for piece in try split(batch) { encoded += try writer.messages(for: piece) }
        } catch {
            throw FlightError(.invalidArgument, "cannot encode the batch: \(error)")
        }
        return encoded.enumerated().map { i, message in
            FlightDataMessage.encode(header: message.metadata, body: message.body, bodyLength: message.bodyLength,
                                     appMetadata: i == encoded.count - 1 ? appMetadata : nil)
        }
    }

    /// Zero-copy row slices whose bodies stay under the maximum message size.
    private func split(_ batch: RecordBatch) throws(ArrowError) -> [RecordBatch] {
        let size = estimatedBodySize(batch)
        guard size > options.maximumMessageSize, batch.length > 1 else { return [batch] }
        let pieces = (size + options.maximumMessageSize - 1) / options.maximumMessageSize
        let rows = Swift.max(1, (batch.length + pieces - 1) / pieces)
        var out: [RecordBatch] = []
        var start = 0
        while start < batch.length {
            let n = Swift.min(rows, batch.length - start)
            out.append(try batch.slice(start, n))
            start += n
        }
        return out
    }

    private func estimatedBodySize(_ batch: RecordBatch) -> Int {
        func size(_ array: ArrayData) -> Int {
            var total = 0
            for buffer in array.buffers { total += buffer.count }
            for child in array.children { total += size(child) }
            return total
        }
        return batch.columns.reduce(0) { $0 + size($1) }
    }
}
