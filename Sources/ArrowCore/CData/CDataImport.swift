import CArrowABI

// Import reads structs a foreign producer filled in. Nothing in them is trusted except that
// pointers point to as much memory as the format says they must: counts, lengths, offsets,
// format strings and flags are all checked, buffer sizes are computed from the type, length and
// offset (and from offsets for variable-length data), and the result passes `validate()`.

// MARK: Schemas

extension Field {
    /// Reads the field a schema node describes, recursively. The caller releases the struct.
    init(cData schema: UnsafePointer<ArrowSchema>, path: String, depth: Int) throws(ArrowError) {
        guard depth <= ArrayData.maximumNestingDepth else {
            throw .invalid("\(path): nesting deeper than \(ArrayData.maximumNestingDepth)")
        }
        let node = schema.pointee
        guard let formatPointer = node.format else { throw .invalid("\(path): NULL format string") }
        guard let format = String(validatingCString: formatPointer) else { throw .invalid("\(path): format string is not UTF-8") }
        var name = ""
        if let namePointer = node.name {
            guard let text = String(validatingCString: namePointer) else { throw .invalid("\(path): name is not UTF-8") }
            name = text
        }
        let here = name.isEmpty ? path : "\(path) '\(name)'"
        let metadata = try Metadata(cData: node.metadata, path: here)
        let children = try cDataChildren(node.children, count: node.n_children, path: here) { child, i throws(ArrowError) in
            try Field(cData: child, path: "\(here).children[\(i)]", depth: depth + 1)
        }
        var type = try DataType.fromCDataFormat(format, children: children, flags: node.flags, path: here)
        if let dictionary = node.dictionary {
            guard type.isInteger else { throw .invalid("\(here): dictionary index type \(type) is not an integer") }
            let value = try Field(cData: dictionary, path: "\(here).dictionary", depth: depth + 1)
            type = .dictionary(index: type, value: value.type, ordered: node.flags & Int64(ARROW_FLAG_DICTIONARY_ORDERED) != 0)
        }
        self.init(name, type, nullable: node.flags & Int64(ARROW_FLAG_NULLABLE) != 0, metadata: metadata)
    }
}

/// Reads `count` children through `pointers`, checking the count and every pointer first.
private func cDataChildren<Node, Result>(
    _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<Node>?>?, count: Int64, path: String,
    _ read: (UnsafeMutablePointer<Node>, Int) throws(ArrowError) -> Result
) throws(ArrowError) -> [Result] {
    guard count >= 0 else { throw .invalid("\(path): negative child count \(count)") }
    guard count > 0 else { return [] }
    guard let pointers else { throw .invalid("\(path): NULL children array for \(count) children") }
    var results: [Result] = []
    for i in 0..<Int(count) {
        guard let child = pointers[i] else { throw .invalid("\(path): child \(i) is NULL") }
        results.append(try read(child, i))
    }
    return results
}

/// Calls a schema's release callback if it has one, which marks it released.
func releaseIfNeeded(_ schema: UnsafeMutablePointer<ArrowSchema>) {
    if let release = schema.pointee.release { release(schema) }
    // A producer's callback must clear `release`; clearing it again protects against one that
    // does not, so that no later call releases twice.
    schema.pointee.release = nil
}

// MARK: Arrays

/// Owns an imported `ArrowArray` tree and calls its release callback, exactly once, when the last
/// `Buffer` over its memory goes away (or at once if the array had no buffers).
///
/// The base struct is moved into memory this object owns, as the interface allows, so the
/// caller's struct is marked released at once and can be reused.
final class ImportedArrayOwner: BufferOwner, @unchecked Sendable {
    // Never written after `init`. `deinit` runs once, on whichever thread drops the last
    // reference, which the interface allows: a release may come from any thread.
    let base: UnsafeMutablePointer<ArrowArray>

    /// Takes `array` over; throws if it was already released.
    init(moving array: UnsafeMutablePointer<ArrowArray>) throws(ArrowError) {
        guard array.pointee.release != nil else { throw .invalid("the ArrowArray has already been released") }
        base = .allocate(capacity: 1)
        base.initialize(to: array.pointee)
        array.pointee.release = nil
    }

    deinit {
        if let release = base.pointee.release { release(base) }
        base.deallocate()
    }
}

/// Reads one array node of type `type`, recursively, making zero-copy buffers owned by `owner`.
private struct ArrayImporter {
    let owner: ImportedArrayOwner

