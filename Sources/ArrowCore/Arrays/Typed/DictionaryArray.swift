/// A view of a dictionary-encoded array. Elements are the dictionary indices, `Int?`, nil for
/// null slots; `dictionary` holds the values they select.
public struct DictionaryArray: TypedArray, RandomAccessCollection, @unchecked Sendable {
    /// The array this view reads.
    public let data: ArrayData
    /// The dictionary the indices select from.
    public let dictionary: ArrayData
    @usableFromInline let indices: UnsafeRawPointer?
    /// The index type's width in bytes, negated for unsigned types.
    @usableFromInline let indexKind: Int
    @usableFromInline let validity: ValidityBits
    @usableFromInline let count_: Int

    /// A view of `data`; throws unless it is a dictionary array with an integer index type,
    /// an index buffer that covers it, and a dictionary.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard case .dictionary(let index, _, _) = data.type else { throw .mismatch("\(data.type) array is not dictionary-encoded") }
        guard index.isInteger, let width = index.byteWidth else { throw .invalid("dictionary index type \(index)") }
        guard let dictionary = data.dictionary else { throw .invalid("dictionary array without its dictionary") }
        try data.requireSaneWindow()
        try data.requireBuffer(1, bytes: (data.offset + data.length) * width, "indices")
        let unsigned = [DataType.uint8, .uint16, .uint32, .uint64].contains(index)
        self.data = data
        self.dictionary = dictionary
        indexKind = unsigned ? -width : width
        indices = data.buffers[1].baseAddress.map { $0 + data.offset * width }
        validity = try ValidityBits(data)
        count_ = data.length
    }

    /// The first index, 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    @inlinable
    public var endIndex: Int { count_ }

    /// The dictionary index of slot `i`, or nil if the slot is null.
    @inlinable
    public subscript(i: Int) -> Int? {
        checkIndex(i, count_)
        guard validity.isValid(i) else { return nil }
        return index(at: i)
    }

    /// The dictionary index stored in slot `i`, whether or not it is null (checked against the
    /// dictionary's length only for valid slots, as `validate()` checks them).
    @inlinable
    public func index(at i: Int) -> Int {
        checkIndex(i, count_)
        let p = indices.unsafelyUnwrapped
        let k: Int = switch indexKind {
        case 1: Int(p.load(fromByteOffset: i, as: Int8.self))
        case 2: Int(p.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self))
        case 4: Int(p.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self))
        case -1: Int(p.load(fromByteOffset: i, as: UInt8.self))
        case -2: Int(p.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
        case -4: Int(p.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
        default: Int(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
        }
        return k
    }

    /// Whether slot `i` is null (by its index; a valid index may still select a null value).
    @inlinable
    public func isNull(_ i: Int) -> Bool {
        checkIndex(i, count_)
        return !validity.isValid(i)
    }
}
