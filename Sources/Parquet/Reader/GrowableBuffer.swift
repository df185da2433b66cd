import ArrowCore

/// A 64-byte aligned byte buffer that grows by doubling, written in place and then frozen
/// into a ``Buffer`` without a copy. Not shared: one reader fills it.
final class GrowableBuffer {
    private var allocation: AlignedAllocation
    private(set) var count = 0

    init(capacity: Int = 0) {
        allocation = AlignedAllocation(capacity: Swift.max(capacity, 64), zeroed: false)
    }

    var capacity: Int { allocation.capacity }

    /// The first byte.
    var base: UnsafeMutableRawPointer { allocation.base }

    /// Room for `extra` more bytes after `count`.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > allocation.capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        // Doubling, or exactly what is needed when that is more: a reader that reserves what a
        // page holds must not get twice a gigabyte.
        let capacity = Swift.max(Swift.max(allocation.capacity, 64) * 2, needed)
        let larger = AlignedAllocation(capacity: capacity, zeroed: false)
        larger.base.copyMemory(from: allocation.base, byteCount: count)
        allocation = larger
    }

    /// Where the next byte goes; valid for the bytes reserved.
    @inline(__always)
    var end: UnsafeMutableRawPointer { allocation.base + count }

    /// Counts `n` bytes written at `end` as part of the buffer.
    @inline(__always)
    func advance(_ n: Int) { count += n }

    func append(_ bytes: UnsafeRawPointer, count n: Int) {
        reserve(n)
        end.copyMemory(from: bytes, byteCount: n)
        count += n
    }

    @inline(__always)
    func append<T: BitwiseCopyable>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        end.storeBytes(of: value, as: T.self)
        count += MemoryLayout<T>.size
    }

    func appendZeros(_ n: Int) {
        reserve(n)
        end.initializeMemory(as: UInt8.self, repeating: 0, count: n)
        count += n
    }

    /// Element `i` of the buffer read as `T`.
    @inline(__always)
    func load<T: BitwiseCopyable>(_ i: Int, as: T.Type) -> T {
        allocation.base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)
    }

    /// The bytes written, as an immutable buffer; the growable buffer starts again empty, with
    /// room for as many bytes (the next batch is likely the size of this one).
    func finish() -> Buffer {
        let frozen = Buffer(owner: allocation, baseAddress: allocation.base, count: count)
        allocation = AlignedAllocation(capacity: Swift.max(64, count + count / 8 + 64), zeroed: false)
        count = 0
        return frozen
    }

    /// Forgets the bytes written, keeping the allocation.
    func removeAll() { count = 0 }
}
