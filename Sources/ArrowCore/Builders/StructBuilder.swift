/// Builds a `struct` array from one child builder per field.
///
/// For a valid row, append one value to every child, then call `append()`; `appendNull()` does
/// both for a null row (every child gets a null, which the format allows under a null parent).
public final class StructBuilder: ArrayBuilder {
    /// The fields, one per child.
    public let fields: [Field]
    /// The child builders, in field order.
    @exclusivity(unchecked) public internal(set) var children: [any ArrayBuilder]
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder over `children`, one per field with the field's type. Throws if they disagree.
    public init(fields: [Field], children: [any ArrayBuilder]) throws(ArrowError) {
        guard fields.count == children.count else {
            throw .mismatch("\(fields.count) struct fields for \(children.count) child builders")
        }
        for (field, child) in zip(fields, children) where field.type != child.type {
            throw .mismatch("struct field '\(field.name)' is \(field.type), its builder makes \(child.type)")
        }
        self.fields = fields
        self.children = children
    }

    /// A builder for `fields` with children from `makeBuilder(for:)`.
    public convenience init(fields: [Field]) {
        self.init(unchecked: fields, children: fields.map { makeBuilder(for: $0.type) })
    }

    init(unchecked fields: [Field], children: [any ArrayBuilder]) {
        self.fields = fields
        self.children = children
    }

    /// `struct<fields>`.
    public var type: DataType { .struct(fields) }

    /// The number of rows appended since the last `finish()`.
    @inlinable
    public var length: Int { validity.length }

    /// The number of null rows appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Child `index`'s builder as `B`, or nil if it is another kind of builder. Cast once and
    /// keep the result: appends through it then need no dynamic dispatch.
    public func child<B: ArrayBuilder>(_ index: Int, as type: B.Type = B.self) -> B? {
        guard index >= 0 && index < children.count else { return nil }
        return children[index] as? B
    }

    /// Closes a row, valid or null, whose child values have been appended.
    @inlinable
    public func append(_ valid: Bool = true) {
        validity.append(valid)
    }

    /// Appends a null row, with a null in every child.
    public func appendNull() {
        for i in children.indices { children[i].appendNull() }
        validity.appendNull()
    }

    /// Returns the array built so far, with every child finished, and starts again.
    ///
    /// Every child must hold exactly one value per row: a child with more or fewer is a misuse
    /// of the builder, and traps here naming the field.
    public func finish() -> ArrayData {
        let count = validity.length
        for (field, child) in zip(fields, children) {
            precondition(child.length == count, "struct field '\(field.name)' has \(child.length) values for \(count) rows")
        }
        let (bitmap, nulls) = validity.take()
        var finished: [ArrayData] = []
        finished.reserveCapacity(children.count)
        for i in children.indices { finished.append(children[i].finish()) }
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: [bitmap], children: finished)
    }
}
