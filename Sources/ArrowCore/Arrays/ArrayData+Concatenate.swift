extension ArrayData {
    /// One array holding the slots of `arrays` in order. All must have the same type;
    /// dictionary arrays must share one dictionary. The inputs must be valid.
    public static func concatenate(_ arrays: [ArrayData]) throws(ArrowError) -> ArrayData {
        guard let first = arrays.first else { throw .invalid("nothing to concatenate") }
        if arrays.count == 1 { return first }
        let type = first.type
        for array in arrays where array.type != type {
            throw .invalid("cannot concatenate \(array.type) to \(type)")
        }
        let length = arrays.reduce(0) { $0 + $1.length }
        let nullCount = arrays.reduce(0) { $0 + $1.nullCount }

        func validity() -> Buffer {
            guard nullCount > 0 else { return Buffer() }
            return concatenateBits(arrays.map { ($0.nullCount == 0 ? nil : $0.buffers[0], $0.offset, $0.length) }, total: length)
        }
        func fixed(_ width: Int) -> Buffer {
            var out = MutableBuffer(capacity: length * width)
            for a in arrays {
                a.buffers[1].withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[(a.offset * width)..<((a.offset + a.length) * width)])) }
            }
            return out.finish()
        }

        switch type {
        case .null:
            return ArrayData(type: type, length: length, nullCount: length, buffers: [])

        case .bool:
            let values = concatenateBits(arrays.map { ($0.buffers[1], $0.offset, $0.length) }, total: length)
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), values])

        case .dictionary(let index, _, _):
            guard let dictionary = first.dictionary,
                  arrays.allSatisfy({ $0.dictionary === dictionary || $0.dictionary.map { $0.firstDifference(from: dictionary) == nil } == true }) else {
                throw .notSupported("concatenating dictionary arrays with different dictionaries")
            }
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), fixed(index.byteWidth ?? 0)],
                             dictionary: dictionary)

        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), fixed(type.byteWidth ?? 0)])

        case .binary, .utf8, .largeBinary, .largeUtf8:
            let large = type == .largeBinary || type == .largeUtf8
            var offsets = MutableBuffer(capacity: (length + 1) * (large ? 8 : 4))
            var data = MutableBuffer()
            appendOffset(&offsets, 0, large: large)
            for a in arrays where a.length > 0 {
                let start = a.valueRange(0).lowerBound
                let end = a.valueRange(a.length - 1).upperBound
                let base = data.count - start
                for i in 0..<a.length { appendOffset(&offsets, a.valueRange(i).upperBound + base, large: large) }
                a.buffers[2].withUnsafeBytes { data.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            }
            if !large && data.count > Int(Int32.max) { throw .invalid("concatenated \(type) data exceeds 2 GiB; use the large type") }
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), offsets.finish(), data.finish()])

        case .binaryView, .utf8View:
            var views = MutableBuffer(capacity: length * 16)
            var variadic: [Buffer] = []
            for a in arrays {
                let base = Int32(variadic.count)
                for i in 0..<a.length {
                    let at = (a.offset + i) * 16
                    let size = a.buffers[1].load(fromByteOffset: at, as: Int32.self)
                    a.buffers[1].withUnsafeBytes { views.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[at..<(at + 16)])) }
                    if size > 12 { views.store(a.buffers[1].load(fromByteOffset: at + 8, as: Int32.self) + base, at: views.count - 8) }
                }
                variadic.append(contentsOf: a.buffers.dropFirst(2))
            }
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), views.finish()] + variadic)

        case .list, .largeList, .map:
            let large = type.isLargeList
            var offsets = MutableBuffer(capacity: (length + 1) * (large ? 8 : 4))
            var children: [ArrayData] = []
            var childLength = 0
            appendOffset(&offsets, 0, large: large)
            for a in arrays where a.length > 0 {
                let start = a.valueRange(0).lowerBound
                let end = a.valueRange(a.length - 1).upperBound
                for i in 0..<a.length { appendOffset(&offsets, a.valueRange(i).upperBound - start + childLength, large: large) }
                children.append(try a.children[0].slice(start, end - start))
                childLength += end - start
            }
            let child = children.isEmpty ? try first.children[0].slice(0, 0) : try concatenate(children)
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), offsets.finish()], children: [child])

        case .listView, .largeListView:
            let large = type.isLargeList
            var offsets = MutableBuffer(capacity: length * (large ? 8 : 4))
            var sizes = MutableBuffer(capacity: length * (large ? 8 : 4))
            var childBase = 0
            for a in arrays {
                for i in 0..<a.length {
                    let range = a.isValid(i) ? a.valueRange(i) : 0..<0
                    appendOffset(&offsets, range.lowerBound + childBase, large: large)
                    appendOffset(&sizes, range.count, large: large)
                }
                childBase += a.children[0].length
            }
            let child = try concatenate(arrays.map { $0.children[0] })
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity(), offsets.finish(), sizes.finish()],
                             children: [child])

        case .fixedSizeList(_, let size):
            var slices: [ArrayData] = []
            for a in arrays { slices.append(try a.children[0].slice(a.offset * size, a.length * size)) }
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity()], children: [try concatenate(slices)])

        case .struct(let fields):
            var children: [ArrayData] = []
            for c in fields.indices {
                var slices: [ArrayData] = []
                for a in arrays { slices.append(try a.children[c].slice(a.offset, a.length)) }
                children.append(try concatenate(slices))
            }
            return ArrayData(type: type, length: length, nullCount: nullCount, buffers: [validity()], children: children)

        case .union(let mode, let fields, let ids):
            var typeIDs = MutableBuffer(capacity: length)
            for a in arrays { for i in 0..<a.length { typeIDs.append(a.unionTypeID(i)) } }
            var children: [ArrayData] = []
            if mode == .sparse {
                for c in fields.indices {
                    var slices: [ArrayData] = []
                    for a in arrays { slices.append(try a.children[c].slice(a.offset, a.length)) }
                    children.append(try concatenate(slices))
                }
                return ArrayData(type: type, length: length, nullCount: 0, buffers: [Buffer(), typeIDs.finish()], children: children)
            }
            var offsets = MutableBuffer(capacity: length * 4)
            var childBase = [Int](repeating: 0, count: 128)
            for a in arrays {
                for i in 0..<a.length { offsets.append(Int32(a.unionOffset(i) + childBase[Int(a.unionTypeID(i))])) }
                for (c, id) in ids.enumerated() { childBase[Int(id)] += a.children[c].length }
            }
            for c in fields.indices { children.append(try concatenate(arrays.map { $0.children[c] })) }
            return ArrayData(type: type, length: length, nullCount: 0, buffers: [Buffer(), typeIDs.finish(), offsets.finish()],
                             children: children)

        case .runEndEncoded:
            var ends = MutableBuffer()
            var values: [ArrayData] = []
            var base = 0
            let endsType = first.children[0].type
            for a in arrays where a.length > 0 {
                let firstRun = a.runIndex(0), lastRun = a.runIndex(a.length - 1)
                for run in firstRun...lastRun {
                    let end = Swift.min(a.children[0].integer(run) - a.offset, a.length) + base
                    switch endsType {
                    case .int16: ends.append(Int16(truncatingIfNeeded: end))
                    case .int32: ends.append(Int32(truncatingIfNeeded: end))
                    default: ends.append(Int64(end))
                    }
                }
                values.append(try a.children[1].slice(firstRun, lastRun - firstRun + 1))
                base += a.length
            }
            let runCount = ends.count / (endsType.byteWidth ?? 8)
            let endsArray = ArrayData(type: endsType, length: runCount, nullCount: 0, buffers: [Buffer(), ends.finish()])
            let valuesArray = values.isEmpty ? try first.children[1].slice(0, 0) : try concatenate(values)
            return ArrayData(type: type, length: length, nullCount: 0, buffers: [], children: [endsArray, valuesArray])
        }
    }
}

private func appendOffset(_ buffer: inout MutableBuffer, _ value: Int, large: Bool) {
    if large { buffer.append(Int64(value)) } else { buffer.append(Int32(truncatingIfNeeded: value)) }
}

/// Concatenates bit ranges; a nil bitmap stands for all bits set.
func concatenateBits(_ parts: [(Buffer?, Int, Int)], total: Int) -> Buffer {
    var out = MutableBuffer(capacity: (total + 7) / 8)
    out.appendZeros((total + 7) / 8)
    var position = 0
    for (bitmap, offset, length) in parts {
        for i in 0..<length where bitmap?.bit(offset + i) ?? true { out.setBit(position + i, true) }
        position += length
    }
    return out.finish()
}
