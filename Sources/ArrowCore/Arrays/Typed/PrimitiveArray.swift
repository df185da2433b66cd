/// A view of a fixed-width array as Swift values: integers, floats, intervals, and temporal
/// types through the integer they store (`PrimitiveArray<Int64>` reads a timestamp array, whose
/// unit and zone stay in `type`).
///
/// Elements are `T?`, nil for null slots; reading one is a bounds check, a bit test when the
/// array has nulls, and a load.
public struct PrimitiveArray<T: ArrowPrimitiveType>: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    // Slot 0's value; valid while `data` is alive, which this view guarantees.
    @usableFromInline let values: UnsafeRawPointer?
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless `T` stores `data.type` (see `ArrowPrimitiveType.canStore`)
    /// and the values buffer covers the array.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard T.canStore(data.type) else { throw .mismatch("\(data.type) array is not stored as \(T.self)") }
        try data.requireSaneWindow()
        let size = MemoryLayout<T>.size
        try data.requireBuffer(1, bytes: (data.offset + data.length) * size, "values")
        self.data = data
        validity = try ValidityBits(data)
        values = data.buffers[1].baseAddress.map { $0 + data.offset * size }
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The value in slot `i`, or nil if it is null.
    @inlinable
    public subscript(i: Int) -> T? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return values.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self)
    }

    /// The value stored in slot `i` whether or not it is null (nulls usually store zero).
    @inlinable
    public func value(at i: Int) -> T {
        checkIndex(i, count_)
        return values.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self)
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
