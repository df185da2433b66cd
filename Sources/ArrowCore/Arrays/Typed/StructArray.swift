/// A view of a `struct` array: its rows' validity and one child array per field.
public struct StructArray: TypedArray {
    /// The array this view reads.
    public let data: ArrayData
    /// The fields, one per child.
    public let fields: [Field]
    @usableFromInline let validity: ValidityBits

    /// A view of `data`; throws unless it is a struct array with one child per field, each
    /// long enough for the struct's window.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard case .struct(let fields) = data.type else { throw .mismatch("\(data.type) array is not a struct") }
        try data.requireSaneWindow()
        guard data.children.count == fields.count else {
            throw .invalid("struct of \(fields.count) fields with \(data.children.count) children")
        }
        for (field, child) in zip(fields, data.children) where child.length < data.offset + data.length {
            throw .invalid("struct field '\(field.name)' has \(child.length) values for \(data.offset + data.length) slots")
        }
        self.data = data
        self.fields = fields
        validity = try ValidityBits(data)
    }

    /// Field `k`'s values for this struct's rows: the child sliced to the struct's window, so
    /// that its slot `i` is row `i`'s value.
    public func field(at k: Int) -> ArrayData {
        precondition(k >= 0 && k < fields.count, "field \(k) of a struct of \(fields.count)")
        return data.children[k].sliceInBounds(data.offset, data.length)
    }

    /// The values of the first field named `name` (see `field(at:)`), or nil if there is none.
    public func field(named name: String) -> ArrayData? {
        fields.firstIndex { $0.name == name }.map { field(at: $0) }
    }

    /// Every field's values (see `field(at:)`).
    public var columns: [ArrayData] { fields.indices.map { field(at: $0) } }

    /// Whether row `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, data.length)
        return !validity.isValid(i)
    }
}
