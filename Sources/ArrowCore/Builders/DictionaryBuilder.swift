#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a dictionary-encoded array of strings or binary values: each distinct value is
/// stored once in the dictionary, and every slot holds the index of its value.
///
/// Distinct values are found with a hash table (SipHash with a per-process seed, so hostile
/// input cannot force collisions), so an append costs one hash and, for a repeat, one compare.
/// `Index` is the index type (`Int8`...`Int64`, or unsigned); appending a value past the
/// number of distinct values it can count throws.
public final class DictionaryBuilder<Index: ArrowPrimitiveType & FixedWidthInteger>: ValueArrayBuilder {
    /// One value is a `String`.
    public typealias Value = String
    /// The dictionary's type: `utf8`, `large_utf8`, `binary` or `large_binary`.
    public let valueType: DataType
    /// Whether the dictionary's order is meaningful (it is the order of first appearance).
    public let ordered: Bool
    @exclusivity(unchecked) @usableFromInline var indices: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()
    /// The bytes of the distinct values, back to back.
    @exclusivity(unchecked) var valueData: BuilderBytes
    /// Where each distinct value starts in `valueData`, and one entry more for the end.
    @exclusivity(unchecked) var valueStarts: [Int] = [0]
    /// Each distinct value's hash, so the table can grow without hashing again.
    @exclusivity(unchecked) var valueHashes: [Int] = []
    /// Open addressing: entry `k + 1` for distinct value `k`, 0 for an empty slot.
    @exclusivity(unchecked) var table: [Int32]
    let large: Bool

    /// A builder whose dictionary is `valueType` (`utf8` by default). Throws for other types.
    public convenience init(valueType: DataType = .utf8, ordered: Bool = false) throws(ArrowError) {
        switch valueType {
        case .utf8, .largeUtf8, .binary, .largeBinary: break
        default: throw .notSupported("DictionaryBuilder holds utf8 or binary values, not \(valueType); use DictionaryIndexBuilder")
        }
        self.init(unchecked: valueType, ordered: ordered)
    }

    init(unchecked valueType: DataType, ordered: Bool) {
        self.valueType = valueType
        self.ordered = ordered
        large = valueType == .largeUtf8 || valueType == .largeBinary
        indices = BuilderBytes(capacity: 1024 * MemoryLayout<Index>.size)
        valueData = BuilderBytes(capacity: 1024)
        table = [Int32](repeating: 0, count: 64)
    }

    /// `dictionary(index: Index.arrowType, value: valueType, ordered:)`.
    public var type: DataType { .dictionary(index: Index.arrowType, value: valueType, ordered: ordered) }

    /// The number of slots appended since the last `finish()`.
    public var length: Int { validity.length }

    /// The number of null slots appended since the last `finish()`.
    public var nullCount: Int { validity.nullCount }

    /// The number of distinct values in the dictionary so far.
    public var dictionaryCount: Int { valueHashes.count }

    /// Appends a string, encoded as the index of its first appearance.
    public func append(_ value: String) throws(ArrowError) {
        let index = value.withUTF8Bytes { lookUpOrInsert($0) }
        try appendIndex(index)
    }

    /// Appends a string, or a null for nil.
    public func append(_ value: String?) throws(ArrowError) {
        if let value { try append(value) } else { appendNull() }
    }

    /// Appends a value given as bytes, encoded as the index of its first appearance.
    public func append(bytes: UnsafeRawBufferPointer) throws(ArrowError) {
        try appendIndex(lookUpOrInsert(bytes))
    }

    /// Appends a null slot.
    public func appendNull() {
        indices.append(Index.zero)
        validity.appendNull()
    }

    /// The index of `bytes` in the dictionary, inserting it if new; or -1 if it would push the
    /// dictionary past what its index type or its 32-bit offsets can hold.
    private func lookUpOrInsert(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        let hash = hasher.finalize()
        let mask = table.count - 1
        var slot = hash & mask
        while true {
            let entry = Int(table[slot])
            if entry == 0 { break }
            let k = entry - 1
            if valueHashes[k] == hash && equalsValue(k, bytes) { return k }
            slot = (slot + 1) & mask
        }
        let k = valueHashes.count
        guard k < maximumDistinct, large || valueData.count + bytes.count <= Int(Int32.max) else { return -1 }
        valueData.append(contentsOf: bytes)
        valueStarts.append(valueData.count)
        valueHashes.append(hash)
        table[slot] = Int32(truncatingIfNeeded: k + 1)
        // Half full at most, so probes stay short.
        if valueHashes.count * 2 > table.count { rehash(capacity: table.count * 2) }
        return k
    }

    /// The number of distinct values the index type can count, capped where the hash table's
    /// 32-bit entries stop.
    private var maximumDistinct: Int {
        let indexLimit = Index.max > Int32.max ? Int(Int32.max) : Int(Index.max) + 1
        return Swift.min(indexLimit, Int(Int32.max) - 1)
    }

    private func equalsValue(_ k: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = valueStarts[k], end = valueStarts[k + 1]
        guard end - start == bytes.count else { return false }
        guard let other = bytes.baseAddress, bytes.count > 0 else { return true }
        return memcmp(valueData.base + start, other, bytes.count) == 0
    }

