import CArrowABI

// Export writes C structs whose memory we own until the consumer calls `release`. Each struct's
// `private_data` is a retained Swift object holding everything that struct points to; release
// takes that retain back, releases children the consumer has not moved away, and frees the rest.
// Everything that can fail is computed before any C memory is allocated, so a throwing export
// leaves nothing behind.

// MARK: Schemas

/// One schema node's content, computed before anything is written to C memory.
final class ExportSchemaNode {
    let format: String
    let name: String
    let metadata: [UInt8]?
    let flags: Int64
    let children: [ExportSchemaNode]
    let dictionary: ExportSchemaNode?

    init(format: String, name: String, metadata: [UInt8]?, flags: Int64, children: [ExportSchemaNode], dictionary: ExportSchemaNode?) {
        self.format = format
        self.name = name
        self.metadata = metadata
        self.flags = flags
        self.children = children
        self.dictionary = dictionary
    }

    /// The node describing `field`: its type's format, name, nullability and metadata.
    convenience init(field: Field) throws(ArrowError) {
        guard !field.name.utf8.contains(0) else { throw .invalid("field name \(field.name.debugDescription) contains a NUL byte") }
        var flags = field.nullable ? Int64(ARROW_FLAG_NULLABLE) : 0
        var children: [ExportSchemaNode] = []
        var dictionary: ExportSchemaNode?
        if case .dictionary(_, let value, let ordered) = field.type {
            if ordered { flags |= Int64(ARROW_FLAG_DICTIONARY_ORDERED) }
            // The value type has no field of its own; consumers ignore the name and flags here.
            dictionary = try ExportSchemaNode(field: Field("", value))
        } else {
            if case .map(_, keysSorted: true) = field.type { flags |= Int64(ARROW_FLAG_MAP_KEYS_SORTED) }
            for child in field.type.children { children.append(try ExportSchemaNode(field: child)) }
        }
        self.init(format: try field.type.cDataFormat(), name: field.name, metadata: try field.metadata.cDataEncoded(),
                  flags: flags, children: children, dictionary: dictionary)
    }

    /// The node describing `schema` as a struct type, as the interface represents a schema.
    convenience init(schema: Schema) throws(ArrowError) {
        var children: [ExportSchemaNode] = []
        for field in schema.fields { children.append(try ExportSchemaNode(field: field)) }
        self.init(format: "+s", name: "", metadata: try schema.metadata.cDataEncoded(), flags: 0,
                  children: children, dictionary: nil)
    }

    /// Fills `out` (whose previous content is ignored) with this node and, recursively, its
    /// children; the consumer owns the result and must call its `release`.
    func write(into out: UnsafeMutablePointer<ArrowSchema>) {
        let holder = ExportedSchemaStorage(self)
        out.pointee = ArrowSchema(
            format: UnsafePointer(holder.format), name: UnsafePointer(holder.name),
            metadata: holder.metadata.map { UnsafePointer($0) }, flags: flags, n_children: Int64(children.count),
            children: holder.children, dictionary: holder.dictionary,
            release: releaseExportedSchema, private_data: Unmanaged.passRetained(holder).toOpaque())
    }
}

/// The C memory one exported `ArrowSchema` points to, freed when that struct is released.
private final class ExportedSchemaStorage {
    let format: UnsafeMutablePointer<CChar>
    let name: UnsafeMutablePointer<CChar>
    let metadata: UnsafeMutablePointer<CChar>?
    let children: UnsafeMutablePointer<UnsafeMutablePointer<ArrowSchema>?>?
    let childCount: Int
    let dictionary: UnsafeMutablePointer<ArrowSchema>?

    init(_ node: ExportSchemaNode) {
        format = makeCString(Array(node.format.utf8), terminated: true)
        name = makeCString(Array(node.name.utf8), terminated: true)
        metadata = node.metadata.map { makeCString($0, terminated: false) }
        childCount = node.children.count
        if node.children.isEmpty {
            children = nil
        } else {
            let array = UnsafeMutablePointer<UnsafeMutablePointer<ArrowSchema>?>.allocate(capacity: node.children.count)
            for (i, child) in node.children.enumerated() {
                let slot = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
                child.write(into: slot)
                (array + i).initialize(to: slot)
            }
            children = array
        }
        dictionary = node.dictionary.map { dictionaryNode in
            let slot = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
            dictionaryNode.write(into: slot)
            return slot
        }
    }

