/// An object that keeps a region of memory alive for as long as any `Buffer` refers to it.
///
/// Owners are immutable after creation; the memory they keep is never written again once
/// a `Buffer` has been made over it, which is what makes `Buffer` safe to share across tasks.
public protocol BufferOwner: AnyObject, Sendable {}

/// A 64-byte aligned allocation made by ArrowCore, freed when the last `Buffer` over it goes away.
public final class AlignedAllocation: BufferOwner, @unchecked Sendable {
    /// The first byte of the allocation.
    public let base: UnsafeMutableRawPointer
    /// The allocated size in bytes.
    public let capacity: Int

    /// The alignment of every allocation ArrowCore makes, as the Arrow format recommends.
    public static let alignment = 64

    /// The size of the block behind `base`, which `ArrowMemory` may keep for reuse when freed.
    private let blockSize: Int

    /// Allocates `capacity` bytes (at least one), zero-filled unless `zeroed` is false, in which
    /// case the caller writes every byte before a `Buffer` exposes it.
    ///
    /// Large allocations may reuse a block freed a moment before (see `ArrowMemory`).
    public init(capacity: Int, zeroed: Bool = true) {
        let size = Swift.max(capacity, 1)
        (base, blockSize) = BlockCache.shared.allocate(size)
        if zeroed { base.initializeMemory(as: UInt8.self, repeating: 0, count: size) }
        self.capacity = capacity
    }

    deinit { BlockCache.shared.deallocate(base, size: blockSize) }
}

/// Immutable bytes with an owner.
///
/// A `Buffer` is either an allocation of ours or a slice of memory owned by something else
/// (a received message, a memory-mapped file, a C Data Interface array), kept alive by reference.
/// Slicing never copies. A `Buffer` is a value; copies share the same bytes.
public struct Buffer: @unchecked Sendable {
    /// Keeps `baseAddress` valid.
    public let owner: (any BufferOwner)?
    /// The first byte; valid for `count` bytes while `owner` is alive.
    public let baseAddress: UnsafeRawPointer?
    /// The number of bytes.
    public let count: Int

    /// Wraps memory that `owner` keeps alive. The caller promises the bytes stay unchanged.
    public init(owner: (any BufferOwner)?, baseAddress: UnsafeRawPointer?, count: Int) {
        precondition(count >= 0 && (count == 0 || baseAddress != nil), "invalid buffer")
        self.owner = owner
        self.baseAddress = count == 0 ? nil : baseAddress
        self.count = count
    }

    /// An empty buffer.
    public init() {
        owner = nil
        baseAddress = nil
        count = 0
    }

    /// A new aligned buffer holding a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let allocation = AlignedAllocation(capacity: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            allocation.base.copyMemory(from: source, byteCount: bytes.count)
        }
        self.init(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: bytes.count)
    }

    /// A new aligned buffer holding a copy of `bytes`.
    public init(copying bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Buffer(copying: $0) }
    }

    /// A buffer of `count` values of `T` copied from `values`.
    public init<T: BitwiseCopyable>(values: [T]) {
        self = values.withUnsafeBytes { Buffer(copying: $0) }
    }

    /// The bytes, valid while this buffer (or any copy of it) is alive.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: baseAddress, count: count)
    }

    /// Calls `body` with the bytes, keeping the owner alive for the duration.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeRawBufferPointer(start: baseAddress, count: count)) }
    }

    /// A zero-copy view of `count` bytes from `offset`. Traps if the range is outside the buffer:
    /// callers check ranges that come from input first (see `checkedSlice`).
    public func slice(offset: Int, count: Int) -> Buffer {
        precondition(offset >= 0 && count >= 0 && offset <= self.count - count, "buffer slice out of range")
        return Buffer(owner: owner, baseAddress: baseAddress.map { $0 + offset }, count: count)
    }

    /// A zero-copy view of `count` bytes from `offset`, or an error naming `what` if the range
    /// is outside the buffer.
    public func checkedSlice(offset: Int, count: Int, what: @autoclosure () -> String) throws(ArrowError) -> Buffer {
        guard offset >= 0, count >= 0, offset <= self.count, count <= self.count - offset else {
            throw ArrowError.invalid("\(what()): range \(offset)..<\(offset &+ count) is outside a buffer of \(self.count) bytes")
        }
        return slice(offset: offset, count: count)
    }

    /// Reads a little-endian `T` at byte `offset` without an alignment requirement.
    /// The caller has checked `offset + MemoryLayout<T>.size <= count`.
    @inlinable
    public func load<T: BitwiseCopyable>(fromByteOffset offset: Int, as type: T.Type) -> T {
        baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Reads the `index`-th value of `T`. The caller has checked the bounds.
    @inlinable
    public func value<T: BitwiseCopyable>(at index: Int, as type: T.Type) -> T {
        baseAddress.unsafelyUnwrapped.loadUnaligned(fromByteOffset: index &* MemoryLayout<T>.stride, as: T.self)
    }

    /// Whether bit `index` is set (LSB numbering). The caller has checked the bounds.
    @inlinable
    public func bit(_ index: Int) -> Bool {
        let byte = baseAddress.unsafelyUnwrapped.load(fromByteOffset: index >> 3, as: UInt8.self)
        return byte & (1 << UInt8(index & 7)) != 0
    }

    /// The bytes as an array (a copy).
    public var array: [UInt8] { [UInt8](bytes) }
}

extension Buffer: Equatable {
    /// Byte-wise equality of contents.
    public static func == (lhs: Buffer, rhs: Buffer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 || lhs.baseAddress == rhs.baseAddress { return true }
        guard let l = lhs.baseAddress, let r = rhs.baseAddress else { return false }
        return withExtendedLifetime((lhs.owner, rhs.owner)) { memcmp(l, r, lhs.count) == 0 }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
