/// The one physical representation of an Arrow array: a type, a logical window
/// (`offset`, `length`) over buffers, child arrays and, for dictionary types, the dictionary.
///
/// Buffer order follows the Arrow columnar format, with the validity bitmap first for every
/// type except `null` and run-end encoded (which have no buffers):
///
/// | type | buffers |
/// |---|---|
/// | bool, fixed width, fixed-size binary | validity, values |
/// | binary, utf8 (and large) | validity, offsets, data |
/// | binary view, utf8 view | validity, views, variadic data buffers... |
/// | list, large list, map | validity, offsets |
/// | list view, large list view | validity, offsets, sizes |
/// | fixed-size list, struct | validity |
/// | sparse union | (empty) validity, type ids |
/// | dense union | (empty) validity, type ids, offsets |
/// | dictionary | the layout of its index type |
///
/// A validity buffer of zero bytes means every slot is valid. `ArrayData` is immutable and
/// `Sendable`; slicing shares buffers. Arrays built from untrusted input must pass
/// `validate()` before anything reads their values.
public final class ArrayData: Sendable {
    /// The logical type.
    public let type: DataType
    /// The number of slots.
    public let length: Int
    /// The first slot's position in the buffers.
    public let offset: Int
    /// The number of null slots in the window.
    public let nullCount: Int
    /// The buffers, in format order (see the type's documentation).
    public let buffers: [Buffer]
    /// Child arrays of nested types (for dictionaries: none; see `dictionary`).
    public let children: [ArrayData]
    /// The dictionary of a dictionary-encoded array.
    public let dictionary: ArrayData?

    /// Creates array data. No checks are made here; call `validate()` on untrusted input.
    public init(type: DataType, length: Int, offset: Int = 0, nullCount: Int, buffers: [Buffer],
                children: [ArrayData] = [], dictionary: ArrayData? = nil) {
        self.type = type
        self.length = length
        self.offset = offset
        self.nullCount = nullCount
        self.buffers = buffers
        self.children = children
        self.dictionary = dictionary
    }

    /// A zero-copy window of `length` slots starting at slot `start` of this array.
    public func slice(_ start: Int, _ length: Int) throws(ArrowError) -> ArrayData {
        guard start >= 0, length >= 0, start <= self.length - length else {
            throw .invalid("slice \(start)..<\(start + length) is outside an array of length \(self.length)")
        }
        let newOffset = offset + start
        let nulls: Int
        switch type {
        case .null: nulls = length
        case .union, .runEndEncoded: nulls = 0
        default: nulls = nullCount == 0 ? 0 : countNulls(in: buffers[0], offset: newOffset, length: length)
        }
        return ArrayData(type: type, length: length, offset: newOffset, nullCount: nulls, buffers: buffers,
                         children: children, dictionary: dictionary)
    }

    /// Whether slot `i` holds a value (is not null) at this level. Unions and run-end encoded
    /// arrays have no validity of their own; for them this is always true.
    @inlinable
    public func isValid(_ i: Int) -> Bool {
        switch type {
        case .null: return false
        case .union, .runEndEncoded: return true
        default:
            if nullCount == 0 { return true }
            return buffers[0].bit(offset + i)
        }
    }

    /// Whether slot `i` is null at this level.
    @inlinable
    public func isNull(_ i: Int) -> Bool { !isValid(i) }

    /// The value of fixed-width slot `i` read as `T` from the values buffer.
    @inlinable
    public func value<T: BitwiseCopyable>(_ i: Int, as: T.Type) -> T {
        buffers[1].value(at: offset + i, as: T.self)
    }

    /// The bool value of slot `i`.
    @inlinable
    public func boolValue(_ i: Int) -> Bool { buffers[1].bit(offset + i) }

    /// The start and end offsets of variable-length slot `i` (binary, utf8, list and their large forms).
    @inlinable
    public func valueRange(_ i: Int) -> Range<Int> {
        switch type {
        case .largeBinary, .largeUtf8, .largeList:
            let start = Int(buffers[1].value(at: offset + i, as: Int64.self))
            let end = Int(buffers[1].value(at: offset + i + 1, as: Int64.self))
            return start..<end
        case .listView, .largeListView:
            let start: Int, size: Int
            if case .listView = type {
                start = Int(buffers[1].value(at: offset + i, as: Int32.self))
                size = Int(buffers[2].value(at: offset + i, as: Int32.self))
            } else {
                start = Int(buffers[1].value(at: offset + i, as: Int64.self))
                size = Int(buffers[2].value(at: offset + i, as: Int64.self))
            }
            return start..<(start + size)
        case .fixedSizeList(_, let size):
            return (offset + i) * size..<(offset + i + 1) * size
        default:
            let start = Int(buffers[1].value(at: offset + i, as: Int32.self))
            let end = Int(buffers[1].value(at: offset + i + 1, as: Int32.self))
            return start..<end
        }
    }