    /// Releases the children and dictionary still in place (a consumer may have moved some out,
    /// leaving them marked released), then frees the structs they lived in.
    func releaseNested() {
        if let children {
            for i in 0..<childCount {
                guard let child = children[i] else { continue }
                if let release = child.pointee.release { release(child) }
                child.deallocate()
            }
        }
        if let dictionary {
            if let release = dictionary.pointee.release { release(dictionary) }
            dictionary.deallocate()
        }
    }

    deinit {
        format.deallocate()
        name.deallocate()
        metadata?.deallocate()
        children?.deallocate()
    }
}

/// The release callback of every `ArrowSchema` we export. It may run on any thread, once.
private func releaseExportedSchema(_ schema: UnsafeMutablePointer<ArrowSchema>?) {
    guard let schema, schema.pointee.release != nil, let opaque = schema.pointee.private_data else { return }
    let storage = Unmanaged<ExportedSchemaStorage>.fromOpaque(opaque).takeRetainedValue()
    storage.releaseNested()
    schema.pointee.release = nil
    schema.pointee.private_data = nil
}

/// A copy of `bytes`, NUL-terminated if asked, freed with `deallocate`.
private func makeCString(_ bytes: [UInt8], terminated: Bool) -> UnsafeMutablePointer<CChar> {
    let count = bytes.count + (terminated ? 1 : 0)
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: Swift.max(count, 1))
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress, source.count > 0 {
            UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: source.count)
        }
    }
    if terminated { pointer[bytes.count] = 0 }
    return pointer
}

// MARK: Arrays

/// Where empty buffers point. Some consumers reject NULL for buffers other than validity even
/// when their size is zero, and a zero-length array still has one offset, which this supplies.
private let emptyBufferBytes = AlignedAllocation(capacity: AlignedAllocation.alignment)

extension ArrayData {
    /// Checks that buffer and child counts match the type, so that export cannot index outside
    /// them. Values are not looked at: export trusts arrays that passed `validate()` or that
    /// ArrowCore built.
    func checkExportable(path: String, depth: Int = 0) throws(ArrowError) {
        func fail(_ why: String) -> ArrowError { .invalid("cannot export \(path) (\(type)): \(why)") }
        guard depth <= Self.maximumNestingDepth else { throw fail("nesting deeper than \(Self.maximumNestingDepth)") }
        guard length >= 0, offset >= 0, nullCount >= 0 else { throw fail("negative length, offset or null count") }
        let buffersNeeded: Int
        switch type {
        case .null, .runEndEncoded: buffersNeeded = 0
        case .fixedSizeList, .struct: buffersNeeded = 1
        case .union(let mode, _, _): buffersNeeded = mode == .sparse ? 2 : 3
        case .binary, .utf8, .largeBinary, .largeUtf8, .listView, .largeListView: buffersNeeded = 3
        case .binaryView, .utf8View: buffersNeeded = Swift.max(2, buffers.count)
        default: buffersNeeded = 2
        }
        guard buffers.count == buffersNeeded else { throw fail("\(buffers.count) buffers, the type has \(buffersNeeded)") }
        if case .dictionary = type {
            guard children.isEmpty else { throw fail("a dictionary array has no children") }
            guard let dictionary else { throw fail("no dictionary") }
            try dictionary.checkExportable(path: "\(path).dictionary", depth: depth + 1)
        } else {
            guard children.count == type.children.count else {
                throw fail("\(children.count) children, the type has \(type.children.count)")
            }
            for (i, child) in children.enumerated() {
                try child.checkExportable(path: "\(path).\(type.children[i].name)", depth: depth + 1)
            }
        }
    }

    /// Fills `out` (whose previous content is ignored) with this array; the consumer owns the
    /// result and must call its `release`. `checkExportable` has passed.
    func write(into out: UnsafeMutablePointer<ArrowArray>) {
        let storage = ExportedArrayStorage(self)
        let exportedNulls: Int = switch type {
        case .null: length
        case .union, .runEndEncoded: 0
        default: nullCount
        }
        out.pointee = ArrowArray(
            // A zero-length array needs no slot, so its offset is dropped: a consumer then reads
            // at most the one offset that `emptyBufferBytes` supplies.
            length: Int64(length), null_count: Int64(exportedNulls), offset: length == 0 ? 0 : Int64(offset),
            n_buffers: Int64(storage.bufferCount), n_children: Int64(storage.childCount),
            buffers: storage.buffers, children: storage.children, dictionary: storage.dictionary,
            release: releaseExportedArray, private_data: Unmanaged.passRetained(storage).toOpaque())
    }
}

