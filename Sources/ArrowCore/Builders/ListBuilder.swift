/// Which list layout a `ListBuilder` writes.
public enum ListKind: Sendable, Hashable {
    /// `list`: 32-bit offsets.
    case list
    /// `large_list`: 64-bit offsets.
    case largeList
    /// `list_view`: 32-bit offsets and sizes.
    case listView
    /// `large_list_view`: 64-bit offsets and sizes.
    case largeListView
    /// `fixed_size_list`: every list has `size` elements.
    case fixedSize(Int)
    /// `map`: a list of key/value structs, 32-bit offsets.
    case map(keysSorted: Bool)
}

/// Builds any list-like array (list, large list, list view, large list view, fixed-size list,
/// map) over a child builder of any type.
///
/// Append a list's elements to `values`, then call `append(_:)` to close the slot; the slot
/// holds every element appended since the previous slot. A map's child is a `StructBuilder`
/// of two fields, key then value.
///
/// ```swift
/// let lists = try ListBuilder(values: PrimitiveBuilder<Int32>())
/// lists.values.append(1); lists.values.append(2)
/// try lists.append()          // [1, 2]
/// lists.appendNull()          // null
/// ```
public final class ListBuilder<Values: ArrayBuilder>: ArrayBuilder {
    /// The type of the array `finish()` returns.
    public let type: DataType
    /// The builder of the elements of every list. Library builders are classes, so appending
    /// through this property appends to the one child the list finishes.
    @exclusivity(unchecked) public internal(set) var values: Values
    @usableFromInline let kind: ListKind
    @exclusivity(unchecked) @usableFromInline var offsets: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var sizes: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()
    /// The child length when the last slot closed: the next slot starts there.
    @exclusivity(unchecked) @usableFromInline var closedEnd = 0

    /// A builder of `kind` lists over `values`; the child field is named `name` (for a map, the
    /// entries field is named `entries` and is not nullable).
    ///
    /// Throws for a negative fixed size, or for a map whose `values` is not a struct of two fields.
    public convenience init(_ kind: ListKind = .list, values: Values, fieldName name: String = "item", nullable: Bool = true) throws(ArrowError) {
        let field = Field(name, values.type, nullable: nullable)
        let type: DataType
        switch kind {
        case .list: type = .list(field)
        case .largeList: type = .largeList(field)
        case .listView: type = .listView(field)
        case .largeListView: type = .largeListView(field)
        case .fixedSize(let size):
            guard size >= 0 else { throw .invalid("fixed-size list of negative size \(size)") }
            type = .fixedSizeList(field, size)
        case .map(let sorted):
            guard case .struct(let kv) = values.type, kv.count == 2 else {
                throw .invalid("map entries must be a struct of key and value, not \(values.type)")
            }
            type = .map(Field(name == "item" ? "entries" : name, values.type, nullable: false), keysSorted: sorted)
        }
        self.init(unchecked: type, values: values)
    }

    /// A builder of exactly `type` (a list kind or map, keeping its field names and metadata)
    /// over `values`. Throws unless `type` is list-like with a child of `values.type`.
    public convenience init(type: DataType, values: Values) throws(ArrowError) {
        switch type {
        case .list(let f), .largeList(let f), .listView(let f), .largeListView(let f):
            guard f.type == values.type else { throw .mismatch("\(type) over a builder of \(values.type)") }
        case .fixedSizeList(let f, let size):
            guard f.type == values.type else { throw .mismatch("\(type) over a builder of \(values.type)") }
            guard size >= 0 else { throw .invalid("fixed-size list of negative size \(size)") }
        case .map(let f, _):
            guard f.type == values.type else { throw .mismatch("\(type) over a builder of \(values.type)") }
            guard case .struct(let kv) = f.type, kv.count == 2 else {
                throw .invalid("map entries must be a struct of key and value, not \(f.type)")
            }
        default:
            throw .mismatch("\(type) is not a list type")
        }
        self.init(unchecked: type, values: values)
    }

    init(unchecked type: DataType, values: Values) {
        self.type = type
        self.values = values
        switch type {
        case .largeList: kind = .largeList
        case .listView: kind = .listView
        case .largeListView: kind = .largeListView
        case .fixedSizeList(_, let size): kind = .fixedSize(Swift.max(size, 0))
        case .map(_, let sorted): kind = .map(keysSorted: sorted)
        default: kind = .list
        }
        offsets = BuilderBytes(capacity: 1024 * 8)
        sizes = BuilderBytes(capacity: 64)
        startOffsets()
    }

    private func startOffsets() {
        switch kind {
        case .list, .map: offsets.append(Int32(0))
        case .largeList: offsets.append(Int64(0))
        default: break
        }
    }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Closes a slot holding the elements appended to `values` since the previous slot, valid
    /// or null. A null fixed-size list with no elements pending gets its size of null elements.
    /// Throws, changing nothing, if a fixed-size list did not get exactly its size of elements
    /// or if 32-bit offsets would overflow.
    @inlinable
    public func append(_ valid: Bool = true) throws(ArrowError) {
        if !valid, case .fixedSize(let size) = kind, values.length == closedEnd { appendNullElements(size) }
        let end = values.length
        switch kind {
        case .list, .map:
            guard end <= Int(Int32.max) else { throw overflow(end) }
            offsets.append(Int32(truncatingIfNeeded: end))
        case .largeList:
            offsets.append(Int64(end))
        case .listView:
            guard end <= Int(Int32.max) else { throw overflow(end) }
            offsets.append(Int32(truncatingIfNeeded: closedEnd))
            sizes.append(Int32(truncatingIfNeeded: end - closedEnd))
        case .largeListView:
            offsets.append(Int64(closedEnd))
            sizes.append(Int64(end - closedEnd))
        case .fixedSize(let size):
            guard end - closedEnd == size else {
                throw .invalid("a fixed-size list of \(size) got \(end - closedEnd) elements")
            }
        }
        closedEnd = end
        validity.append(valid)
    }

    @usableFromInline
    func appendNullElements(_ n: Int) {
        for _ in 0..<n { values.appendNull() }
    }

    @usableFromInline
    func overflow(_ end: Int) -> ArrowError {
        .invalid("\(type) child of \(end) elements is past the 32-bit offset limit; finish the batch earlier or use a large list")
    }

    /// Appends the elements of `elements` to `values` and closes a valid slot holding them.
    public func append<S: Sequence>(_ elements: S) throws(ArrowError) where Values: ValueArrayBuilder, S.Element == Values.Value {
        for element in elements { try values.append(element) }
        try append(true)
    }

    /// Appends a null slot. It holds the elements appended since the previous slot (normally
    /// none); a fixed-size list with none pending gets its size of null elements.
    ///
    /// Traps if a 32-bit list's child has grown past `Int32.max` elements, or if a fixed-size
    /// list has some elements pending but not its size: `append(false)` reports both as errors.
    public func appendNull() {
        do {
            try append(false)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Returns the array built so far, with `values` finished as its child, and starts again.
    ///
    /// Elements appended after the last closed slot belong to no slot; they stay at the end of
    /// the child, where the format allows them.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        let child = values.finish()
        closedEnd = 0
        var buffers = [bitmap]
        switch kind {
        case .fixedSize: break
        case .list, .map, .largeList:
            buffers.append(offsets.take(reserving: 1024 * 8))
        case .listView, .largeListView:
            buffers.append(offsets.take(reserving: 1024 * 8))
            buffers.append(sizes.take(reserving: 1024 * 8))
        }
        startOffsets()
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: buffers, children: [child])
    }
}
