extension ArrayData {
    /// The deepest nesting of child arrays that validation accepts; deeper input is rejected
    /// rather than risking the stack.
    public static let maximumNestingDepth = 64

    /// Checks everything a reader relies on: buffer counts and sizes, offsets, view bounds,
    /// union type ids and offsets, dictionary indices and run ends, null counts, recursively.
    ///
    /// After this passes, every accessor on this array and its children reads only inside its
    /// buffers. Throws `ArrowError.invalid` naming the problem and where it is (`path`).
    public func validate(path: String = "array") throws(ArrowError) {
        try validate(path: path, depth: 0)
    }

    private func fail(_ path: String, _ message: String) -> ArrowError {
        .invalid("\(path) (\(type)): \(message)")
    }

    private func validate(path: String, depth: Int) throws(ArrowError) {
        guard depth <= Self.maximumNestingDepth else { throw fail(path, "nesting deeper than \(Self.maximumNestingDepth)") }
        guard length >= 0, offset >= 0, offset <= Int.max / 2 - length else {
            throw fail(path, "bad length \(length) or offset \(offset)")
        }
        let end = offset + length
        try checkTypeShape(path)

        func need(buffers n: Int) throws(ArrowError) {
            guard buffers.count == n else { throw fail(path, "expected \(n) buffers, found \(buffers.count)") }
        }
        func need(children n: Int) throws(ArrowError) {
            guard children.count == n else { throw fail(path, "expected \(n) children, found \(children.count)") }
        }
        func needBytes(_ index: Int, _ bytes: Int, _ what: String) throws(ArrowError) {
            guard buffers[index].count >= bytes else {
                throw fail(path, "\(what) buffer has \(buffers[index].count) bytes, needs \(bytes)")
            }
        }
        func checkValidity() throws(ArrowError) {
            guard nullCount >= 0, nullCount <= length else { throw fail(path, "null count \(nullCount) for length \(length)") }
            if buffers[0].count == 0 {
                guard nullCount == 0 else { throw fail(path, "null count \(nullCount) without a validity bitmap") }
                return
            }
            try needBytes(0, (end + 7) / 8, "validity")
            let actual = countNulls(in: buffers[0], offset: offset, length: length)
            guard actual == nullCount else { throw fail(path, "null count \(nullCount) but the bitmap has \(actual) nulls") }
        }
        func childPath(_ i: Int) -> String {
            let name = i < type.children.count ? type.children[i].name : "\(i)"
            return "\(path).\(name)"
        }

        switch type {
        case .null:
            try need(buffers: 0)
            try need(children: 0)
            guard nullCount == length else { throw fail(path, "null array with null count \(nullCount) != length \(length)") }

        case .bool:
            try need(buffers: 2)
            try checkValidity()
            try needBytes(1, (end + 7) / 8, "values")

        case .dictionary(let index, let valueType, _):
            try need(buffers: 2)
            try need(children: 0)
            try checkValidity()
            guard let width = index.byteWidth else { throw fail(path, "dictionary index type \(index) is not an integer") }
            try needBytes(1, end * width, "indices")
            guard let dictionary else { throw fail(path, "dictionary array without a dictionary") }
            guard dictionary.type == valueType else {
                throw fail(path, "dictionary has type \(dictionary.type), expected \(valueType)")
            }
            try dictionary.validate(path: "\(path).dictionary", depth: depth + 1)
            for i in 0..<length where isValid(i) {
                let k = dictionaryIndex(i)
                guard k >= 0, k < dictionary.length else {
                    throw fail(path, "index \(k) at slot \(i) is outside a dictionary of \(dictionary.length)")
                }
            }

        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            try need(buffers: 2)
            try need(children: 0)
            try checkValidity()
            let width = type.byteWidth ?? 0
            guard width == 0 || end <= Int.max / width else { throw fail(path, "length overflows") }
            try needBytes(1, end * width, "values")

        case .binary, .utf8, .largeBinary, .largeUtf8:
            try need(buffers: 3)
            try need(children: 0)
            try checkValidity()
            try checkOffsets(path, buffer: 1, limit: buffers[2].count, limitName: "data")

        case .binaryView, .utf8View:
            guard buffers.count >= 2 else { throw fail(path, "expected at least 2 buffers, found \(buffers.count)") }
            try need(children: 0)
            try checkValidity()
            try needBytes(1, end * 16, "views")
            let variadic = buffers.count - 2
            for i in 0..<length where isValid(i) {
                let base = (offset + i) * 16
                let size = Int(buffers[1].load(fromByteOffset: base, as: Int32.self))
                guard size >= 0 else { throw fail(path, "view \(i) has negative size \(size)") }
                if size <= 12 { continue }
                let index = Int(buffers[1].load(fromByteOffset: base + 8, as: Int32.self))
                let start = Int(buffers[1].load(fromByteOffset: base + 12, as: Int32.self))
                guard index >= 0, index < variadic else {
                    throw fail(path, "view \(i) refers to data buffer \(index) of \(variadic)")
                }
                guard start >= 0, start + size <= buffers[2 + index].count else {
                    throw fail(path, "view \(i) range \(start)..<\(start + size) is outside data buffer \(index) of \(buffers[2 + index].count) bytes")
                }
            }

        case .list, .largeList, .map:
            try need(buffers: 2)
            try need(children: 1)
            try checkValidity()
            try children[0].validate(path: childPath(0), depth: depth + 1)
            try checkOffsets(path, buffer: 1, limit: children[0].length, limitName: "child")

        case .listView, .largeListView:
            try need(buffers: 3)
            try need(children: 1)
            try checkValidity()
            try children[0].validate(path: childPath(0), depth: depth + 1)
            let width = if case .listView = type { 4 } else { 8 }
            try needBytes(1, end * width, "offsets")
            try needBytes(2, end * width, "sizes")
            let childLength = children[0].length
            for i in 0..<length where isValid(i) {
                let start: Int, size: Int
                if width == 4 {
                    start = Int(buffers[1].value(at: offset + i, as: Int32.self))
                    size = Int(buffers[2].value(at: offset + i, as: Int32.self))
                } else {
                    start = Int(buffers[1].value(at: offset + i, as: Int64.self))
                    size = Int(buffers[2].value(at: offset + i, as: Int64.self))
                }
                guard start >= 0, size >= 0, start <= childLength, size <= childLength - start else {
                    throw fail(path, "view \(i) (offset \(start), size \(size)) is outside a child of \(childLength)")
                }
            }

        case .fixedSizeList(_, let size):
            try need(buffers: 1)
            try need(children: 1)
            try checkValidity()
            try children[0].validate(path: childPath(0), depth: depth + 1)
            guard size == 0 || end <= Int.max / size, children[0].length >= end * size else {
                throw fail(path, "child has \(children[0].length) values, needs \(end) x \(size)")
            }

        case .struct(let fields):
            try need(buffers: 1)
            try need(children: fields.count)
            try checkValidity()
            for (i, child) in children.enumerated() {
                try child.validate(path: childPath(i), depth: depth + 1)
                guard child.length >= end else { throw fail(childPath(i), "child length \(child.length) < \(end)") }
            }

        case .union(let mode, let fields, let typeIDs):
            try need(buffers: mode == .sparse ? 2 : 3)
            try need(children: fields.count)
            guard nullCount == 0 else { throw fail(path, "a union has no nulls of its own, null count \(nullCount)") }
            try needBytes(1, end, "type ids")
            var childForID = [Int](repeating: -1, count: 128)
            for (i, id) in typeIDs.enumerated() { childForID[Int(id)] = i }
            for (i, child) in children.enumerated() {
                try child.validate(path: childPath(i), depth: depth + 1)
                if mode == .sparse, child.length < end {
                    throw fail(childPath(i), "sparse union child length \(child.length) < \(end)")
                }
            }
            if mode == .dense { try needBytes(2, end * 4, "offsets") }
            for i in 0..<length {
                let id = Int(unionTypeID(i))
                guard id >= 0, id < 128, childForID[id] >= 0 else { throw fail(path, "slot \(i) has unknown type id \(id)") }
                if mode == .dense {
                    let o = unionOffset(i)
                    let childLength = children[childForID[id]].length
                    guard o >= 0, o < childLength else {
                        throw fail(path, "slot \(i) offset \(o) is outside child \(childForID[id]) of length \(childLength)")
                    }
                }
            }

        case .runEndEncoded:
            try need(buffers: 0)
            try need(children: 2)
            guard nullCount == 0 else { throw fail(path, "run-end encoded arrays have no nulls of their own") }
            let ends = children[0], values = children[1]
            try ends.validate(path: childPath(0), depth: depth + 1)
            try values.validate(path: childPath(1), depth: depth + 1)
            guard ends.nullCount == 0 else { throw fail(path, "run ends contain nulls") }
            guard ends.length == values.length else {
                throw fail(path, "\(ends.length) run ends for \(values.length) values")
            }
            if length > 0 {
                guard ends.length > 0 else { throw fail(path, "no runs for \(length) slots") }
                var previous = 0
                for r in 0..<ends.length {
                    let e = ends.integer(r)
                    guard e > previous else { throw fail(path, "run end \(e) at \(r) is not greater than \(previous)") }
                    previous = e
                }
                guard previous >= end else { throw fail(path, "last run end \(previous) < \(end)") }
            }
        }
    }

