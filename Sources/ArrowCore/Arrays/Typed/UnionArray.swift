/// A view of a dense or sparse union. Elements are the slots: which child holds each value,
/// and where.
///
/// A union has no validity of its own; a slot is null when its child's value is null.
public struct UnionArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// Where one slot's value lives.
    public struct Slot: Sendable, Hashable {
        /// The slot's type id.
        public let typeID: Int8
        /// The index of the child (and field) holding the value.
        public let childIndex: Int
        /// The value's position in that child.
        public let offset: Int

        @usableFromInline
        init(typeID: Int8, childIndex: Int, offset: Int) {
            self.typeID = typeID
            self.childIndex = childIndex
            self.offset = offset
        }
    }

    /// The array this view reads.
    public let data: ArrayData
    /// Dense or sparse.
    public let mode: UnionMode
    /// The fields, one per child.
    public let fields: [Field]
    @usableFromInline let typeIDs: UnsafeRawPointer?
    @usableFromInline let offsets: UnsafeRawPointer?
    /// Child index per type id, -1 for unused ids.
    @usableFromInline let childForID: [Int]
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless it is a union array whose type id (and, for dense
    /// unions, offset) buffers cover it, with one child per field.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard case .union(let mode, let fields, let ids) = data.type else { throw .mismatch("\(data.type) array is not a union") }
        try data.requireSaneWindow()
        let end = data.offset + data.length
        try data.requireBuffer(1, bytes: end, "type ids")
        if mode == .dense { try data.requireBuffer(2, bytes: end * 4, "offsets") }
        guard data.children.count == fields.count, ids.count == fields.count else {
            throw .invalid("union of \(fields.count) fields with \(data.children.count) children and \(ids.count) type ids")
        }
        var table = [Int](repeating: -1, count: 128)
        for (k, id) in ids.enumerated() where id >= 0 { table[Int(id)] = k }
        self.data = data
        self.mode = mode
        self.fields = fields
        childForID = table
        typeIDs = data.buffers[1].baseAddress.map { $0 + data.offset }
        offsets = mode == .dense ? data.buffers[2].baseAddress.map { $0 + data.offset * 4 } : nil
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// Where slot `i`'s value lives.
    @inlinable
    public subscript(i: Int) -> Slot {
        checkIndex(i, count_)
        let id = typeIDs.unsafelyUnwrapped.load(fromByteOffset: i, as: Int8.self)
        let k = id >= 0 ? childForID[Int(id)] : -1
        precondition(k >= 0, "union slot \(i) has unknown type id \(id); validate() the array")
        let offset = mode == .dense
            ? Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
            : data.offset &+ i
        precondition(offset >= 0 && offset < data.children[k].length,
                     "union slot \(i) offset \(offset) is outside child \(k); validate() the array")
        return Slot(typeID: id, childIndex: k, offset: offset)
    }

    /// Child `k`, unsliced (slot positions index into it directly).
    public func child(at k: Int) -> ArrayData {
        precondition(k >= 0 && k < data.children.count, "child \(k) of a union of \(data.children.count)")
        return data.children[k]
    }

    /// Whether slot `i`'s value is null in its child.
    public func isNull(_ i: Int) -> Bool {
        let slot = self[i]
        return data.children[slot.childIndex].isNull(slot.offset)
    }
}
