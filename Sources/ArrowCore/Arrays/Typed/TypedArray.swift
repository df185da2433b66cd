/// A typed, read-only view of an `ArrayData`: `PrimitiveArray<Int32>`, `StringArray`,
/// `ListArray`, ...
///
/// Views are thin: they hold the array and a few pointers into its buffers, so making one costs
/// O(1) and reading a fixed-width element is one load. Creating a view checks the type and that
/// the buffers it reads directly are large enough; offsets, views, type ids and dictionary
/// indices are trusted to have passed `validate()`, as every array that ArrowCore's readers
/// and builders hand out has (use `init(validating:)` for anything else). Element access still
/// checks each range it reads against its buffer and traps rather than read outside memory, so
/// an unvalidated array can stop a program but never make it read out of bounds.
///
/// Indices are positions in the view's window (`0..<length`), whatever the array's `offset`.
public protocol TypedArray: Sendable {
    /// The array this view reads.
    var data: ArrayData { get }
    /// A view of `data`; throws `ArrowError.mismatch` if `data` has a type this view does not
    /// read, and `ArrowError.invalid` if its buffers are missing or too small for its length.
    init(_ data: ArrayData) throws(ArrowError)
    /// Whether slot `i` is null. `i` must be in `0..<length`.
    func isNull(_ i: Int) -> Bool
}

extension TypedArray {
    /// A view of `data` after `data.validate()` has passed, for arrays from outside ArrowCore.
    public init(validating data: ArrayData) throws(ArrowError) {
        try data.validate()
        try self.init(data)
    }

    /// The array's type.
    public var type: DataType { data.type }

    /// The number of slots.
    @inlinable
    public var length: Int { data.length }

    /// The number of null slots.
    @inlinable
    public var nullCount: Int { data.nullCount }

    /// Whether slot `i` is null, by the array's own validity. `i` must be in `0..<length`.
    public func isNull(_ i: Int) -> Bool {
        precondition(i >= 0 && i < data.length, "index \(i) out of range for an array of length \(data.length)")
        return data.isNull(i)
    }

    /// Whether slot `i` holds a value. `i` must be in `0..<length`.
    public func isValid(_ i: Int) -> Bool { !isNull(i) }
}

/// The validity bitmap of a view, or nil when every slot is valid.
@usableFromInline
struct ValidityBits: @unchecked Sendable {
    // The pointer stays valid because the view holds the `ArrayData` that owns the buffer.
    @usableFromInline let bits: UnsafeRawPointer?
    @usableFromInline let offset: Int

    init(_ data: ArrayData) throws(ArrowError) {
        offset = data.offset
        guard data.nullCount != 0 else {
            bits = nil
            return
        }
        guard let bitmap = data.buffers.first, bitmap.count > 0 else {
            throw .invalid("\(data.type) array with \(data.nullCount) nulls has no validity bitmap")
        }
        guard bitmap.count >= (data.offset + data.length + 7) / 8 else {
            throw .invalid("\(data.type) validity bitmap of \(bitmap.count) bytes for \(data.offset + data.length) slots")
        }
        bits = bitmap.baseAddress
    }

    @inlinable @inline(__always)
    func isValid(_ i: Int) -> Bool {
        guard let bits else { return true }
        let j = offset &+ i
        return bits.load(fromByteOffset: j &>> 3, as: UInt8.self) & (1 &<< UInt8(truncatingIfNeeded: j & 7)) != 0
    }
}

extension ArrayData {
    /// Throws unless buffer `index` exists and holds at least `bytes` bytes.
    func requireBuffer(_ index: Int, bytes: Int, _ what: String) throws(ArrowError) {
        guard index < buffers.count else {
            throw .invalid("\(type) array has \(buffers.count) buffers, no \(what) buffer")
        }
        guard buffers[index].count >= bytes else {
            throw .invalid("\(type) \(what) buffer has \(buffers[index].count) bytes, needs \(bytes)")
        }
    }

    /// Throws unless the window fits in memory arithmetic (as `validate()` also checks).
    func requireSaneWindow() throws(ArrowError) {
        guard length >= 0, offset >= 0, offset <= Int.max / 64 - length else {
            throw .invalid("\(type) array with length \(length) and offset \(offset)")
        }
    }

    /// A slice known to be in bounds (checked by the caller).
    func sliceInBounds(_ start: Int, _ count: Int) -> ArrayData {
        do {
            return try slice(start, count)
        } catch {
            preconditionFailure("slice \(start)..<\(start + count) of an array of \(length): \(error)")
        }
    }
}

@usableFromInline
func checkIndex(_ i: Int, _ length: Int) {
    precondition(UInt(bitPattern: i) < UInt(bitPattern: length), "index \(i) out of range for an array of length \(length)")
}
