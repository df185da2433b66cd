/// A view of a `null` array: every slot is null.
public struct NullArray: TypedArray {
    /// The array this view reads.
    public let data: ArrayData

    /// A view of `data`; throws unless it is a `null` array.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard data.type == .null else { throw .mismatch("\(data.type) array is not null") }
        self.data = data
    }

    /// Always true. `i` must be in `0..<length`.
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, data.length)
        return true
    }
}
