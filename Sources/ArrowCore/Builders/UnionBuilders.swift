/// Checks union fields, type ids and child builders against each other.
private func checkUnion(_ fields: [Field], _ typeIDs: [Int8], _ children: [any ArrayBuilder]) throws(ArrowError) {
    guard fields.count == typeIDs.count, fields.count == children.count else {
        throw .mismatch("union of \(fields.count) fields, \(typeIDs.count) type ids and \(children.count) child builders")
    }
    guard Set(typeIDs).count == typeIDs.count, typeIDs.allSatisfy({ $0 >= 0 }) else {
        throw .invalid("union type ids \(typeIDs) must be distinct and non-negative")
    }
    for (field, child) in zip(fields, children) where field.type != child.type {
        throw .mismatch("union field '\(field.name)' is \(field.type), its builder makes \(child.type)")
    }
}

/// Builds a dense union: each slot is one value of one child, found by type id and offset.
///
/// Append the value to the chosen child, then call `append(childAt:)` to make it the next slot.
/// Children only hold the values their slots use.
public final class DenseUnionBuilder: ArrayBuilder {
    /// The fields, one per child.
    public let fields: [Field]
    /// `typeIDs[i]` is the type id that selects `fields[i]`.
    public let typeIDs: [Int8]
    /// The child builders, in field order.
    @exclusivity(unchecked) public internal(set) var children: [any ArrayBuilder]
    @exclusivity(unchecked) @usableFromInline var ids: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var offsets: BuilderBytes
    /// The number of child values that slots already refer to, per child.
    @exclusivity(unchecked) @usableFromInline var used: [Int]

    /// A builder over `children`, one per field; the type ids default to 0, 1, 2...
    /// Throws if the counts or types disagree or the ids repeat.
    public convenience init(fields: [Field], typeIDs: [Int8]? = nil, children: [any ArrayBuilder]) throws(ArrowError) {
        let ids = typeIDs ?? fields.indices.map { Int8(truncatingIfNeeded: $0) }
        try checkUnion(fields, ids, children)
        self.init(unchecked: fields, typeIDs: ids, children: children)
    }

    init(unchecked fields: [Field], typeIDs: [Int8], children: [any ArrayBuilder]) {
        self.fields = fields
        self.typeIDs = typeIDs
        self.children = children
        ids = BuilderBytes(capacity: 1024)
        offsets = BuilderBytes(capacity: 4096)
        used = children.map(\.length)
    }

    /// `union(.dense, fields, typeIDs:)`.
    public var type: DataType { .union(.dense, fields, typeIDs: typeIDs) }

    /// The number of slots appended since the last `finish()`.
    public var length: Int { ids.count }

    /// Child `index`'s builder as `B`, or nil if it is another kind of builder.
    public func child<B: ArrayBuilder>(_ index: Int, as type: B.Type = B.self) -> B? {
        guard index >= 0 && index < children.count else { return nil }
        return children[index] as? B
    }

    /// Makes the value just appended to child `index` the next slot. Throws, changing nothing,
    /// if there is no such child, if it has no value that is not already a slot, or if its
    /// offsets would pass `Int32.max`.
    public func append(childAt index: Int) throws(ArrowError) {
        guard index >= 0 && index < children.count else {
            throw .invalid("union child \(index) of \(children.count)")
        }
        let offset = children[index].length - 1
        guard offset >= used[index] else {
            throw .invalid("union child '\(fields[index].name)' has no new value for the slot")
        }
        guard offset <= Int(Int32.max) else {
            throw .invalid("union child '\(fields[index].name)' is past the 32-bit offset limit")
        }
        ids.append(typeIDs[index])
        offsets.append(Int32(truncatingIfNeeded: offset))
        used[index] = offset + 1
    }

