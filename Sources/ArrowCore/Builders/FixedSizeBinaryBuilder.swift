/// Builds a `fixed_size_binary` array: every value has the same byte width.
public final class FixedSizeBinaryBuilder: ValueArrayBuilder {
    /// One value is an array of exactly `byteWidth` bytes.
    public typealias Value = [UInt8]
    /// The byte width of every value.
    public let byteWidth: Int
    @exclusivity(unchecked) @usableFromInline var values: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder of values of `byteWidth` bytes; throws for a negative width.
    public init(byteWidth: Int, capacity: Int = 1024) throws(ArrowError) {
        guard byteWidth >= 0 else { throw .invalid("fixed-size binary width \(byteWidth)") }
        self.byteWidth = byteWidth
        values = BuilderBytes(capacity: Swift.max(capacity, 1) * byteWidth)
    }

    init(unchecked byteWidth: Int) {
        self.byteWidth = byteWidth
        values = BuilderBytes(capacity: 1024 * Swift.max(byteWidth, 0))
    }

    /// `fixed_size_binary[byteWidth]`.
    public var type: DataType { .fixedSizeBinary(byteWidth) }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// Appends a value; throws (appending nothing) unless it has exactly `byteWidth` bytes.
    @inlinable
    public func append(bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        guard bytes.count == byteWidth else {
            throw .invalid("a value of \(bytes.count) bytes does not fit fixed_size_binary[\(byteWidth)]")
        }
        values.append(contentsOf: bytes)
        validity.appendValid()
    }

    /// Appends the bytes of an array; throws unless it has exactly `byteWidth` bytes.
    @inlinable
    public func append(_ value: [UInt8]) throws(ArrowError) {
        guard value.count == byteWidth else {
            throw .invalid("a value of \(value.count) bytes does not fit fixed_size_binary[\(byteWidth)]")
        }
        value.withUnsafeBytes { values.append(contentsOf: $0) }
        validity.appendValid()
    }

    /// Appends the bytes of an array, or a null for nil.
    @inlinable
    public func append(_ value: [UInt8]?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends a null slot (zero bytes behind it).
    public func appendNull() {
        values.append(repeating: 0, count: Swift.max(byteWidth, 0))
        validity.appendNull()
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: [bitmap, values.take()])
    }
}
