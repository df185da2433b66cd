/// Reads the bytes of slots of any binary-like layout: 32- or 64-bit offsets, views, or
/// fixed-size values. Shared by `StringArray` and `BinaryArray`.
@usableFromInline
struct ByteSlots: @unchecked Sendable {
    @usableFromInline enum Layout: Sendable {
        case offsets32, offsets64, views
        case fixed(Int)
    }

    @usableFromInline let layout: Layout
    // Pointers into buffers of the `ArrayData` the view holds, which keeps them alive.
    /// Slot 0's offset, view or fixed-size value.
    @usableFromInline let slots: UnsafeRawPointer?
    /// The data buffer of offset layouts.
    @usableFromInline let bytes: UnsafeRawPointer?
    @usableFromInline let byteCount: Int
    /// The buffers a view's buffer index counts from (index 0 is the array's buffer 2).
    @usableFromInline let variadic: [Buffer]

    init(_ data: ArrayData) throws(ArrowError) {
        try data.requireSaneWindow()
        let end = data.offset + data.length
        variadic = data.buffers.count > 2 && (data.type == .utf8View || data.type == .binaryView) ? Array(data.buffers[2...]) : []
        switch data.type {
        case .utf8, .binary, .largeUtf8, .largeBinary:
            let width = data.type == .utf8 || data.type == .binary ? 4 : 8
            layout = width == 4 ? .offsets32 : .offsets64
            try data.requireBuffer(1, bytes: data.length == 0 ? 0 : (end + 1) * width, "offsets")
            try data.requireBuffer(2, bytes: 0, "data")
            slots = data.buffers[1].baseAddress.map { $0 + data.offset * width }
            bytes = data.buffers[2].baseAddress
            byteCount = data.buffers[2].count
        case .utf8View, .binaryView:
            layout = .views
            try data.requireBuffer(1, bytes: end * 16, "views")
            slots = data.buffers[1].baseAddress.map { $0 + data.offset * 16 }
            bytes = nil
            byteCount = 0
        case .fixedSizeBinary(let width):
            guard width >= 0, width == 0 || end <= Int.max / width else {
                throw .invalid("fixed-size binary of width \(width) and \(end) slots")
            }
            layout = .fixed(width)
            try data.requireBuffer(1, bytes: end * width, "values")
            slots = data.buffers[1].baseAddress.map { $0 + data.offset * width }
            bytes = nil
            byteCount = 0
        default:
            throw .mismatch("\(data.type) array is not a binary or string type")
        }
    }