    /// Appends a null slot: a null in the first child, since a union has no validity of its own.
    /// Traps if that child is past `Int32.max` values; a union without children gets a slot
    /// with type id 0, which `validate()` rejects.
    public func appendNull() {
        guard !children.isEmpty else {
            ids.append(Int8(0))
            offsets.append(Int32(0))
            return
        }
        children[0].appendNull()
        do {
            try append(childAt: 0)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Returns the array built so far, with every child finished, and starts again.
    public func finish() -> ArrayData {
        let count = ids.count
        var finished: [ArrayData] = []
        finished.reserveCapacity(children.count)
        for i in children.indices { finished.append(children[i].finish()) }
        used = children.map(\.length)
        return ArrayData(type: type, length: count, nullCount: 0,
                         buffers: [Buffer(), ids.take(reserving: 1024), offsets.take(reserving: 4096)], children: finished)
    }
}

/// Builds a sparse union: every child has one slot per union slot, and the type id says which
/// child's slot is the value.
///
/// Append the value to the chosen child, then call `append(childAt:)`: the other children get
/// a null in that slot.
public final class SparseUnionBuilder: ArrayBuilder {
    /// The fields, one per child.
    public let fields: [Field]
    /// `typeIDs[i]` is the type id that selects `fields[i]`.
    public let typeIDs: [Int8]
    /// The child builders, in field order.
    @exclusivity(unchecked) public internal(set) var children: [any ArrayBuilder]
    @exclusivity(unchecked) @usableFromInline var ids: BuilderBytes

    /// A builder over `children`, one per field; the type ids default to 0, 1, 2...
    /// Throws if the counts or types disagree or the ids repeat.
    public convenience init(fields: [Field], typeIDs: [Int8]? = nil, children: [any ArrayBuilder]) throws(ArrowError) {
        let ids = typeIDs ?? fields.indices.map { Int8(truncatingIfNeeded: $0) }
        try checkUnion(fields, ids, children)
        self.init(unchecked: fields, typeIDs: ids, children: children)
    }

    init(unchecked fields: [Field], typeIDs: [Int8], children: [any ArrayBuilder]) {
        self.fields = fields
        self.typeIDs = typeIDs
        self.children = children
        ids = BuilderBytes(capacity: 1024)
    }

    /// `union(.sparse, fields, typeIDs:)`.
    public var type: DataType { .union(.sparse, fields, typeIDs: typeIDs) }

    /// The number of slots appended since the last `finish()`.
    public var length: Int { ids.count }

    /// Child `index`'s builder as `B`, or nil if it is another kind of builder.
    public func child<B: ArrayBuilder>(_ index: Int, as type: B.Type = B.self) -> B? {
        guard index >= 0 && index < children.count else { return nil }
        return children[index] as? B
    }

    /// Makes the value just appended to child `index` the next slot and pads every other child
    /// with a null. Throws, changing nothing, if there is no such child or it does not hold
    /// exactly one value more than there are slots.
    public func append(childAt index: Int) throws(ArrowError) {
        guard index >= 0 && index < children.count else {
            throw .invalid("union child \(index) of \(children.count)")
        }
        let slot = ids.count
        guard children[index].length == slot + 1 else {
            throw .invalid("sparse union child '\(fields[index].name)' has \(children[index].length) values for slot \(slot)")
        }
        for i in children.indices where i != index { children[i].appendNull() }
        ids.append(typeIDs[index])
    }

    /// Appends a null slot: a null in every child, selected by the first type id. A union
    /// without children gets a slot with type id 0, which `validate()` rejects.
    public func appendNull() {
        for i in children.indices { children[i].appendNull() }
        ids.append(typeIDs.first ?? 0)
    }

    /// Returns the array built so far, with every child finished, and starts again.
    public func finish() -> ArrayData {
        let count = ids.count
        var finished: [ArrayData] = []
        finished.reserveCapacity(children.count)
        for i in children.indices { finished.append(children[i].finish()) }
        return ArrayData(type: type, length: count, nullCount: 0, buffers: [Buffer(), ids.take(reserving: 1024)],
                         children: finished)
    }
}
