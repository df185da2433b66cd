/// Writes Thrift's compact protocol, as Parquet's footer and page headers use it: field headers
/// as deltas from the previous field id, integers as zigzag varints, booleans in the header.
struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    init() { bytes.reserveCapacity(256) }

    private enum WireType: UInt8 {
        case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, binary = 8, list = 9, `struct` = 12
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    private mutating func header(_ id: Int16, _ type: WireType) {
        let delta = Int(id) - Int(lastField[lastField.count - 1])
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        header(id, .i32)
        zigzag(Int64(value))
    }

    mutating func i32(_ id: Int16, _ value: Int32?) { if let value { i32(id, value) } }

    mutating func i64(_ id: Int16, _ value: Int64) {
        header(id, .i64)
        zigzag(value)
    }

    mutating func i64(_ id: Int16, _ value: Int64?) { if let value { i64(id, value) } }

    mutating func i16(_ id: Int16, _ value: Int16) {
        header(id, .i16)
        zigzag(Int64(value))
    }

    mutating func i8(_ id: Int16, _ value: Int8) {
        header(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func bool(_ id: Int16, _ value: Bool) { header(id, value ? .boolTrue : .boolFalse) }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        header(id, .binary)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func binary(_ id: Int16, _ value: [UInt8]?) { if let value { binary(id, value) } }

    mutating func string(_ id: Int16, _ value: String) { binary(id, Array(value.utf8)) }

    mutating func string(_ id: Int16, _ value: String?) { if let value { string(id, value) } }

    /// A struct field whose members `body` writes.
    mutating func structure(_ id: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        header(id, .struct)
        nested(body)
    }

    /// The members of a struct (a list element, or the outermost struct), then its stop byte.
    mutating func nested(_ body: (inout ThriftCompactWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    /// An empty struct (a union member without fields).
    mutating func empty(_ id: Int16) { structure(id) { _ in } }

    private mutating func listHeader(_ id: Int16, count: Int, element: WireType) {
        header(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func list(_ id: Int16, i32 values: [Int32]) {
        listHeader(id, count: values.count, element: .i32)
        for v in values { zigzag(Int64(v)) }
    }

    mutating func list(_ id: Int16, strings values: [String]) {
        listHeader(id, count: values.count, element: .binary)
        for v in values {
            let utf8 = Array(v.utf8)
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func list(_ id: Int16, i64 values: [Int64]) {
        listHeader(id, count: values.count, element: .i64)
        for v in values { zigzag(v) }
    }

    mutating func list(_ id: Int16, bools values: [Bool]) {
        // Compact lists hold booleans as one byte each: 1 true, 2 false.
        listHeader(id, count: values.count, element: .boolTrue)
        for v in values { bytes.append(v ? 1 : 2) }
    }

    mutating func list(_ id: Int16, binaries values: [[UInt8]]) {
        listHeader(id, count: values.count, element: .binary)
        for v in values {
            varint(UInt64(v.count))
            bytes.append(contentsOf: v)
        }
    }

    mutating func list<T>(_ id: Int16, structs values: [T], _ body: (inout ThriftCompactWriter, T) -> Void) {
        listHeader(id, count: values.count, element: .struct)
        for v in values { nested { body(&$0, v) } }
    }
}