    /// The bytes of binary-like slot `i` (binary, utf8, their large and view forms, fixed-size binary).
    public func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        switch type {
        case .binaryView, .utf8View:
            let view = buffers[1].bytes.baseAddress.unsafelyUnwrapped + (offset + i) * 16
            let size = Int(view.loadUnaligned(as: Int32.self))
            if size <= 12 { return UnsafeRawBufferPointer(start: view + 4, count: size) }
            let index = Int(view.loadUnaligned(fromByteOffset: 8, as: Int32.self))
            let start = Int(view.loadUnaligned(fromByteOffset: 12, as: Int32.self))
            return UnsafeRawBufferPointer(rebasing: buffers[2 + index].bytes[start..<(start + size)])
        case .fixedSizeBinary(let width):
            return UnsafeRawBufferPointer(rebasing: buffers[1].bytes[(offset + i) * width..<(offset + i + 1) * width])
        default:
            let range = valueRange(i)
            return UnsafeRawBufferPointer(rebasing: buffers[2].bytes[range])
        }
    }

    /// The string in utf8 slot `i` (invalid UTF-8 is repaired with U+FFFD).
    public func string(_ i: Int) -> String {
        String(decoding: bytes(i), as: UTF8.self)
    }

    /// For a union, the type id of slot `i`.
    @inlinable
    public func unionTypeID(_ i: Int) -> Int8 { buffers[1].value(at: offset + i, as: Int8.self) }

    /// For a dense union, the offset of slot `i` into its child.
    @inlinable
    public func unionOffset(_ i: Int) -> Int { Int(buffers[2].value(at: offset + i, as: Int32.self)) }

    /// For a dictionary array, the dictionary index of slot `i`.
    public func dictionaryIndex(_ i: Int) -> Int {
        switch type.storageLayoutType {
        case .int8: Int(value(i, as: Int8.self))
        case .int16: Int(value(i, as: Int16.self))
        case .int32: Int(value(i, as: Int32.self))
        case .int64: Int(value(i, as: Int64.self))
        case .uint8: Int(value(i, as: UInt8.self))
        case .uint16: Int(value(i, as: UInt16.self))
        case .uint32: Int(value(i, as: UInt32.self))
        case .uint64: Int(truncatingIfNeeded: value(i, as: UInt64.self))
        default: 0
        }
    }

    /// For a run-end encoded array, the physical index in the values child of logical slot `i`.
    public func runIndex(_ i: Int) -> Int {
        let ends = children[0]
        let target = offset + i
        var low = 0, high = ends.length - 1
        while low < high {
            let mid = (low + high) / 2
            if ends.integer(mid) > target { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// Slot `i` of an integer array as `Int` (unsigned 64-bit values wrap).
    public func integer(_ i: Int) -> Int {
        switch type.storageLayoutType {
        case .int8: Int(value(i, as: Int8.self))
        case .int16: Int(value(i, as: Int16.self))
        case .int32, .date32, .time32: Int(value(i, as: Int32.self))
        case .uint8: Int(value(i, as: UInt8.self))
        case .uint16: Int(value(i, as: UInt16.self))
        case .uint32: Int(value(i, as: UInt32.self))
        case .uint64: Int(truncatingIfNeeded: value(i, as: UInt64.self))
        default: Int(value(i, as: Int64.self))
        }
    }
}

/// Counts the zero bits in `length` bits of `bitmap` starting at bit `offset`.
func countNulls(in bitmap: Buffer, offset: Int, length: Int) -> Int {
    length - countSetBits(in: bitmap, offset: offset, length: length)
}

/// Counts the one bits in `length` bits of `bitmap` starting at bit `offset`.
/// The caller has checked that the bitmap holds `offset + length` bits.
func countSetBits(in bitmap: Buffer, offset: Int, length: Int) -> Int {
    guard length > 0 else { return 0 }
    var count = 0
    var i = offset
    let end = offset + length
    while i < end && i & 7 != 0 {
        if bitmap.bit(i) { count += 1 }
        i += 1
    }
    let base = bitmap.baseAddress.unsafelyUnwrapped
    while i + 64 <= end {
        count += base.loadUnaligned(fromByteOffset: i >> 3, as: UInt64.self).nonzeroBitCount
        i += 64
    }
    while i + 8 <= end {
        count += base.load(fromByteOffset: i >> 3, as: UInt8.self).nonzeroBitCount
        i += 8
    }
    while i < end {
        if bitmap.bit(i) { count += 1 }
        i += 1
    }
    return count
}
