/// Builds a `bool` array: one bit per value, plus a validity bitmap once a null arrives.
public final class BooleanBuilder: ValueArrayBuilder {
    /// One value is a `Bool`.
    public typealias Value = Bool
    @exclusivity(unchecked) @usableFromInline var values: BuilderBits
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder with room for `capacity` values before it grows.
    public init(capacity: Int = 1024) {
        values = BuilderBits(capacity: Swift.max(capacity, 8))
    }

    /// `bool`.
    public var type: DataType { .bool }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Appends a value.
    @inlinable
    public func append(_ value: Bool) {
        values.append(value)
        validity.appendValid()
    }

    /// Appends a value, or a null for nil.
    @inlinable
    public func append(_ value: Bool?) {
        if let value { append(value) } else { appendNull() }
    }

    /// Appends a null slot (its value bit is zero).
    @inlinable
    public func appendNull() {
        values.append(false)
        validity.appendNull()
    }

    /// Appends every element of `values`, nil as null.
    public func append<S: Sequence<Bool?>>(contentsOf newValues: S) {
        for value in newValues { append(value) }
    }

    /// Appends every value of `values`.
    public func append<S: Sequence<Bool>>(contentsOf newValues: S) {
        for value in newValues { append(value) }
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        return ArrayData(type: .bool, length: count, nullCount: nulls, buffers: [bitmap, values.take()])
    }
}