    func read(_ pointer: UnsafePointer<ArrowArray>, type: DataType, path: String, depth: Int) throws(ArrowError) -> ArrayData {
        func fail(_ why: String) -> ArrowError { .invalid("\(path) (\(type)): \(why)") }
        guard depth <= ArrayData.maximumNestingDepth else { throw fail("nesting deeper than \(ArrayData.maximumNestingDepth)") }
        let node = pointer.pointee
        guard node.length >= 0 else { throw fail("negative length \(node.length)") }
        guard node.offset >= 0 else { throw fail("negative offset \(node.offset)") }
        guard node.null_count >= -1 else { throw fail("null count \(node.null_count)") }
        guard node.n_buffers >= 0, node.n_buffers <= Int64(Int32.max) else { throw fail("buffer count \(node.n_buffers)") }
        let length = Int(node.length), offset = Int(node.offset)
        // Every size below is at most a small multiple of `end`; this bound keeps them in range.
        guard offset <= (Int.max >> 5) - length else { throw fail("length \(length) plus offset \(offset) is too large") }
        let end = offset + length

        let bufferCount = Int(node.n_buffers)
        let expectedBuffers: Int
        switch type {
        case .null, .runEndEncoded: expectedBuffers = 0
        case .fixedSizeList, .struct: expectedBuffers = 1
        case .union(let mode, _, _): expectedBuffers = mode == .sparse ? 1 : 2
        case .binary, .utf8, .largeBinary, .largeUtf8, .listView, .largeListView: expectedBuffers = 3
        case .binaryView, .utf8View: expectedBuffers = Swift.max(3, bufferCount)
        default: expectedBuffers = 2
        }
        guard bufferCount == expectedBuffers else { throw fail("\(bufferCount) buffers, the type has \(expectedBuffers)") }
        guard bufferCount == 0 || node.buffers != nil else { throw fail("NULL buffers array for \(bufferCount) buffers") }

        /// Buffer `i` of the C struct, `size` bytes long. NULL is accepted only when nothing needs reading.
        func buffer(_ i: Int, size: Int, _ what: String) throws(ArrowError) -> Buffer {
            guard size > 0 else { return Buffer() }
            guard let buffers = node.buffers, let address = buffers[i] else {
                throw fail("\(what) buffer is NULL but needs \(size) bytes")
            }
            return Buffer(owner: owner, baseAddress: address, count: size)
        }
        /// The validity bitmap and the null count it implies when the producer left it unknown (-1).
        func validity() throws(ArrowError) -> (Buffer, Int) {
            if node.null_count == 0 { return (Buffer(), 0) }
            guard node.buffers?[0] != nil else {
                guard node.null_count == -1 else { throw fail("validity buffer is NULL with \(node.null_count) nulls") }
                return (Buffer(), 0)
            }
            let bitmap = try buffer(0, size: (end + 7) / 8, "validity")
            if node.null_count == -1 { return (bitmap, countNulls(in: bitmap, offset: offset, length: length)) }
            return (bitmap, Int(node.null_count))
        }
        /// An offsets buffer of `width`-byte offsets and the last offset, which sizes what they index.
        func offsets(_ i: Int, width: Int) throws(ArrowError) -> (Buffer, Int) {
            if length == 0 && node.buffers?[i] == nil { return (Buffer(), 0) }
            let offsets = try buffer(i, size: (end + 1) * width, "offsets")
            let last = width == 4 ? Int(offsets.value(at: end, as: Int32.self)) : Int(offsets.value(at: end, as: Int64.self))
            guard last >= 0 else { throw fail("last offset \(last) is negative") }
            return (offsets, last)
        }
        func readChildren() throws(ArrowError) -> [ArrayData] {
            let fields = type.children
            guard node.n_children == Int64(fields.count) else { throw fail("\(node.n_children) children, the type has \(fields.count)") }
            return try cDataChildren(node.children, count: node.n_children, path: path) { child, i throws(ArrowError) in
                try read(child, type: fields[i].type, path: "\(path).\(fields[i].name)", depth: depth + 1)
            }
        }

        var buffers: [Buffer] = []
        var nullCount = 0
        var children: [ArrayData] = []
        var dictionary: ArrayData?
        if case .dictionary = type {
            guard node.n_children == 0 else { throw fail("a dictionary array has no children, found \(node.n_children)") }
        } else {
            children = try readChildren()
        }

        switch type {
        case .null:
            // Producers disagree on what to put here; every slot of a null array is null.
            nullCount = length

        case .runEndEncoded, .union:
            // No validity of their own: -1 means 0, anything else must be 0 and validation says so.
            nullCount = node.null_count == -1 ? 0 : Int(node.null_count)
            if case .union(let mode, _, _) = type {
                buffers = [Buffer(), try buffer(0, size: end, "type ids")]
                if mode == .dense { buffers.append(try buffer(1, size: end * 4, "offsets")) }
            }

        case .bool:
            let (bitmap, nulls) = try validity()
            buffers = [bitmap, try buffer(1, size: (end + 7) / 8, "values")]
            nullCount = nulls

        case .binary, .utf8, .largeBinary, .largeUtf8:
            let (bitmap, nulls) = try validity()
            let width = if case .largeBinary = type { 8 } else if case .largeUtf8 = type { 8 } else { 4 }
            let (offsetBuffer, dataSize) = try offsets(1, width: width)
            buffers = [bitmap, offsetBuffer, try buffer(2, size: dataSize, "data")]
            nullCount = nulls

        case .binaryView, .utf8View:
            let (bitmap, nulls) = try validity()
            buffers = [bitmap, try buffer(1, size: end * 16, "views")]
            let variadic = bufferCount - 3
            let sizes = try buffer(bufferCount - 1, size: variadic * 8, "variadic buffer sizes")
            for k in 0..<variadic {
                let size = sizes.value(at: k, as: Int64.self)
                guard size >= 0, size <= Int64(Int.max >> 1) else { throw fail("variadic buffer \(k) has size \(size)") }
                buffers.append(try buffer(2 + k, size: Int(size), "variadic data \(k)"))
            }
            nullCount = nulls

        case .list, .largeList, .map:
            let (bitmap, nulls) = try validity()
            let width = if case .largeList = type { 8 } else { 4 }
            let (offsetBuffer, _) = try offsets(1, width: width)
            buffers = [bitmap, offsetBuffer]
            nullCount = nulls

        case .listView, .largeListView:
            let (bitmap, nulls) = try validity()
            let width = if case .largeListView = type { 8 } else { 4 }
            buffers = [bitmap, try buffer(1, size: end * width, "offsets"), try buffer(2, size: end * width, "sizes")]
            nullCount = nulls

        case .fixedSizeList, .struct:
            let (bitmap, nulls) = try validity()
            buffers = [bitmap]
            nullCount = nulls

        case .dictionary(let index, let value, _):
            guard let width = index.byteWidth, index.isInteger else { throw fail("dictionary index type \(index) is not an integer") }
            let (bitmap, nulls) = try validity()
            buffers = [bitmap, try buffer(1, size: end * width, "indices")]
            nullCount = nulls
            guard let values = node.dictionary else { throw fail("dictionary-encoded array without a dictionary") }
            dictionary = try read(values, type: value, path: "\(path).dictionary", depth: depth + 1)

        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
             .decimal, .date32, .date64, .time32, .time64, .timestamp, .duration, .interval, .fixedSizeBinary:
            guard let width = type.byteWidth, width >= 0 else { throw fail("negative value width") }
            let (size, overflow) = end.multipliedReportingOverflow(by: width)
            guard !overflow else { throw fail("\(end) values of \(width) bytes overflow") }
            let (bitmap, nulls) = try validity()
            buffers = [bitmap, try buffer(1, size: size, "values")]
            nullCount = nulls
        }
        guard dictionary != nil || node.dictionary == nil else {
            throw fail("a dictionary on an array that is not dictionary-encoded")
        }
        return ArrayData(type: type, length: length, offset: offset, nullCount: nullCount, buffers: buffers,
                         children: children, dictionary: dictionary)
    }
}

extension ArrayData {
    /// Imports the array `pointer` describes as type `type`, taking ownership (see
    /// `CDataInterface.importArray(from:type:)`).
    static func importCData(_ pointer: UnsafeMutablePointer<ArrowArray>, type: DataType, path: String) throws(ArrowError) -> ArrayData {
        let owner = try ImportedArrayOwner(moving: pointer)
        let data = try ArrayImporter(owner: owner).read(owner.base, type: type, path: path, depth: 0)
        try data.validate(path: path)
        return data
    }
}