    private func rehash(capacity: Int) {
        var fresh = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (k, hash) in valueHashes.enumerated() {
            var slot = hash & mask
            while fresh[slot] != 0 { slot = (slot + 1) & mask }
            fresh[slot] = Int32(truncatingIfNeeded: k + 1)
        }
        table = fresh
    }

    private func appendIndex(_ index: Int) throws(ArrowError) {
        guard index >= 0 else {
            throw .invalid("dictionary of \(Index.arrowType) indices and \(valueType) values is full at \(dictionaryCount) values")
        }
        indices.append(Index(truncatingIfNeeded: index))
        validity.appendValid()
    }

    /// The dictionary built so far, as an array of `valueType`.
    private func takeDictionary() -> ArrayData {
        var offsets = BuilderBytes(capacity: valueStarts.count * (large ? 8 : 4))
        for start in valueStarts {
            if large { offsets.append(Int64(start)) } else { offsets.append(Int32(truncatingIfNeeded: start)) }
        }
        let count = valueHashes.count
        let dictionary = ArrayData(type: valueType, length: count, nullCount: 0,
                                   buffers: [Buffer(), offsets.take(), valueData.take(reserving: 1024)])
        valueStarts = [0]
        valueHashes = []
        table = [Int32](repeating: 0, count: 64)
        return dictionary
    }

    /// Returns the array built so far, with its dictionary, and starts again with an empty
    /// dictionary.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        let dictionary = takeDictionary()
        return ArrayData(type: type, length: count, nullCount: nulls,
                         buffers: [bitmap, indices.take(reserving: 1024 * MemoryLayout<Index>.size)], dictionary: dictionary)
    }
}

/// Builds a dictionary-encoded array of any value type by hand: append the dictionary's values
/// to `values`, and each slot as an index into them. No deduplication is done; for strings
/// and binary values, `DictionaryBuilder` finds repeats itself.
public final class DictionaryIndexBuilder: ArrayBuilder {
    /// The index type, an integer type.
    public let indexType: DataType
    /// Whether the dictionary's order is meaningful.
    public let ordered: Bool
    /// The builder of the dictionary's values.
    public internal(set) var values: any ArrayBuilder
    @exclusivity(unchecked) @usableFromInline var indices: BuilderBytes
    @exclusivity(unchecked) @usableFromInline var validity = BuilderValidity()

    /// A builder of indices of `indexType` into the values of `values`. Throws unless
    /// `indexType` is an integer type.
    public convenience init(indexType: DataType = .int32, ordered: Bool = false, values: any ArrayBuilder) throws(ArrowError) {
        guard indexType.isInteger else { throw .invalid("dictionary index type \(indexType) is not an integer type") }
        self.init(unchecked: indexType, ordered: ordered, values: values)
    }

    init(unchecked indexType: DataType, ordered: Bool, values: any ArrayBuilder) {
        self.indexType = indexType
        self.ordered = ordered
        self.values = values
        indices = BuilderBytes(capacity: 1024 * (indexType.byteWidth ?? 1))
    }

    /// `dictionary(index: indexType, value: values.type, ordered:)`.
    public var type: DataType { .dictionary(index: indexType, value: values.type, ordered: ordered) }

    /// The number of slots appended since the last `finish()`.
    public var length: Int { validity.length }

    /// Appends a slot holding dictionary value `index`. Throws, appending nothing, unless
    /// `index` is one of the values appended so far and fits the index type.
    public func append(index: Int) throws(ArrowError) {
        guard index >= 0 && index < values.length else {
            throw .invalid("dictionary index \(index) is outside the \(values.length) values appended")
        }
        let fits: Bool = switch indexType {
        case .int8: index <= Int(Int8.max)
        case .int16: index <= Int(Int16.max)
        case .int32: index <= Int(Int32.max)
        case .uint8: index <= Int(UInt8.max)
        case .uint16: index <= Int(UInt16.max)
        case .uint32: index <= Int(UInt32.max)
        default: true
        }
        guard fits else { throw .invalid("dictionary index \(index) does not fit \(indexType)") }
        writeIndex(index)
        validity.appendValid()
    }

    private func writeIndex(_ index: Int) {
        switch indexType.byteWidth ?? 0 {
        case 1: indices.append(UInt8(truncatingIfNeeded: index))
        case 2: indices.append(UInt16(truncatingIfNeeded: index))
        case 4: indices.append(UInt32(truncatingIfNeeded: index))
        case 8: indices.append(UInt64(truncatingIfNeeded: index))
        default: break
        }
    }

    /// Appends a null slot.
    public func appendNull() {
        writeIndex(0)
        validity.appendNull()
    }

    /// Returns the array built so far, with `values` finished as its dictionary, and starts again.
    public func finish() -> ArrayData {
        let count = validity.length
        let (bitmap, nulls) = validity.take()
        return ArrayData(type: type, length: count, nullCount: nulls,
                         buffers: [bitmap, indices.take(reserving: 1024 * (indexType.byteWidth ?? 1))],
                         dictionary: values.finish())
    }
}
