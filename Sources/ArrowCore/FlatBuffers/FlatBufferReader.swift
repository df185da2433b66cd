/// A bounds-checked view of one FlatBuffers table inside untrusted bytes.
///
/// Every read checks its range against the buffer and throws `ArrowError.invalid` instead of
/// reading outside it. Offsets to sub-objects are unsigned and point forward, so a chain of
/// lookups always ends; a malicious buffer can at worst make a reader walk its own size.
struct FlatTable {
    let bytes: UnsafeRawBufferPointer
    /// The table's position in `bytes`.
    let position: Int
    /// The vtable's position and size in bytes.
    private let vtable: Int
    private let vtableSize: Int

    /// The root table of a FlatBuffer.
    init(root bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        let offset = try FlatTable.readU32(bytes, 0)
        try self.init(bytes: bytes, position: offset)
    }

    init(bytes: UnsafeRawBufferPointer, position: Int) throws(ArrowError) {
        self.bytes = bytes
        self.position = position
        let soffset = Int(Int32(bitPattern: UInt32(try FlatTable.readU32(bytes, position))))
        let vt = position - soffset
        guard vt >= 0, vt <= bytes.count - 4 else { throw .invalid("flatbuffer vtable at \(vt) is outside \(bytes.count) bytes") }
        let size = Int(FlatTable.u16(bytes, vt))
        guard size >= 4, size % 2 == 0, vt + size <= bytes.count else {
            throw .invalid("flatbuffer vtable of \(size) bytes at \(vt) is malformed")
        }
        vtable = vt
        vtableSize = size
    }

    static func readU32(_ bytes: UnsafeRawBufferPointer, _ at: Int) throws(ArrowError) -> Int {
        guard at >= 0, at <= bytes.count - 4 else { throw .invalid("flatbuffer offset \(at) is outside \(bytes.count) bytes") }
        return Int(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
    }

    private static func u16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian
    }

    /// The absolute position of field `slot`, or nil when the field is absent.
    private func fieldPosition(_ slot: Int, size: Int) throws(ArrowError) -> Int? {
        let entry = 4 + slot * 2
        guard entry + 2 <= vtableSize else { return nil }
        let relative = Int(FlatTable.u16(bytes, vtable + entry))
        if relative == 0 { return nil }
        let at = position + relative
        guard at <= bytes.count - size else { throw .invalid("flatbuffer field \(slot) at \(at) is outside \(bytes.count) bytes") }
        return at
    }

    /// Whether field `slot` is present.
    func has(_ slot: Int) throws(ArrowError) -> Bool { try fieldPosition(slot, size: 0) != nil }

    /// A scalar field, or `defaultValue` when absent.
    func scalar<T: FixedWidthInteger>(_ slot: Int, _ defaultValue: T) throws(ArrowError) -> T {
        guard let at = try fieldPosition(slot, size: MemoryLayout<T>.size) else { return defaultValue }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    /// A bool field, or `defaultValue` when absent.
    func bool(_ slot: Int, _ defaultValue: Bool = false) throws(ArrowError) -> Bool {
        try scalar(slot, UInt8(defaultValue ? 1 : 0)) != 0
    }

    /// Follows the offset stored in field `slot`, or nil when absent.
    private func target(_ slot: Int) throws(ArrowError) -> Int? {
        guard let at = try fieldPosition(slot, size: 4) else { return nil }
        let relative = try FlatTable.readU32(bytes, at)
        let target = at + relative
        guard target < bytes.count else { throw .invalid("flatbuffer offset in field \(slot) points outside the buffer") }
        return target
    }

    /// A sub-table field, or nil when absent.
    func table(_ slot: Int) throws(ArrowError) -> FlatTable? {
        guard let at = try target(slot) else { return nil }
        return try FlatTable(bytes: bytes, position: at)
    }

    /// A string field, or nil when absent.
    func string(_ slot: Int) throws(ArrowError) -> String? {
        guard let at = try target(slot) else { return nil }
        let count = try FlatTable.readU32(bytes, at)
        guard count <= bytes.count - at - 4 else { throw .invalid("flatbuffer string of \(count) bytes overruns the buffer") }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 4)..<(at + 4 + count)]), as: UTF8.self)
    }

    /// A vector field with elements of `elementSize` bytes, or nil when absent.
    func vector(_ slot: Int, elementSize: Int) throws(ArrowError) -> FlatVector? {
        guard let at = try target(slot) else { return nil }
        let count = try FlatTable.readU32(bytes, at)
        guard count <= (bytes.count - at - 4) / elementSize else {
            throw .invalid("flatbuffer vector of \(count) elements overruns the buffer")
        }
        return FlatVector(bytes: bytes, start: at + 4, count: count, elementSize: elementSize)
    }

    /// A vector of tables, empty when absent.
    func tables(_ slot: Int) throws(ArrowError) -> [FlatTable] {
        guard let vector = try vector(slot, elementSize: 4) else { return [] }
        var result: [FlatTable] = []
        result.reserveCapacity(vector.count)
        for i in 0..<vector.count {
            let at = vector.start + i * 4
            result.append(try FlatTable(bytes: bytes, position: at + (try FlatTable.readU32(bytes, at))))
        }
        return result
    }

    /// A vector of scalars, empty when absent.
    func scalars<T: FixedWidthInteger>(_ slot: Int, as: T.Type) throws(ArrowError) -> [T] {
        guard let vector = try vector(slot, elementSize: MemoryLayout<T>.size) else { return [] }
        return (0..<vector.count).map { vector.load($0, as: T.self) }
    }
}

/// A bounds-checked vector of fixed-size elements (scalars or structs) in a FlatBuffer.
struct FlatVector {
    let bytes: UnsafeRawBufferPointer
    let start: Int
    let count: Int
    let elementSize: Int

    /// Reads a little-endian scalar at `field` bytes into element `index`. The vector's
    /// extent was checked on creation; `field + size` must be within `elementSize`.
    func load<T: FixedWidthInteger>(_ index: Int, field: Int = 0, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: start + index * elementSize + field, as: T.self))
    }
}
