import ArrowCore

/// One leaf's share of a batch: its levels and its non-null values in physical form.
final class ShreddedLeaf {
    var definition: [Int16] = []
    var repetition: [Int16] = []
    var entries = 0
    let values: LeafValues
    let leaf: WriteLeaf

    init(_ leaf: WriteLeaf) {
        self.leaf = leaf
        values = LeafValues(physicalType: leaf.physicalType, typeLength: leaf.typeLength, column: leaf.path.joined(separator: "."))
    }
}

/// Turns Arrow arrays into Parquet levels and values (the "shredding" of nested data).
struct Shredder {
    let leaves: [ShreddedLeaf]

    /// Shreds `array`, the column of a top-level `node`.
    func shred(_ node: WriteNode, _ array: ArrayData) throws(ParquetError) {
        if case .leaf(let index, let nullable) = node {
            // A flat column: the levels are its validity, the values its non-null slots.
            let out = leaves[index]
            if out.leaf.maxDefinition > 0 {
                out.definition.reserveCapacity(out.definition.count + array.length)
                for i in 0..<array.length { out.definition.append(nullable && array.isNull(i) ? 0 : 1) }
            }
            out.entries += array.length
            try Physical.appendAll(array, into: out.values, leaf: out.leaf)
            return
        }
        for i in 0..<array.length { try visit(node, array, i, definition: 0, repetition: 0) }
    }

    private func visit(_ node: WriteNode, _ array: ArrayData, _ i: Int, definition: Int16, repetition: Int16) throws(ParquetError) {
        switch node {
        case .leaf(let index, let nullable):
            let out = leaves[index]
            if nullable && array.isNull(i) {
                emit(out, definition, repetition)
            } else {
                emit(out, definition + (nullable ? 1 : 0), repetition)
                try Physical.append(array, i, into: out.values, leaf: out.leaf)
            }
        case .structure(let children, let nullable, let range):
            if nullable && array.isNull(i) {
                for leaf in range { emit(leaves[leaf], definition, repetition) }
                return
            }
            let d = definition + (nullable ? 1 : 0)
            let slot = array.offset + i
            for (c, child) in children.enumerated() {
                guard c < array.children.count else { throw ParquetError("a struct array lacks child \(c)") }
                try visit(child, array.children[c], slot, definition: d, repetition: repetition)
            }
        case .list(let element, let nullable, let repeated, let range):
            if nullable && array.isNull(i) {
                for leaf in range { emit(leaves[leaf], definition, repetition) }
                return
            }
            let d = definition + (nullable ? 1 : 0)
            let values = array.valueRange(i)
            if values.isEmpty {
                for leaf in range { emit(leaves[leaf], d, repetition) }
                return
            }
            guard let child = array.children.first else { throw ParquetError("a list array without its values") }
            var first = true
            for j in values {
                try visit(element, child, j, definition: d + 1, repetition: first ? repetition : repeated)
                first = false
            }
        }
    }

    @inline(__always)
    private func emit(_ out: ShreddedLeaf, _ definition: Int16, _ repetition: Int16) {
        if out.leaf.maxDefinition > 0 { out.definition.append(definition) }
        if out.leaf.maxRepetition > 0 { out.repetition.append(repetition) }
        out.entries += 1
    }
}

/// Arrow values in Parquet's physical form.
enum Physical {
    /// Appends the non-null slots of a flat `array`.
    static func appendAll(_ array: ArrayData, into out: LeafValues, leaf: WriteLeaf) throws(ParquetError) {
        let n = array.length
        if array.nullCount == 0, let width = array.type.byteWidth, width == out.width, plainCopies(array.type) {
            // Same bytes in Arrow and Parquet: one copy.
            if let base = array.buffers[1].baseAddress { out.values.append(base + array.offset * width, count: n * width) }
            out.count += n
            return
        }
        for i in 0..<n where array.isValid(i) { try append(array, i, into: out, leaf: leaf) }
    }

    /// Whether the Arrow layout of `type` is its Parquet PLAIN layout.
    private static func plainCopies(_ type: DataType) -> Bool {
        switch type {
        case .int32, .int64, .uint32, .uint64, .float32, .float64, .date32, .time32(.millisecond), .time64, .duration,
             .timestamp(.millisecond, _), .timestamp(.microsecond, _), .timestamp(.nanosecond, _), .fixedSizeBinary, .float16:
            true
        default: false
        }
    }

    /// Appends slot `i` of `array` (not null).
    static func append(_ array: ArrayData, _ i: Int, into out: LeafValues, leaf: WriteLeaf) throws(ParquetError) {
        if case .dictionary = array.type {
            guard let dictionary = array.dictionary else { throw ParquetError("a dictionary array without its dictionary") }
            let index = array.dictionaryIndex(i)
            guard index >= 0, index < dictionary.length else { throw ParquetError("dictionary index \(index) out of range") }
            try append(dictionary, index, into: out, leaf: leaf)
            return
        }
        switch array.type {
        case .bool:
            out.values.append(UInt8(array.boolValue(i) ? 1 : 0))
        case .int8: out.values.append(Int32(array.value(i, as: Int8.self)))
        case .int16: out.values.append(Int32(array.value(i, as: Int16.self)))
        case .uint8: out.values.append(Int32(array.value(i, as: UInt8.self)))
        case .uint16: out.values.append(Int32(array.value(i, as: UInt16.self)))
        case .int32, .uint32, .date32, .time32(.millisecond), .float32:
            out.values.append(array.value(i, as: UInt32.self))
        case .time32(.second): out.values.append(array.value(i, as: Int32.self) &* 1000)
        case .date64: out.values.append(Int32(truncatingIfNeeded: array.value(i, as: Int64.self) / 86_400_000))
        case .int64, .uint64, .time64, .duration, .float64, .timestamp(.millisecond, _), .timestamp(.microsecond, _),
             .timestamp(.nanosecond, _):
            out.values.append(array.value(i, as: UInt64.self))
        case .timestamp(.second, _): out.values.append(array.value(i, as: Int64.self) &* 1000)
        case .float16: out.values.append(array.value(i, as: UInt16.self))
        case .decimal(let bits, _, _):
            // Little-endian two's complement to the big-endian bytes of the column's width.
            let width = out.width, bytes = bits / 8
            let base = array.buffers[1].bytes.baseAddress.unsafelyUnwrapped + (array.offset + i) * bytes
            out.values.reserve(width)
            let target = out.values.end.assumingMemoryBound(to: UInt8.self)
            for k in 0..<width { target[k] = base.load(fromByteOffset: width - 1 - k, as: UInt8.self) }
            out.values.advance(width)
        case .fixedSizeBinary:
            let bytes = array.bytes(i)
            if let base = bytes.baseAddress { out.values.append(base, count: bytes.count) }
        case .utf8, .binary, .largeUtf8, .largeBinary, .utf8View, .binaryView:
            let bytes = array.bytes(i)
            try out.appendByteArray(bytes.baseAddress ?? UnsafeRawPointer(out.values.base), count: bytes.count)
            return
        case .null:
            return
        default:
            throw ParquetError("\(array.type) values cannot be written to Parquet")
        }
        out.count += 1
    }
}
