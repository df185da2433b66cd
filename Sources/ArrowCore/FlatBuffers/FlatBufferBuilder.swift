/// A FlatBuffers object to be serialized: a table, string, or vector.
indirect enum FlatObject {
    case table(FlatTableBuilder)
    case string(String)
    case tables([FlatTableBuilder])
    /// A vector of inline structs or scalars: raw little-endian element bytes, element count and alignment.
    case structs(bytes: [UInt8], count: Int, alignment: Int)
}

/// The fields of one table, by vtable slot.
struct FlatTableBuilder {
    enum Value {
        case scalar(bytes: [UInt8])
        case object(FlatObject)
    }
    var fields: [(slot: Int, value: Value)] = []

    mutating func add<T: FixedWidthInteger>(_ slot: Int, _ value: T) {
        fields.append((slot, .scalar(bytes: withUnsafeBytes(of: value.littleEndian) { [UInt8]($0) })))
    }
    mutating func add(_ slot: Int, _ value: Bool) { add(slot, UInt8(value ? 1 : 0)) }
    mutating func add(_ slot: Int, _ object: FlatObject) { fields.append((slot, .object(object))) }
    mutating func add(_ slot: Int, _ string: String) { add(slot, .string(string)) }
    mutating func add(_ slot: Int, _ table: FlatTableBuilder) { add(slot, .table(table)) }
}

/// Serializes a tree of `FlatObject`s front to back.
///
/// Objects are laid out after the object that refers to them, because FlatBuffers offsets to
/// sub-objects are unsigned; each table's vtable is written just before it. Scalars are aligned
/// to their size relative to the start of the buffer, which the caller places at an 8-byte boundary.
struct FlatBufferWriter {
    private(set) var bytes: [UInt8] = []

    /// Serializes `root` and returns the bytes.
    static func serialize(_ root: FlatTableBuilder) -> [UInt8] {
        var writer = FlatBufferWriter()
        writer.bytes.reserveCapacity(256)
        writer.appendZeros(4)
        let position = writer.write(.table(root))
        writer.patch(at: 0, to: position)
        writer.align(8)
        return writer.bytes
    }

    private mutating func appendZeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    private mutating func align(_ alignment: Int) {
        let remainder = bytes.count % alignment
        if remainder != 0 { appendZeros(alignment - remainder) }
    }

    /// Stores at `at` the unsigned offset from `at` to `target`.
    private mutating func patch(at: Int, to target: Int) {
        let value = UInt32(target - at).littleEndian
        withUnsafeBytes(of: value) { raw in
            for i in 0..<4 { bytes[at + i] = raw[i] }
        }
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes `object` at the end and returns the position offsets must point to.
    private mutating func write(_ object: FlatObject) -> Int {
        switch object {
        case .string(let string):
            align(4)
            let position = bytes.count
            let utf8 = Array(string.utf8)
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
            bytes.append(0)
            return position
        case .structs(let raw, let count, let alignment):
            // The length precedes the elements; elements must sit on their own alignment.
            align(4)
            while (bytes.count + 4) % Swift.max(alignment, 4) != 0 { appendZeros(4) }
            let position = bytes.count
            append(UInt32(count))
            bytes.append(contentsOf: raw)
            return position
        case .tables(let tables):
            align(4)
            let position = bytes.count
            append(UInt32(tables.count))
            let slots = bytes.count
            appendZeros(4 * tables.count)
            for (i, table) in tables.enumerated() {
                let target = write(.table(table))
                patch(at: slots + 4 * i, to: target)
            }
            return position
        case .table(let table):
            return writeTable(table)
        }
    }

    private mutating func writeTable(_ table: FlatTableBuilder) -> Int {
        let slotCount = (table.fields.map(\.slot).max() ?? -1) + 1
        let fieldSizes = table.fields.map { field -> Int in
            if case .scalar(let raw) = field.value { return raw.count }
            return 4
        }
        // Largest fields first keeps padding small.
        let order = table.fields.indices.sorted { fieldSizes[$0] > fieldSizes[$1] }

        // The vtable goes first; fields are aligned absolutely, padding inside the table as needed.
        let vtableSize = 4 + 2 * slotCount
        align(2)
        let vtableStart = bytes.count
        var tableStart = vtableStart + vtableSize
        while tableStart % 4 != 0 { tableStart += 2 }

        var offsets = [Int](repeating: 0, count: table.fields.count)
        var cursor = tableStart + 4
        for index in order {
            let size = fieldSizes[index]
            while cursor % size != 0 { cursor += 1 }
            offsets[index] = cursor - tableStart
            cursor += size
        }
        let inlineSize = cursor - tableStart

        // vtable
        append(UInt16(vtableSize))
        append(UInt16(inlineSize))
        var slotOffsets = [UInt16](repeating: 0, count: slotCount)
        for (index, field) in table.fields.enumerated() { slotOffsets[field.slot] = UInt16(offsets[index]) }
        for value in slotOffsets { append(value) }
        appendZeros(tableStart - bytes.count)

        // table
        append(Int32(tableStart - vtableStart))
        appendZeros(inlineSize - 4)
        var pending: [(at: Int, object: FlatObject)] = []
        for (index, field) in table.fields.enumerated() {
            let at = tableStart + offsets[index]
            switch field.value {
            case .scalar(let raw):
                for (i, byte) in raw.enumerated() { bytes[at + i] = byte }
            case .object(let object):
                pending.append((at, object))
            }
        }
        for (at, object) in pending {
            let target = write(object)
            patch(at: at, to: target)
        }
        return tableStart
    }
}