    /// Checks that `type`'s children and parameters make sense before any buffer is looked at.
    private func checkTypeShape(_ path: String) throws(ArrowError) {
        switch type {
        case .decimal(let bits, let precision, _):
            guard [32, 64, 128, 256].contains(bits) else { throw fail(path, "decimal bit width \(bits)") }
            guard precision >= 1 else { throw fail(path, "decimal precision \(precision)") }
        case .fixedSizeBinary(let width):
            guard width >= 0 else { throw fail(path, "negative byte width") }
        case .fixedSizeList(_, let size):
            guard size >= 0 else { throw fail(path, "negative list size") }
        case .map(let entries, _):
            guard case .struct(let kv) = entries.type, kv.count == 2 else {
                throw fail(path, "map entries must be a struct of key and value")
            }
        case .union(_, let fields, let ids):
            guard fields.count == ids.count, Set(ids).count == ids.count, ids.allSatisfy({ $0 >= 0 }) else {
                throw fail(path, "union type ids \(ids) do not match \(fields.count) children")
            }
        case .runEndEncoded(let ends, _):
            guard [.int16, .int32, .int64].contains(ends.type) else { throw fail(path, "run ends of type \(ends.type)") }
        case .dictionary(let index, _, _):
            guard index.isInteger else { throw fail(path, "dictionary index type \(index)") }
        default:
            break
        }
        if case .dictionary = type { return }
        for (i, child) in children.enumerated() where i < type.children.count {
            guard child.type == type.children[i].type else {
                throw fail(path, "child \(i) has type \(child.type), expected \(type.children[i].type)")
            }
        }
    }

