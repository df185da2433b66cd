import ArrowCore
import FlightRPC
import Foundation

/// The ticket a manager issues for one partition, signed with the cluster secret.
///
/// Layout (big-endian): magic `SAFM`, version 1, kind (0 held, 1 pull, 2 push read, 3 push
/// write), expiry (Unix seconds, Int64), query id (16 bytes), partition index (UInt32); for pull
/// tickets the task's kind (UInt16 length + UTF-8) and payload (UInt32 length + bytes); for push
/// tickets the serving node's id (UInt16 length + UTF-8); for all but held ones the schema
/// (UInt32 length + encapsulated IPC schema); then HMAC-SHA256 of everything before it.
///
/// The same signed form is a reader's ticket and, with kind 3, a producer's put descriptor: a
/// ticket is never accepted as a put descriptor, nor the other way round.
package struct ManagerTicket: Sendable, Equatable {
    /// Where the partition's batches come from.
    package enum Body: Sendable, Equatable {
        /// A partition held in the planning node's memory until read or expired.
        case held
        /// A task any node can run.
        case pull(PartitionTask, schema: Schema)
        /// A partition pushed to node `node` by a producer, read there.
        case pushRead(node: String, schema: Schema)
        /// The put descriptor of a producer that pushes the partition to node `node`.
        case pushWrite(node: String, schema: Schema)
    }

    /// The query's random 16-byte id.
    package var queryID: [UInt8]
    /// The partition's index in the query.
    package var partition: UInt32
    /// When the ticket stops being valid, in Unix seconds.
    package var expiry: Int64
    /// Held in memory, or a task.
    package var body: Body

    static let magic: [UInt8] = Array("SAFM".utf8)
    static let maximumSize = 16 << 20

    /// A ticket for partition `partition` of query `queryID`.
    package init(queryID: [UInt8], partition: UInt32, expiry: Int64, body: Body) {
        self.queryID = queryID
        self.partition = partition
        self.expiry = expiry
        self.body = body
    }

    /// The ticket's bytes, signed with `secret`.
    package func encoded(secret: [UInt8]) -> [UInt8] {
        var out = Self.magic
        out.append(1)
        switch body {
        case .held: out.append(0)
        case .pull: out.append(1)
        case .pushRead: out.append(2)
        case .pushWrite: out.append(3)
        }
        append(UInt64(bitPattern: expiry), to: &out)
        out.append(contentsOf: queryID)
        append(partition, to: &out)
        func appendString(_ text: String) {
            let bytes = Array(text.utf8)
            append(UInt16(truncatingIfNeeded: bytes.count), to: &out)
            out.append(contentsOf: bytes.prefix(Int(UInt16.max)))
        }
        func appendSchema(_ schema: Schema) {
            let schemaBytes = schema.ipcEncoded
            append(UInt32(schemaBytes.count), to: &out)
            out.append(contentsOf: schemaBytes)
        }
        switch body {
        case .held:
            break
        case .pull(let task, let schema):
            appendString(task.kind)
            append(UInt32(task.payload.count), to: &out)
            out.append(contentsOf: task.payload)
            appendSchema(schema)
        case .pushRead(let node, let schema), .pushWrite(let node, let schema):
            appendString(node)
            appendSchema(schema)
        }
        out.append(contentsOf: FlightCrypto.hmacSHA256(key: secret, out))
        return out
    }

    /// Decodes and checks a ticket. Throws `FlightError(.notFound)` for a ticket that is not
    /// ours, was tampered with, or has expired.
    package init(decoding bytes: [UInt8], secret: [UInt8], now: Int64 = Int64(Date().timeIntervalSince1970)) throws(FlightError) {
        let unknown = FlightError(.notFound, "unknown or malformed ticket")
        guard bytes.count >= 4 + 1 + 1 + 8 + 16 + 4 + 32, bytes.count <= Self.maximumSize,
              Array(bytes.prefix(4)) == Self.magic, bytes[4] == 1 else { throw unknown }
        let signed = Array(bytes.dropLast(32))
        guard FlightCrypto.constantTimeEqual(FlightCrypto.hmacSHA256(key: secret, signed), Array(bytes.suffix(32))) else {
            throw unknown
        }
        var reader = ByteReader(bytes: signed, position: 6)
        guard let expiryBits = reader.uint64(), let id = reader.bytes(16), let partition = reader.uint32() else { throw unknown }
        expiry = Int64(bitPattern: expiryBits)
        guard expiry > now else { throw FlightError(.notFound, "the ticket has expired") }
        queryID = id
        self.partition = partition
        func string() throws(FlightError) -> String {
            guard let length = reader.uint16(), let bytes = reader.bytes(Int(length)) else { throw unknown }
            return String(decoding: bytes, as: UTF8.self)
        }
        func schema() throws(FlightError) -> Schema {
            guard let length = reader.uint32(), let bytes = reader.bytes(Int(length)) else { throw unknown }
            return try Schema(ipcEncoded: bytes)
        }
        switch signed[5] {
        case 0:
            body = .held
        case 1:
            let kind = try string()
            guard let payloadLength = reader.uint32(), let payload = reader.bytes(Int(payloadLength)) else { throw unknown }
            body = .pull(PartitionTask(kind: kind, payload: payload), schema: try schema())
        case 2:
            let node = try string()
            body = .pushRead(node: node, schema: try schema())
        case 3:
            let node = try string()
            body = .pushWrite(node: node, schema: try schema())
        default:
            throw unknown
        }
        guard reader.position == signed.count else { throw unknown }
    }
}

private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
}

private struct ByteReader {
    let bytes: [UInt8]
    var position: Int

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= bytes.count - position else { return nil }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let raw = bytes(MemoryLayout<T>.size) else { return nil }
        return raw.reduce(T(0)) { $0 << 8 | T($1) }
    }

    mutating func uint16() -> UInt16? { integer(UInt16.self) }
    mutating func uint32() -> UInt32? { integer(UInt32.self) }
    mutating func uint64() -> UInt64? { integer(UInt64.self) }
}
