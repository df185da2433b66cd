/// A growable, 64-byte aligned byte buffer that builders write into and then freeze as a `Buffer`.
///
/// Not shared: a `MutableBuffer` belongs to one builder at a time. `finish()` hands its memory
/// to an immutable `Buffer` without copying.
public struct MutableBuffer: ~Copyable {
    private var allocation: AlignedAllocation
    /// The number of bytes written so far.
    public private(set) var count: Int

    /// An empty buffer with room for `capacity` bytes.
    public init(capacity: Int = 64) {
        allocation = AlignedAllocation(capacity: Swift.max(capacity, 64), zeroed: false)
        count = 0
    }

    /// The number of bytes that fit before the next growth.
    public var capacity: Int { allocation.capacity }

    /// Makes room for at least `capacity` bytes in total.
    public mutating func reserve(_ capacity: Int) {
        guard capacity > allocation.capacity else { return }
        var newCapacity = Swift.max(allocation.capacity, 64)
        while newCapacity < capacity { newCapacity = newCapacity &* 2 }
        let grown = AlignedAllocation(capacity: newCapacity, zeroed: false)
        grown.base.copyMemory(from: allocation.base, byteCount: count)
        allocation = grown
    }

    /// Appends one value's bytes (little-endian on the platforms we run on).
    @inlinable
    public mutating func append<T: BitwiseCopyable>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(count + size)
        pointer.storeBytes(of: value, toByteOffset: count, as: T.self)
        advance(by: size)
    }

    /// Appends raw bytes.
    public mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(count + bytes.count)
        (allocation.base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// The room after the written bytes, up to the capacity, for a writer that fills it in
    /// place (a socket read); `commitWritten(_:)` then counts what it wrote there.
    public var unwrittenTail: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: allocation.base + count, count: allocation.capacity - count)
    }

    /// Counts `n` bytes written in place at the start of `unwrittenTail` (clamped to it).
    public mutating func commitWritten(_ n: Int) {
        count += Swift.min(Swift.max(n, 0), allocation.capacity - count)
    }

    /// Appends the bytes of an array.
    public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(contentsOf: $0) }
    }

    /// Appends `n` zero bytes.
    public mutating func appendZeros(_ n: Int) {
        reserve(count + n)
        (allocation.base + count).initializeMemory(as: UInt8.self, repeating: 0, count: n)
        count += n
    }

    /// Sets or clears bit `index`, growing with zero bytes as needed.
    public mutating func setBit(_ index: Int, _ value: Bool) {
        let byteIndex = index >> 3
        if byteIndex >= count { appendZeros(byteIndex + 1 - count) }
        let mask = UInt8(1) << UInt8(index & 7)
        let old = allocation.base.load(fromByteOffset: byteIndex, as: UInt8.self)
        allocation.base.storeBytes(of: value ? old | mask : old & ~mask, toByteOffset: byteIndex, as: UInt8.self)
    }

    /// Writes `value` at byte `offset` inside the written region.
    public mutating func store<T: BitwiseCopyable>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "store out of range")
        allocation.base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Reads a value at byte `offset` inside the written region.
    public func load<T: BitwiseCopyable>(at offset: Int, as: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "load out of range")
        return allocation.base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Pads with zeros to a multiple of `alignment`.
    public mutating func pad(to alignment: Int) {
        let remainder = count % alignment
        if remainder != 0 { appendZeros(alignment - remainder) }
    }

    @usableFromInline var pointer: UnsafeMutableRawPointer { allocation.base }
    @usableFromInline mutating func advance(by n: Int) { count += n }

    /// The written bytes as a `Buffer` sharing this buffer's memory. Only for owners that append
    /// and never rewrite what they wrote (`store`, `setBit`), which would change the snapshot.
    package func snapshot() -> Buffer {
        Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: count)
    }

    /// Freezes the written bytes and starts again with a new allocation of `capacity` bytes.
    package mutating func takeAndReset(capacity: Int) -> Buffer {
        let written = snapshot()
        allocation = AlignedAllocation(capacity: Swift.max(capacity, 64), zeroed: false)
        count = 0
        return written
    }

    /// Freezes the written bytes into an immutable `Buffer` without copying.
    public consuming func finish() -> Buffer {
        Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: count)
    }
}