    /// Checks an offsets buffer: enough entries, non-decreasing, within `0...limit`.
    private func checkOffsets(_ path: String, buffer: Int, limit: Int, limitName: String) throws(ArrowError) {
        let large: Bool = switch type {
        case .largeBinary, .largeUtf8, .largeList: true
        default: false
        }
        let width = large ? 8 : 4
        if length == 0 && buffers[buffer].count < width { return }
        let end = offset + length
        guard buffers[buffer].count >= (end + 1) * width else {
            throw fail(path, "offsets buffer has \(buffers[buffer].count) bytes, needs \((end + 1) * width)")
        }
        let first: Int, last: Int, monotonic: Bool
        if large {
            (first, last, monotonic) = scanOffsets(buffers[buffer], from: offset, through: end, as: Int64.self)
        } else {
            (first, last, monotonic) = scanOffsets(buffers[buffer], from: offset, through: end, as: Int32.self)
        }
        guard first >= 0, first <= limit else { throw fail(path, "first offset \(first) is outside 0...\(limit)") }
        if !monotonic {
            for i in (offset + 1)...end where offsetValue(buffer, i, large) < offsetValue(buffer, i - 1, large) {
                throw fail(path, "offsets decrease at \(i - offset): \(offsetValue(buffer, i - 1, large)) > \(offsetValue(buffer, i, large))")
            }
        }
        guard last <= limit else { throw fail(path, "last offset \(last) is past the \(limitName) length \(limit)") }
    }

    private func offsetValue(_ buffer: Int, _ i: Int, _ large: Bool) -> Int {
        large ? Int(buffers[buffer].value(at: i, as: Int64.self)) : Int(buffers[buffer].value(at: i, as: Int32.self))
    }
}

/// The first and last of the offsets `from...through` and whether they never decrease. One
/// branch-free pass, so that validating a batch of strings costs little next to reading it.
private func scanOffsets<T: FixedWidthInteger & SignedInteger>(_ buffer: Buffer, from: Int, through: Int, as: T.Type) -> (Int, Int, Bool) {
    buffer.withUnsafeBytes { raw in
        let base = raw.baseAddress.unsafelyUnwrapped
        let stride = MemoryLayout<T>.stride
        let first = base.loadUnaligned(fromByteOffset: from * stride, as: T.self)
        let last = base.loadUnaligned(fromByteOffset: through * stride, as: T.self)
        var decreased: UInt8 = 0
        if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
            // Aligned (as IPC guarantees): a plain loop the compiler vectorizes.
            let values = base.assumingMemoryBound(to: T.self) + from
            let count = through &- from
            for i in 0..<count {
                decreased |= values[i &+ 1] < values[i] ? 1 : 0
            }
        } else {
            var previous = first
            var i = from + 1
            while i <= through {
                let current = base.loadUnaligned(fromByteOffset: i * stride, as: T.self)
                decreased |= current < previous ? 1 : 0
                previous = current
                i += 1
            }
        }
        return (Int(first), Int(last), decreased == 0)
    }
}
