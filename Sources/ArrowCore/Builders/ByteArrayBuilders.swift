/// The integer type of the offsets of variable-length layouts: `Int32` for binary, utf8 and
/// list, `Int64` for their large forms. Only those two conform; builders assume no other.
public protocol ArrowOffset: FixedWidthInteger, SignedInteger, BitwiseCopyable, Sendable {}
extension Int32: ArrowOffset {}
extension Int64: ArrowOffset {}

/// Builds a `utf8` array (32-bit offsets, at most 2 GiB of text per array).
public typealias StringBuilder = GenericStringBuilder<Int32>
/// Builds a `large_utf8` array (64-bit offsets).
public typealias LargeStringBuilder = GenericStringBuilder<Int64>
/// Builds a `binary` array (32-bit offsets, at most 2 GiB of data per array).
public typealias BinaryBuilder = GenericBinaryBuilder<Int32>
/// Builds a `large_binary` array (64-bit offsets).
public typealias LargeBinaryBuilder = GenericBinaryBuilder<Int64>

extension String {
    /// Calls `body` with the string's UTF-8 bytes: in place for native strings (measurably
    /// cheaper than the mutating `withUTF8`, which checks uniqueness first), from a contiguous
    /// copy for the others.
    @inlinable
    func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = self
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// Offsets, data and validity of a binary or utf8 array under construction.
@usableFromInline
struct ByteArrayStorage<Offset: ArrowOffset>: ~Copyable {
    @usableFromInline var offsets: BuilderBytes
    @usableFromInline var data: BuilderBytes
    @usableFromInline var validity = BuilderValidity()

    init(capacity: Int, dataCapacity: Int) {
        offsets = BuilderBytes(capacity: (Swift.max(capacity, 1) + 1) * MemoryLayout<Offset>.size)
        data = BuilderBytes(capacity: dataCapacity)
        offsets.append(Offset.zero)
    }

    /// Throws unless `count` more bytes keep the last offset representable.
    @inlinable @inline(__always)
    func checkRoom(_ count: Int, type: @autoclosure () -> DataType) throws(ArrowError) {
        if _slowPath(count > Int(Offset.max) - data.count) {
            throw .invalid("\(type()) array would hold \(data.count + count) bytes, past its offset limit of \(Offset.max); finish the batch earlier or use the large type")
        }
    }

    /// Appends a value already known to fit (see `checkRoom`).
    @inlinable @inline(__always)
    mutating func appendUnchecked(_ bytes: UnsafeRawBufferPointer) {
        data.append(contentsOf: bytes)
        offsets.append(Offset(truncatingIfNeeded: data.count))
        validity.appendValid()
    }

    @inlinable
    mutating func appendNull() {
        offsets.append(Offset(truncatingIfNeeded: data.count))
        validity.appendNull()
    }

    mutating func finish(type: DataType) -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        let offsetBuffer = offsets.take(reserving: 1024 * MemoryLayout<Offset>.size)
        offsets.append(Offset.zero)
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: [bitmap, offsetBuffer, data.take()])
    }
}

/// Builds a `utf8` (`Offset == Int32`) or `large_utf8` (`Offset == Int64`) array from strings.
///
/// Appends copy the string's UTF-8 bytes once into a growing data buffer; nothing is allocated
/// per value. A 32-bit builder throws rather than let its offsets overflow past 2 GiB.
public final class GenericStringBuilder<Offset: ArrowOffset>: ValueArrayBuilder {
    /// One value is a `String`.
    public typealias Value = String
    @exclusivity(unchecked) @usableFromInline var storage: ByteArrayStorage<Offset>

    /// A builder with room for `capacity` values and `dataCapacity` bytes of text before it grows.
    public init(capacity: Int = 1024, dataCapacity: Int = 8192) {
        storage = ByteArrayStorage(capacity: capacity, dataCapacity: dataCapacity)
    }

    /// `utf8` or `large_utf8`.
    public var type: DataType { Offset.self == Int64.self ? .largeUtf8 : .utf8 }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { storage.validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { storage.validity.nullCount }

    /// The bytes of text appended since the last `finish()`.
    public var byteCount: Int { storage.data.count }

    /// Appends a string; throws (appending nothing) if a 32-bit array would pass 2 GiB.
    @inlinable
    public func append(_ value: String) throws(ArrowError) {
        try storage.checkRoom(value.utf8.count, type: type)
        value.withUTF8Bytes { storage.appendUnchecked($0) }
    }

    /// Appends a string, or a null for nil.
    @inlinable
    public func append(_ value: String?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends text given as UTF-8 bytes, which are not checked: invalid UTF-8 makes an array
    /// that readers repair with U+FFFD.
    @inlinable
    public func append(utf8 bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        try storage.checkRoom(bytes.count, type: type)
        storage.appendUnchecked(bytes)
    }

    /// Appends a null slot (an empty range of the data).
    @inlinable
    public func appendNull() { storage.appendNull() }

    /// Appends every element of `values`, nil as null; stops at the first that does not fit.
    public func append<S: Sequence<String?>>(contentsOf values: S) throws(ArrowError) {
        for value in values { try append(value) }
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData { storage.finish(type: type) }
}

/// Builds a `binary` (`Offset == Int32`) or `large_binary` (`Offset == Int64`) array.
///
/// Appends copy the bytes once into a growing data buffer; nothing is allocated per value.
/// A 32-bit builder throws rather than let its offsets overflow past 2 GiB.
public final class GenericBinaryBuilder<Offset: ArrowOffset>: ValueArrayBuilder {
    /// One value is an array of bytes.
    public typealias Value = [UInt8]
    @exclusivity(unchecked) @usableFromInline var storage: ByteArrayStorage<Offset>

    /// A builder with room for `capacity` values and `dataCapacity` bytes before it grows.
    public init(capacity: Int = 1024, dataCapacity: Int = 8192) {
        storage = ByteArrayStorage(capacity: capacity, dataCapacity: dataCapacity)
    }

    /// `binary` or `large_binary`.
    public var type: DataType { Offset.self == Int64.self ? .largeBinary : .binary }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { storage.validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { storage.validity.nullCount }

    /// The bytes of data appended since the last `finish()`.
    public var byteCount: Int { storage.data.count }

    /// Appends bytes; throws (appending nothing) if a 32-bit array would pass 2 GiB.
    @inlinable
    public func append(bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        try storage.checkRoom(bytes.count, type: type)
        storage.appendUnchecked(bytes)
    }

    /// Appends the bytes of an array.
    @inlinable
    public func append(_ value: [UInt8]) throws(ArrowError) {
        try storage.checkRoom(value.count, type: type)
        value.withUnsafeBytes { storage.appendUnchecked($0) }
    }

    /// Appends the bytes of an array, or a null for nil.
    @inlinable
    public func append(_ value: [UInt8]?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends the bytes of a buffer.
    public func append(_ value: Buffer) throws(ArrowError) {
        try storage.checkRoom(value.count, type: type)
        value.withUnsafeBytes { storage.appendUnchecked($0) }
    }

    /// Appends a null slot (an empty range of the data).
    @inlinable
    public func appendNull() { storage.appendNull() }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData { storage.finish(type: type) }
}
