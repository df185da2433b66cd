/// Growable bytes for builders: a `MutableBuffer` plus a copy of its base pointer and capacity,
/// so that an append inlined into another module is one compare, one store and one add, with no
/// call into `MutableBuffer` until the buffer has to grow.
///
/// `count` runs ahead of `storage.count`; `sync()` brings the buffer up to date before it grows
/// (it copies only what it believes written) and before the bytes are frozen.
///
/// Builder classes mark the properties holding these `@exclusivity(unchecked)`: otherwise every
/// append pays for two runtime exclusivity checks (most of its cost, measured), which the
/// compiler cannot hoist out of a loop past the out-of-line `grow` call. A builder belongs to
/// one task and its methods never hold overlapping accesses to one property, so the checks
/// have nothing to find.
@usableFromInline
struct BuilderBytes: ~Copyable {
    @usableFromInline var storage: MutableBuffer
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    /// The bytes written.
    @usableFromInline var count: Int

    init(capacity: Int = 64) {
        storage = MutableBuffer(capacity: capacity)
        base = storage.pointer
        self.capacity = storage.capacity
        count = 0
    }

    @inlinable @inline(__always)
    mutating func append<T: BitwiseCopyable>(_ value: T) {
        let size = MemoryLayout<T>.size
        if _slowPath(capacity &- count < size) { grow(minimum: count &+ size) }
        base.storeBytes(of: value, toByteOffset: count, as: T.self)
        count &+= size
    }

    @inlinable
    mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if _slowPath(capacity &- count < bytes.count) { grow(minimum: count &+ bytes.count) }
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// Appends `n` copies of the byte `value`.
    mutating func append(repeating value: UInt8, count n: Int) {
        guard n > 0 else { return }
        if capacity - count < n { grow(minimum: count + n) }
        (base + count).initializeMemory(as: UInt8.self, repeating: value, count: n)
        count += n
    }

    /// Makes room for `additional` more bytes, so that many appends do not each check.
    mutating func reserve(additional: Int) {
        if capacity - count < additional { grow(minimum: count + additional) }
    }

    @usableFromInline
    mutating func grow(minimum: Int) {
        sync()
        // Growth at least doubles (MutableBuffer.reserve), which keeps appends amortized O(1).
        storage.reserve(Swift.max(minimum, capacity &* 2))
        base = storage.pointer
        capacity = storage.capacity
    }

    mutating func sync() {
        storage.advance(by: count - storage.count)
    }

    /// A value written earlier, at byte `offset` (inside the written bytes).
    @inlinable
    func load<T: BitwiseCopyable>(at offset: Int, as type: T.Type) -> T {
        base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Overwrites a value written earlier. Only for buffers not yet frozen: a frozen `Buffer`
    /// is never written again.
    @inlinable
    mutating func store<T: BitwiseCopyable>(_ value: T, at offset: Int) {
        base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Freezes the written bytes without copying and starts again, empty, with room for
    /// `capacity` bytes.
    mutating func take(reserving capacity: Int = 64) -> Buffer {
        sync()
        let written = storage.takeAndReset(capacity: capacity)
        base = storage.pointer
        self.capacity = storage.capacity
        count = 0
        return written
    }
}

/// A growable bitmap (LSB numbering, as Arrow numbers bits).
@usableFromInline
struct BuilderBits: ~Copyable {
    @usableFromInline var bytes: BuilderBytes
    /// The number of bits appended.
    @usableFromInline var length: Int

    init(capacity bits: Int = 512) {
        bytes = BuilderBytes(capacity: (bits + 7) / 8)
        length = 0
    }

    @inlinable @inline(__always)
    mutating func append(_ bit: Bool) {
        let position = length
        // A new byte starts zeroed, so only set bits need a write.
        if position & 7 == 0 { bytes.append(UInt8(bit ? 1 : 0)) } else if bit {
            let byte = bytes.load(at: position >> 3, as: UInt8.self)
            bytes.store(byte | (1 &<< UInt8(truncatingIfNeeded: position & 7)), at: position >> 3)
        }
        length = position &+ 1
    }

    /// Appends `n` copies of `bit`.
    mutating func append(_ bit: Bool, count n: Int) {
        guard n > 0 else { return }
        var remaining = n
        while remaining > 0 && length & 7 != 0 {
            append(bit)
            remaining -= 1
        }
        let wholeBytes = remaining >> 3
        bytes.append(repeating: bit ? 0xFF : 0, count: wholeBytes)
        length += wholeBytes * 8
        remaining -= wholeBytes * 8
        while remaining > 0 {
            append(bit)
            remaining -= 1
        }
    }

    /// Freezes the bitmap (`(length + 7) / 8` bytes) and starts again, empty.
    mutating func take() -> Buffer {
        length = 0
        return bytes.take()
    }
}

/// The validity bitmap of a builder, materialized only once a null is appended: until then it
/// is just a count, and a builder that never sees a null writes no bitmap at all.
@usableFromInline
struct BuilderValidity: ~Copyable {
    @usableFromInline var bits: BuilderBits?
    /// The number of slots appended.
    @usableFromInline var length: Int = 0
    /// The number of null slots appended.
    @usableFromInline var nullCount: Int = 0

    init() {}

    @inlinable @inline(__always)
    mutating func appendValid() {
        length &+= 1
        if _slowPath(nullCount != 0) { bits?.append(true) }
    }

    @inlinable
    mutating func appendNull() {
        if nullCount == 0 { materialize() }
        bits?.append(false)
        length &+= 1
        nullCount &+= 1
    }

    @inlinable @inline(__always)
    mutating func append(_ valid: Bool) {
        if valid { appendValid() } else { appendNull() }
    }

    /// Appends `n` slots that are all valid or all null.
    mutating func append(_ valid: Bool, count n: Int) {
        guard n > 0 else { return }
        if !valid && nullCount == 0 { materialize() }
        bits?.append(valid, count: n)
        length += n
        if !valid { nullCount += n }
    }

    @usableFromInline
    mutating func materialize() {
        var fresh = BuilderBits(capacity: Swift.max(length * 2, 512))
        fresh.append(true, count: length)
        bits = consume fresh
    }

    /// The bitmap (empty when there were no nulls) and null count; starts again, empty.
    mutating func take() -> (buffer: Buffer, nullCount: Int) {
        let taken = bits.take()
        let nulls = nullCount
        length = 0
        nullCount = 0
        switch consume taken {
        case .some(var b): return (nulls == 0 ? Buffer() : b.take(), nulls)
        case .none: return (Buffer(), 0)
        }
    }
}
