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

    /// Empties the leaf for the next batch, keeping its memory.
    func reset() {
        definition.removeAll(keepingCapacity: true)
        repetition.removeAll(keepingCapacity: true)
        entries = 0
        values.reset()
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
                if !nullable || array.nullCount == 0 {
                    out.definition.append(contentsOf: repeatElement(1, count: array.length))
                } else {
                    let levels = (0..<array.length).map { array.isNull($0) ? Int16(0) : 1 }
                    out.definition.append(contentsOf: levels)
                }
            }
            out.entries += array.length
            try Physical.append(array, 0..<array.length, into: out.values)
            return
        }
        if case .list(.leaf(let index, let elementNullable), let nullable, let repeated, _) = node, let child = array.children.first {
            try shredList(array, child, leaves[index], nullable: nullable, elementNullable: elementNullable, repeated: repeated)
            return
        }
        for i in 0..<array.length { try visit(node, array, i, definition: 0, repetition: 0) }
    }

    /// A top-level list of values, in one pass: levels gathered locally, values copied at once.
    private func shredList(_ array: ArrayData, _ child: ArrayData, _ out: ShreddedLeaf, nullable: Bool, elementNullable: Bool,
                           repeated: Int16) throws(ParquetError) {
        // The levels go straight into the leaf's arrays (kept from batch to batch), moved into
        // locals while they grow.
        var definition: [Int16] = [], repetition: [Int16] = []
        swap(&definition, &out.definition)
        swap(&repetition, &out.repetition)
        let before = definition.count
        definition.reserveCapacity(before + array.length)
        repetition.reserveCapacity(before + array.length)
        let d: Int16 = nullable ? 1 : 0
        let present = d + 1 + (elementNullable ? 1 : 0)
        var ranges: [Range<Int>] = []
        for i in 0..<array.length {
            if nullable && array.isNull(i) {
                definition.append(0)
                repetition.append(0)
                continue
            }
            let values = array.valueRange(i)
            if values.isEmpty {
                definition.append(d)
                repetition.append(0)
                continue
            }
            if let last = ranges.last, last.upperBound == values.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<values.upperBound
            } else {
                ranges.append(values)
            }
            var level: Int16 = 0
            if !elementNullable || child.nullCount == 0 {
                for _ in values {
                    definition.append(present)
                    repetition.append(level)
                    level = repeated
                }
            } else {
                for j in values {
                    definition.append(child.isValid(j) ? present : present - 1)
                    repetition.append(level)
                    level = repeated
                }
            }
        }
        out.entries += definition.count - before
        swap(&definition, &out.definition)
        swap(&repetition, &out.repetition)
        for range in ranges { try Physical.append(child, range, into: out.values) }
    }

    private func visit(_ node: WriteNode, _ array: ArrayData, _ i: Int, definition: Int16, repetition: Int16) throws(ParquetError) {
        switch node {
        case .leaf(let index, let nullable):
            let out = leaves[index]
            if nullable && array.isNull(i) {
                emit(out, definition, repetition)
            } else {
                emit(out, definition + (nullable ? 1 : 0), repetition)
                try Physical.append(array, i, into: out.values)
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
            if case .leaf(let index, let elementNullable) = element {
                // A list of values: its levels in one pass, its values in one copy.
                let out = leaves[index]
                let base = d + 1
                var level = repetition
                for j in values {
                    let present = !elementNullable || child.isValid(j)
                    emit(out, present ? base + (elementNullable ? 1 : 0) : base, level)
                    level = repeated
                }
                try Physical.append(child, values, into: out.values)
                return
            }
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
    /// Appends the non-null slots `range` of `array`.
    static func append(_ array: ArrayData, _ range: Range<Int>, into out: LeafValues) throws(ParquetError) {
        let n = range.count
        guard n > 0 else { return }
        if array.nullCount == 0, let width = array.type.byteWidth, width == out.width, plainCopies(array.type) {
            // Same bytes in Arrow and Parquet: one copy.
            if let base = array.buffers[1].baseAddress { out.values.append(base + (array.offset + range.lowerBound) * width, count: n * width) }
            out.count += n
            return
        }
        if array.nullCount == 0, array.type == .utf8 || array.type == .binary, let data = array.buffers[2].baseAddress,
           let offsets = array.buffers[1].baseAddress?.assumingMemoryBound(to: Int32.self) {
            // Byte arrays without nulls: their bytes in one copy, their offsets moved.
            let first = Int(offsets[array.offset + range.lowerBound]), last = Int(offsets[array.offset + range.upperBound])
            let start = out.values.count
            guard start + (last - first) <= Int(Int32.max) else {
                throw ParquetError("column \(out.column): a batch holds more than 2 GiB of values")
            }
            out.values.append(data + first, count: last - first)
            out.offsets.reserve(4 * n)
            let target = out.offsets.end.assumingMemoryBound(to: Int32.self)
            let shift = Int32(start - first)
            for k in 0..<n { target[k] = offsets[array.offset + range.lowerBound + k + 1] &+ shift }
            out.offsets.advance(4 * n)
            out.count += n
            return
        }
        for i in range where array.isValid(i) { try append(array, i, into: out) }
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
    static func append(_ array: ArrayData, _ i: Int, into out: LeafValues) throws(ParquetError) {
        if case .dictionary = array.type {
            guard let dictionary = array.dictionary else { throw ParquetError("a dictionary array without its dictionary") }
            let index = array.dictionaryIndex(i)
            guard index >= 0, index < dictionary.length else { throw ParquetError("dictionary index \(index) out of range") }
            try append(dictionary, index, into: out)
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
            guard array.buffers.count > 1, let start = array.buffers[1].baseAddress,
                  array.buffers[1].count >= (array.offset + i + 1) * bytes else {
                throw ParquetError("a decimal array without its values")
            }
            let base = start + (array.offset + i) * bytes
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
