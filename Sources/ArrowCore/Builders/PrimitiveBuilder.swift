/// Builds an array of fixed-width values: integers, floats, intervals, and the temporal types
/// (date, time, timestamp, duration) stored as the integer of their width.
///
/// Appends are amortized O(1) and allocate nothing per value; `append(_:)` inlines into the
/// caller's loop. The validity bitmap is only written once the first null arrives.
public final class PrimitiveBuilder<T: ArrowPrimitiveType>: ValueArrayBuilder {
    /// One value is a `T`.
    public typealias Value = T
    /// The type of the array `finish()` returns.
    public let type: DataType
    @exclusivity(unchecked) @usableFromInline var values: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder of `T.arrowType` arrays with room for `capacity` values before it grows.
    public init(capacity: Int = 1024) {
        type = T.arrowType
        values = BuilderBytes(capacity: Swift.max(capacity, 1) * MemoryLayout<T>.size)
    }

    /// A builder of `type` arrays, for types that share `T`'s storage: `PrimitiveBuilder<Int64>`
    /// for `timestamp(.microsecond, timeZone: "UTC")`, `PrimitiveBuilder<Int32>` for `date32`.
    /// Throws if `type` does not store `T`.
    public init(type: DataType, capacity: Int = 1024) throws(ArrowError) {
        guard T.canStore(type) else { throw .mismatch("\(type) values are not stored as \(T.self)") }
        self.type = type
        values = BuilderBytes(capacity: Swift.max(capacity, 1) * MemoryLayout<T>.size)
    }

    init(unchecked type: DataType) {
        self.type = type
        values = BuilderBytes(capacity: 1024 * MemoryLayout<T>.size)
    }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Appends a value.
    @inlinable
    public func append(_ value: T) {
        values.append(value)
        validity.appendValid()
    }

    /// Appends a value, or a null for nil.
    @inlinable
    public func append(_ value: T?) {
        if let value { append(value) } else { appendNull() }
    }

    /// Appends a null slot (its value bytes are zero).
    @inlinable
    public func appendNull() {
        values.append(repeatingZeroOf: T.self)
        validity.appendNull()
    }

    /// Appends every value of `values`.
    public func append<S: Sequence<T>>(contentsOf newValues: S) {
        values.reserve(additional: newValues.underestimatedCount * MemoryLayout<T>.size)
        for value in newValues { append(value) }
    }

    /// Appends every element of `values`, nil as null.
    public func append<S: Sequence<T?>>(contentsOf newValues: S) {
        values.reserve(additional: newValues.underestimatedCount * MemoryLayout<T>.size)
        for value in newValues { append(value) }
    }

    /// Appends a buffer of values in one copy.
    public func append(contentsOf newValues: UnsafeBufferPointer<T>) {
        values.append(contentsOf: UnsafeRawBufferPointer(newValues))
        validity.append(true, count: newValues.count)
    }

    /// Makes room for `additional` more values, so a known batch size grows the buffer once.
    public func reserveCapacity(_ additional: Int) {
        values.reserve(additional: Swift.max(additional, 0) * MemoryLayout<T>.size)
    }

    /// The value in slot `i` (zero for nulls). `i` must be below `length`.
    public func value(at i: Int) -> T {
        precondition(i >= 0 && i < length, "index \(i) out of range for a builder of length \(length)")
        return values.load(at: i * MemoryLayout<T>.size, as: T.self)
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: [bitmap, values.take()])
    }
}

extension BuilderBytes {
    /// Appends `MemoryLayout<T>.size` zero bytes, the placeholder value behind a null.
    @inlinable
    mutating func append<T: BitwiseCopyable>(repeatingZeroOf type: T.Type) {
        let size = MemoryLayout<T>.size
        if _slowPath(capacity &- count < size) { grow(minimum: count &+ size) }
        (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: size)
        count &+= size
    }
}