    /// The bytes of slot `i` (in range): where they start, how many, and which buffer holds them
    /// (-1: the offsets layout's data buffer or the views/values buffer itself; k: variadic k).
    @inlinable
    func location(_ i: Int) -> (start: UnsafeRawPointer?, count: Int, buffer: Int) {
        switch layout {
        case .offsets32:
            let start = Int(slots.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
            let end = Int(slots.unsafelyUnwrapped.loadUnaligned(fromByteOffset: (i &+ 1) &* 4, as: Int32.self))
            precondition(start >= 0 && start <= end && end <= byteCount, "offsets \(start)..<\(end) outside \(byteCount) bytes of data; validate() the array")
            return (bytes.map { $0 + start }, end &- start, -1)
        case .offsets64:
            let start = Int(slots.unsafelyUnwrapped.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
            let end = Int(slots.unsafelyUnwrapped.loadUnaligned(fromByteOffset: (i &+ 1) &* 8, as: Int64.self))
            precondition(start >= 0 && start <= end && end <= byteCount, "offsets \(start)..<\(end) outside \(byteCount) bytes of data; validate() the array")
            return (bytes.map { $0 + start }, end &- start, -1)
        case .views:
            let view = slots.unsafelyUnwrapped + i &* 16
            let size = Int(view.loadUnaligned(as: Int32.self))
            if size >= 0 && size <= 12 { return (view + 4, size, -1) }
            let index = Int(view.loadUnaligned(fromByteOffset: 8, as: Int32.self))
            let start = Int(view.loadUnaligned(fromByteOffset: 12, as: Int32.self))
            precondition(size > 0 && index >= 0 && index < variadic.count && start >= 0 && start <= variadic[index].count - size,
                         "view \(i) (size \(size), buffer \(index), offset \(start)) is outside the data; validate() the array")
            return (variadic[index].baseAddress.map { $0 + start }, size, index)
        case .fixed(let width):
            return (slots.map { $0 + i &* width }, width, -1)
        }
    }

    @inlinable
    func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let (start, count, _) = location(i)
        return try body(UnsafeRawBufferPointer(start: count == 0 ? nil : start, count: count))
    }
}

/// A view of a `utf8`, `large_utf8` or `utf8_view` array; elements are `String?`, nil for
/// null slots. Bytes that are not UTF-8 (which `validate()` does not check) read as U+FFFD.
public struct StringArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    @usableFromInline let slots: ByteSlots
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless it is a `utf8`, `large_utf8` or `utf8_view` array whose
    /// offsets or views buffer covers it.
    public init(_ data: ArrayData) throws(ArrowError) {
        switch data.type {
        case .utf8, .largeUtf8, .utf8View: break
        default: throw .mismatch("\(data.type) array is not a string array")
        }
        slots = try ByteSlots(data)
        validity = try ValidityBits(data)
        self.data = data
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The string in slot `i` (a copy), or nil if it is null.
    @inlinable
    public subscript(i: Int) -> String? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return slots.withBytes(i) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of slot `i` without copying them (empty for a null).
    /// The bytes must not escape `body`.
    @inlinable
    public func withUTF8<R>(at i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        checkIndex(i, count_)
        return try withExtendedLifetime(data) { try slots.withBytes(i, body) }
    }

    /// The number of UTF-8 bytes in slot `i`.
    @inlinable
    public func utf8Count(at i: Int) -> Int {
        checkIndex(i, count_)
        return slots.location(i).count
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}

/// A view of a `binary`, `large_binary`, `binary_view` or `fixed_size_binary` array; elements
/// are `Buffer?`, zero-copy slices of the array's memory (kept alive by the buffer), nil for
/// null slots.
public struct BinaryArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    @usableFromInline let slots: ByteSlots
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless it is a binary, large binary, binary view or fixed-size
    /// binary array whose offsets, views or values buffer covers it.
    public init(_ data: ArrayData) throws(ArrowError) {
        switch data.type {
        case .binary, .largeBinary, .binaryView, .fixedSizeBinary: break
        default: throw .mismatch("\(data.type) array is not a binary array")
        }
        slots = try ByteSlots(data)
        validity = try ValidityBits(data)
        self.data = data
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The bytes of slot `i` as a zero-copy buffer, or nil if it is null.
    @inlinable
    public subscript(i: Int) -> Buffer? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return bytes(at: i)
    }

    /// The bytes of slot `i` as a zero-copy buffer, whether or not it is null.
    @inlinable
    public func bytes(at i: Int) -> Buffer {
        checkIndex(i, count_)
        let (start, count, buffer) = slots.location(i)
        let owner: (any BufferOwner)? = switch slots.layout {
        case .offsets32, .offsets64: data.buffers[2].owner
        case .views: buffer >= 0 ? slots.variadic[buffer].owner : data.buffers[1].owner
        case .fixed: data.buffers[1].owner
        }
        return Buffer(owner: owner, baseAddress: count == 0 ? nil : start, count: count)
    }

    /// Calls `body` with the bytes of slot `i` without copying them (empty for a null).
    /// The bytes must not escape `body`.
    @inlinable
    public func withBytes<R>(at i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        checkIndex(i, count_)
        return try withExtendedLifetime(data) { try slots.withBytes(i, body) }
    }

    /// Whether slot `i` is null.
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
