/// Reads Thrift's compact protocol (the encoding of Parquet's footer and page headers) from
/// untrusted bytes: every length and count is checked against what is left before it is used,
/// nesting is bounded, and fields a struct does not know are skipped, so that files written
/// with newer versions of the format still read.
struct ThriftCompactReader {
    /// Compact-protocol type codes.
    enum FieldType: UInt8 {
        case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6
        case double = 7, binary = 8, list = 9, set = 10, map = 11, `struct` = 12
    }

    /// A field's header: its id and its type.
    struct FieldHeader {
        var id: Int16
        var type: FieldType
        /// For a bool field, its value (the compact protocol keeps it in the header).
        var boolValue: Bool { type == .boolTrue }
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    /// How many structs are being read, one inside the other.
    private var depth = 0
    static let maximumDepth = 64

    /// A reader of `bytes` from `position`.
    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    private func error(_ what: String) -> ParquetError {
        ParquetError("malformed Thrift at byte \(position): \(what)")
    }

    @inline(__always)
    mutating func readByte() throws(ParquetError) -> UInt8 {
        guard position < bytes.count else { throw error("unexpected end of data") }
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always)
    mutating func readVarint() throws(ParquetError) -> UInt64 {
        // The common case, one byte.
        if position < bytes.count, bytes[position] < 0x80 {
            defer { position += 1 }
            return UInt64(bytes[position])
        }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw error("varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func readZigZag() throws(ParquetError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func readI32() throws(ParquetError) -> Int32 {
        let value = try readZigZag()
        guard let narrow = Int32(exactly: value) else { throw error("i32 out of range: \(value)") }
        return narrow
    }

    mutating func readI16() throws(ParquetError) -> Int16 {
        let value = try readZigZag()
        guard let narrow = Int16(exactly: value) else { throw error("i16 out of range: \(value)") }
        return narrow
    }

    mutating func readI64() throws(ParquetError) -> Int64 { try readZigZag() }

    mutating func readI8() throws(ParquetError) -> Int8 { Int8(bitPattern: try readByte()) }

    mutating func readBinary() throws(ParquetError) -> [UInt8] {
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw error("binary of \(length) bytes with \(remaining) left") }
        defer { position += Int(length) }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<position + Int(length)]))
    }

    mutating func readString() throws(ParquetError) -> String {
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw error("string of \(length) bytes with \(remaining) left") }
        defer { position += Int(length) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<position + Int(length)]), as: UTF8.self)
    }

    /// A list's element type and count. The count is checked against what is left (every
    /// element takes a byte at least), so a claimed size cannot make the caller allocate more.
    mutating func readListHeader() throws(ParquetError) -> (type: FieldType, count: Int) {
        let header = try readByte()
        guard let type = FieldType(rawValue: header & 0x0F) else { throw error("unknown list element type \(header & 0x0F)") }
        var count = UInt64(header >> 4)
        if count == 15 { count = try readVarint() }
        guard count <= UInt64(remaining) else { throw error("list of \(count) elements with \(remaining) bytes left") }
        return (type, Int(count))
    }

    /// Starts reading a struct.
    private mutating func beginStruct() throws(ParquetError) {
        guard depth < Self.maximumDepth else { throw error("structs nested deeper than \(Self.maximumDepth)") }
        depth += 1
    }

    /// The next field's header, or nil at the struct's end (which the call consumes). `last`
    /// is the struct's previous field id, which short headers count from.
    @inline(__always)
    private mutating func nextField(after last: inout Int16) throws(ParquetError) -> FieldHeader? {
        let header = try readByte()
        if header == 0 {
            depth -= 1
            return nil
        }
        guard let type = FieldType(rawValue: header & 0x0F), type != .stop else {
            throw error("unknown field type \(header & 0x0F)")
        }
        let delta = Int16(header >> 4)
        if delta == 0 {
            last = try readI16()
        } else {
            let (sum, overflow) = last.addingReportingOverflow(delta)
            guard !overflow else { throw error("field id overflows") }
            last = sum
        }
        return FieldHeader(id: last, type: type)
    }

    /// Skips a value of `type` (a whole struct, list or map with what it holds).
    mutating func skip(_ type: FieldType) throws(ParquetError) {
        switch type {
        case .stop: throw error("stop where a value was expected")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double:
            guard remaining >= 8 else { throw error("unexpected end of data in a double") }
            position += 8
        case .binary: _ = try readBinary()
        case .list, .set:
            let (elementType, count) = try readListHeader()
            for _ in 0..<count {
                if elementType == .boolTrue || elementType == .boolFalse { _ = try readByte() } else { try skip(elementType) }
            }
        case .map:
            let count = try readVarint()
            guard count <= UInt64(remaining) else { throw error("map of \(count) entries with \(remaining) bytes left") }
            guard count > 0 else { return }
            let types = try readByte()
            guard let key = FieldType(rawValue: types >> 4), let value = FieldType(rawValue: types & 0x0F) else {
                throw error("unknown map key or value type")
            }
            for _ in 0..<count {
                try skipElement(key)
                try skipElement(value)
            }
        case .struct:
            try beginStruct()
            var last: Int16 = 0
            while let field = try nextField(after: &last) { try skip(field.type) }
        }
    }

    private mutating func skipElement(_ type: FieldType) throws(ParquetError) {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
    }

    /// Reads a struct: `body` gets each field and must read its value or skip it.
    mutating func readStruct(_ body: (inout ThriftCompactReader, FieldHeader) throws(ParquetError) -> Void) throws(ParquetError) {
        try beginStruct()
        var last: Int16 = 0
        while let field = try nextField(after: &last) { try body(&self, field) }
    }

    /// Reads a list whose elements `element` reads.
    mutating func readList<T>(_ element: (inout ThriftCompactReader, FieldType) throws(ParquetError) -> T) throws(ParquetError) -> [T] {
        let (type, count) = try readListHeader()
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try element(&self, type)) }
        return values
    }

    /// Whether a field has one of the types its id calls for; when not, the field is skipped,
    /// as Thrift readers do, and the caller treats it as absent.
    mutating func accepts(_ field: FieldHeader, _ type: FieldType, or other: FieldType? = nil) throws(ParquetError) -> Bool {
        // Not variadic: an array per field would be an allocation per field of the footer.
        if field.type == type || field.type == other { return true }
        try skip(field.type)
        return false
    }
}
