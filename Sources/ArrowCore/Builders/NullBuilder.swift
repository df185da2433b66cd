/// Builds a `null` array, which has a length and nothing else.
public final class NullBuilder: ArrayBuilder {
    /// The number of slots appended since the last `finish()`.
    public private(set) var length = 0

    /// An empty builder.
    public init() {}

    /// `null`.
    public var type: DataType { .null }

    /// Appends a slot, which is null like every slot of this type.
    public func appendNull() { length += 1 }

    /// Appends `n` slots.
    public func appendNulls(_ n: Int) { length += Swift.max(n, 0) }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData {
        defer { length = 0 }
        return ArrayData(type: .null, length: length, nullCount: length, buffers: [])
    }
}
