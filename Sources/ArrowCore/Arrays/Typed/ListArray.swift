/// A view of any list-like array: `list`, `large_list`, `list_view`, `large_list_view`,
/// `fixed_size_list` and `map` (whose elements are key/value structs).
///
/// Elements are `ArrayData?`: the slot's elements as a zero-copy slice of the child, nil for a
/// null slot.
public struct ListArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    @usableFromInline enum Layout: Sendable {
        case offsets32, offsets64, views32, views64
        case fixed(Int)
    }

    /// The array this view reads.
    public let data: ArrayData
    /// The child array holding every slot's elements, unsliced.
    public let child: ArrayData
    /// The child field: its name, type and nullability.
    public let valueField: Field
    @usableFromInline let layout: Layout
    @usableFromInline let offsets: UnsafeRawPointer?
    @usableFromInline let sizes: UnsafeRawPointer?
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int
    @usableFromInline let childLength: Int

    /// A view of `data`; throws unless it is a list-like array with one child and offset (and
    /// size) buffers that cover it.
    public init(_ data: ArrayData) throws(ArrowError) {
        try data.requireSaneWindow()
        let end = data.offset + data.length
        let field: Field
        switch data.type {
        case .list(let f), .map(let f, _):
            field = f
            layout = .offsets32
            try data.requireBuffer(1, bytes: data.length == 0 ? 0 : (end + 1) * 4, "offsets")
        case .largeList(let f):
            field = f
            layout = .offsets64
            try data.requireBuffer(1, bytes: data.length == 0 ? 0 : (end + 1) * 8, "offsets")
        case .listView(let f):
            field = f
            layout = .views32
            try data.requireBuffer(1, bytes: end * 4, "offsets")
            try data.requireBuffer(2, bytes: end * 4, "sizes")
        case .largeListView(let f):
            field = f
            layout = .views64
            try data.requireBuffer(1, bytes: end * 8, "offsets")
            try data.requireBuffer(2, bytes: end * 8, "sizes")
        case .fixedSizeList(let f, let size):
            guard size >= 0, size == 0 || end <= Int.max / size else {
                throw .invalid("fixed-size list of size \(size) and \(end) slots")
            }
            guard data.children.count == 1, data.children[0].length >= end * size else {
                throw .invalid("fixed-size list of \(end) x \(size) elements without a child that long")
            }
            field = f
            layout = .fixed(size)
        default:
            throw .mismatch("\(data.type) array is not a list type")
        }
        guard data.children.count == 1 else { throw .invalid("\(data.type) array with \(data.children.count) children") }
        self.data = data
        child = data.children[0]
        valueField = field
        validity = try ValidityBits(data)
        count_ = data.length
        childLength = data.children[0].length
        switch layout {
        case .offsets32, .views32:
            offsets = data.buffers[1].baseAddress.map { $0 + data.offset * 4 }
        case .offsets64, .views64:
            offsets = data.buffers[1].baseAddress.map { $0 + data.offset * 8 }
        case .fixed:
            offsets = nil
        }
        switch layout {
        case .views32: sizes = data.buffers[2].baseAddress.map { $0 + data.offset * 4 }
        case .views64: sizes = data.buffers[2].baseAddress.map { $0 + data.offset * 8 }
        default: sizes = nil
        }
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The elements of slot `i` as a slice of `child`, or nil if the slot is null.
    public subscript(i: Int) -> ArrayData? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return values(at: i)
    }

    /// The elements of slot `i` as a zero-copy slice of `child`, whether or not it is null.
    public func values(at i: Int) -> ArrayData {
        let range = valueRange(at: i)
        return child.sliceInBounds(range.lowerBound, range.count)
    }

    /// The positions in `child` of slot `i`'s elements.
    @inlinable
    public func valueRange(at i: Int) -> Range<Int> {
        checkIndex(i, count_)
        let start: Int, end: Int
        switch layout {
        case .offsets32:
            start = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
            end = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: (i &+ 1) &* 4, as: Int32.self))
        case .offsets64:
            start = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
            end = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: (i &+ 1) &* 8, as: Int64.self))
        case .views32:
            start = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
            end = start &+ Int(sizes.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
        case .views64:
            start = Int(offsets.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
            end = start &+ Int(sizes.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
        case .fixed(let size):
            start = (data.offset &+ i) &* size
            end = start &+ size
        }
        precondition(start >= 0 && start <= end && end <= childLength,
                     "list slot \(i) range \(start)..<\(end) is outside a child of \(childLength); validate() the array")
        return start..<end
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
