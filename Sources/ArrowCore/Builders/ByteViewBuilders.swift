/// Views, data blocks and validity of a binary view or utf8 view array under construction.
///
/// Values of up to 12 bytes live inside their 16-byte view. Longer ones are copied into the
/// current data block, which is sealed and replaced once the next value would not fit; blocks
/// start at 8 KiB and double up to 2 MiB, so short batches stay small and long ones do not
/// make a few huge allocations that must be copied as they grow.
@usableFromInline
struct ByteViewStorage: ~Copyable {
    @usableFromInline var views: BuilderBytes
    @usableFromInline var block: BuilderBytes
    @usableFromInline var sealed: [Buffer] = []
    @usableFromInline var blockSize = ByteViewStorage.firstBlockSize
    @usableFromInline var validity = BuilderValidity()

    @usableFromInline static let firstBlockSize = 8 * 1024
    @usableFromInline static let largestBlockSize = 2 * 1024 * 1024
    /// The longest value stored inside its view.
    @inlinable static var inlineLimit: Int { 12 }

    init(capacity: Int) {
        views = BuilderBytes(capacity: Swift.max(capacity, 1) * 16)
        block = BuilderBytes(capacity: 64)
    }

    /// Throws unless a value of `count` bytes has a representable view (a 32-bit length).
    @inlinable @inline(__always)
    func checkRoom(_ count: Int, type: @autoclosure () -> DataType) throws(ArrowError) {
        if _slowPath(count > Int(Int32.max)) {
            throw .invalid("a \(type()) value of \(count) bytes is past the 2 GiB limit of one view")
        }
    }

    /// Appends a value known to fit (see `checkRoom`).
    @inlinable
    mutating func appendUnchecked(_ bytes: UnsafeRawBufferPointer) {
        let size = bytes.count
        let view = views.count
        views.append(repeatingZeroOf: (UInt64, UInt64).self)
        views.store(Int32(truncatingIfNeeded: size), at: view)
        if size <= Self.inlineLimit {
            if let source = bytes.baseAddress, size > 0 {
                (views.base + view + 4).copyMemory(from: source, byteCount: size)
            }
        } else {
            appendOutOfLine(bytes, view: view)
        }
        validity.appendValid()
    }

    @usableFromInline
    mutating func appendOutOfLine(_ bytes: UnsafeRawBufferPointer, view: Int) {
        let size = bytes.count
        if block.count > 0 && block.count + size > blockSize { sealBlock(next: size) }
        let start = block.count
        block.append(contentsOf: bytes)
        views.store(bytes.loadUnaligned(as: UInt32.self), at: view + 4)
        views.store(Int32(truncatingIfNeeded: sealed.count), at: view + 8)
        views.store(Int32(truncatingIfNeeded: start), at: view + 12)
    }

    /// Freezes the current block and starts one with room for the next value at least.
    mutating func sealBlock(next size: Int) {
        blockSize = Swift.min(blockSize * 2, Self.largestBlockSize)
        sealed.append(block.take(reserving: Swift.max(blockSize, size)))
    }

    @inlinable
    mutating func appendNull() {
        views.append(repeatingZeroOf: (UInt64, UInt64).self)
        validity.appendNull()
    }

    mutating func finish(type: DataType) -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        var buffers = [bitmap, views.take(reserving: 1024 * 16)]
        buffers.append(contentsOf: sealed)
        if block.count > 0 { buffers.append(block.take()) }
        sealed = []
        blockSize = Self.firstBlockSize
        return ArrayData(type: type, length: count, nullCount: nulls, buffers: buffers)
    }
}

/// Builds a `utf8_view` array: strings of up to 12 bytes inside their views, longer ones in
/// data blocks. Nothing is allocated per value.
public final class StringViewBuilder: ValueArrayBuilder {
    /// One value is a `String`.
    public typealias Value = String
    @exclusivity(unchecked) @usableFromInline var storage: ByteViewStorage

    /// A builder with room for `capacity` views before it grows.
    public init(capacity: Int = 1024) {
        storage = ByteViewStorage(capacity: capacity)
    }

    /// `utf8_view`.
    public var type: DataType { .utf8View }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { storage.validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { storage.validity.nullCount }

    /// Appends a string; throws (appending nothing) for one of more than 2 GiB.
    @inlinable
    public func append(_ value: String) throws(ArrowError) {
        try storage.checkRoom(value.utf8.count, type: .utf8View)
        value.withUTF8Bytes { storage.appendUnchecked($0) }
    }

    /// Appends a string, or a null for nil.
    @inlinable
    public func append(_ value: String?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends text given as UTF-8 bytes, which are not checked.
    @inlinable
    public func append(utf8 bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        try storage.checkRoom(bytes.count, type: .utf8View)
        storage.appendUnchecked(bytes)
    }

    /// Appends a null slot (an all-zero view).
    @inlinable
    public func appendNull() { storage.appendNull() }

    /// Appends every element of `values`, nil as null; stops at the first that does not fit.
    public func append<S: Sequence<String?>>(contentsOf values: S) throws(ArrowError) {
        for value in values { try append(value) }
    }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData { storage.finish(type: .utf8View) }
}

/// Builds a `binary_view` array: values of up to 12 bytes inside their views, longer ones in
/// data blocks. Nothing is allocated per value.
public final class BinaryViewBuilder: ValueArrayBuilder {
    /// One value is an array of bytes.
    public typealias Value = [UInt8]
    @exclusivity(unchecked) @usableFromInline var storage: ByteViewStorage

    /// A builder with room for `capacity` views before it grows.
    public init(capacity: Int = 1024) {
        storage = ByteViewStorage(capacity: capacity)
    }

    /// `binary_view`.
    public var type: DataType { .binaryView }

    /// The number of slots appended since the last `finish()`.
    @inlinable
    public var length: Int { storage.validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { storage.validity.nullCount }

    /// Appends bytes; throws (appending nothing) for a value of more than 2 GiB.
    @inlinable
    public func append(bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        try storage.checkRoom(bytes.count, type: .binaryView)
        storage.appendUnchecked(bytes)
    }

    /// Appends the bytes of an array.
    @inlinable
    public func append(_ value: [UInt8]) throws(ArrowError) {
        try storage.checkRoom(value.count, type: .binaryView)
        value.withUnsafeBytes { storage.appendUnchecked($0) }
    }

    /// Appends the bytes of an array, or a null for nil.
    @inlinable
    public func append(_ value: [UInt8]?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends a null slot (an all-zero view).
    @inlinable
    public func appendNull() { storage.appendNull() }

    /// Returns the array built so far and starts again, empty.
    public func finish() -> ArrayData { storage.finish(type: .binaryView) }
}
