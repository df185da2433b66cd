/// A view of a `bool` array; elements are `Bool?`, nil for null slots.
public struct BooleanArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    @usableFromInline let values: UnsafeRawPointer?
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int
    @usableFromInline let bitOffset: Int

    /// A view of `data`; throws unless it is a `bool` array whose bitmap covers it.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard data.type == .bool else { throw .mismatch("\(data.type) array is not bool") }
        try data.requireSaneWindow()
        try data.requireBuffer(1, bytes: (data.offset + data.length + 7) / 8, "values")
        self.data = data
        validity = try ValidityBits(data)
        values = data.buffers[1].baseAddress
        count_ = data.length
        bitOffset = data.offset
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The value in slot `i`, or nil if it is null.
    @inlinable
    public subscript(i: Int) -> Bool? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return bit(i)
    }

    /// The bit stored in slot `i` whether or not it is null.
    @inlinable
    public func value(at i: Int) -> Bool {
        checkIndex(i, count_)
        return bit(i)
    }

    @inlinable @inline(__always)
    func bit(_ i: Int) -> Bool {
        let j = bitOffset &+ i
        return values.unsafelyUnwrapped.load(fromByteOffset: j &>> 3, as: UInt8.self) & (1 &<< UInt8(truncatingIfNeeded: j & 7)) != 0
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