/// The C memory one exported `ArrowArray` points to, and the `ArrayData` whose buffers keep the
/// data alive, until that struct is released.
private final class ExportedArrayStorage {
    let data: ArrayData
    let buffers: UnsafeMutablePointer<UnsafeRawPointer?>?
    let bufferCount: Int
    let variadicSizes: UnsafeMutablePointer<Int64>?
    let children: UnsafeMutablePointer<UnsafeMutablePointer<ArrowArray>?>?
    let childCount: Int
    let dictionary: UnsafeMutablePointer<ArrowArray>?

    init(_ data: ArrayData) {
        self.data = data
        func address(_ buffer: Buffer) -> UnsafeRawPointer {
            buffer.baseAddress ?? UnsafeRawPointer(emptyBufferBytes.base)
        }
        // Null arrays count every slot as null yet have no buffers at all.
        let validity: UnsafeRawPointer? = data.nullCount == 0 ? nil : data.buffers.first?.baseAddress
        var pointers: [UnsafeRawPointer?]
        var sizes: UnsafeMutablePointer<Int64>?
        switch data.type {
        case .null, .runEndEncoded:
            pointers = []
        case .union:
            // The C layout of a union has no validity buffer at all.
            pointers = data.buffers.dropFirst().map(address)
        case .binaryView, .utf8View:
            pointers = [validity] + data.buffers.dropFirst().map(address)
            let dataBuffers = data.buffers.dropFirst(2)
            if dataBuffers.isEmpty {
                pointers.append(UnsafeRawPointer(emptyBufferBytes.base))
            } else {
                let sizesBuffer = UnsafeMutablePointer<Int64>.allocate(capacity: dataBuffers.count)
                for (i, buffer) in dataBuffers.enumerated() { (sizesBuffer + i).initialize(to: Int64(buffer.count)) }
                pointers.append(UnsafeRawPointer(sizesBuffer))
                sizes = sizesBuffer
            }
        default:
            pointers = [validity] + data.buffers.dropFirst().map(address)
        }
        variadicSizes = sizes
        bufferCount = pointers.count
        if pointers.isEmpty {
            buffers = nil
        } else {
            let array = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: pointers.count)
            array.initialize(from: pointers, count: pointers.count)
            buffers = array
        }
        childCount = data.children.count
        if data.children.isEmpty {
            children = nil
        } else {
            let array = UnsafeMutablePointer<UnsafeMutablePointer<ArrowArray>?>.allocate(capacity: data.children.count)
            for (i, child) in data.children.enumerated() {
                let slot = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
                child.write(into: slot)
                (array + i).initialize(to: slot)
            }
            children = array
        }
        dictionary = data.dictionary.map { values in
            let slot = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
            values.write(into: slot)
            return slot
        }
    }

    /// Releases the children and dictionary still in place (see `ExportedSchemaStorage`).
    func releaseNested() {
        if let children {
            for i in 0..<childCount {
                guard let child = children[i] else { continue }
                if let release = child.pointee.release { release(child) }
                child.deallocate()
            }
        }
        if let dictionary {
            if let release = dictionary.pointee.release { release(dictionary) }
            dictionary.deallocate()
        }
    }

    deinit {
        buffers?.deallocate()
        variadicSizes?.deallocate()
        children?.deallocate()
    }
}

/// The release callback of every `ArrowArray` we export. It may run on any thread, once; the
/// array's buffers are freed when the last `Buffer` over them (here or elsewhere) goes away.
private func releaseExportedArray(_ array: UnsafeMutablePointer<ArrowArray>?) {
    guard let array, array.pointee.release != nil, let opaque = array.pointee.private_data else { return }
    let storage = Unmanaged<ExportedArrayStorage>.fromOpaque(opaque).takeRetainedValue()
    storage.releaseNested()
    array.pointee.release = nil
    array.pointee.private_data = nil
}
