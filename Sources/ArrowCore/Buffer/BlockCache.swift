import Dispatch
import Synchronization

/// Settings of the memory ArrowCore keeps between allocations.
///
/// Large allocations (256 KiB and more) that ArrowCore frees are kept for a short time and handed
/// to the next allocation of the same size class, instead of going back to the system at once.
/// A block the system gives back must be cleared and faulted in again, page by page, when it is
/// next used: for a reader that builds a table of a gigabyte after another, that costs more
/// than decoding it. A kept block is used again as it is.
///
/// A block kept unused for `retentionSeconds` goes back to the system, and never more than
/// `retainedBytesLimit` bytes are kept, so a process that goes idle returns what it kept.
public enum ArrowMemory {
    /// The most bytes of freed blocks kept for reuse. The default is 1 GiB; 0 keeps none.
    public static var retainedBytesLimit: Int {
        get { BlockCache.shared.limit }
        set { BlockCache.shared.setLimit(newValue) }
    }

    /// How long a freed block is kept when nothing uses it again, in seconds. The default is 1.
    public static var retentionSeconds: Double {
        get { BlockCache.shared.retention }
        set { BlockCache.shared.setRetention(newValue) }
    }

    /// The bytes of freed blocks kept at this moment.
    public static var retainedBytes: Int { BlockCache.shared.retainedBytes }

    /// Gives every kept block back to the system now.
    public static func releaseRetained() { BlockCache.shared.releaseAll() }
}

/// Free lists of large 64-byte aligned blocks by size class, released after a time unused.
///
/// Classes are quarter steps between powers of two (a block is at most 25% larger than asked),
/// from 256 KiB to 1 GiB; other sizes are not kept. Each list is a stack: the block freed last,
/// whose pages are most likely still in cache, is used first, and the oldest sit at the bottom
/// for the sweep to release.
package final class BlockCache: Sendable {
    /// The smallest size kept: below it, the system allocator reuses memory well on its own.
    package static let minimumSize = 1 << 18
    /// The largest size kept.
    package static let maximumSize = 1 << 30

    package static let shared = BlockCache(limit: 1 << 30, retention: 1.0)

    private struct Block {
        var address: UInt
        var freed: ContinuousClock.Instant
    }

    private struct State: ~Copyable {
        var lists: [[Block]]
        var retained = 0
        var limit: Int
        var retention: Double
        var sweepScheduled = false
    }

    private static let classesPerDoubling = 4
    private static let minimumShift = 18
    private static let classCount = (30 - minimumShift) * classesPerDoubling + 1

    private let state: Mutex<State>

    package init(limit: Int, retention: Double) {
        state = Mutex(State(
            lists: Array(repeating: [], count: Self.classCount), limit: Swift.max(limit, 0),
            retention: Swift.max(retention, 0)))
    }

    package var limit: Int { state.withLock { $0.limit } }
    package var retention: Double { state.withLock { $0.retention } }
    package var retainedBytes: Int { state.withLock { $0.retained } }

    package func setLimit(_ limit: Int) {
        state.withLock { $0.limit = Swift.max(limit, 0) }
        trim(olderThan: nil)
    }

    package func setRetention(_ seconds: Double) {
        state.withLock { $0.retention = seconds.isFinite ? Swift.max(seconds, 0) : 0 }
        trim(olderThan: nil)
    }

    /// The size class of `size`: the block size that serves it and its list, or nil when blocks
    /// of this size are not kept.
    package static func sizeClass(of size: Int) -> (size: Int, index: Int)? {
        guard size >= minimumSize, size <= maximumSize else { return nil }
        let shift = Int.bitWidth - 1 - size.leadingZeroBitCount
        let step = 1 << (shift - 2)
        let rounded = (size + step - 1) & ~(step - 1)
        let index = (shift - minimumShift) * classesPerDoubling + (rounded >> (shift - 2)) - classesPerDoubling
        return (rounded, index)
    }

    /// A block of `size` bytes (at least; see `sizeClass(of:)`) and the size to give back with it.
    package func allocate(_ size: Int) -> (UnsafeMutableRawPointer, Int) {
        guard let sizeClass = Self.sizeClass(of: size) else {
            return (.allocate(byteCount: size, alignment: AlignedAllocation.alignment), size)
        }
        let kept: UInt? = state.withLock { state in
            guard let block = state.lists[sizeClass.index].popLast() else { return nil }
            state.retained -= sizeClass.size
            return block.address
        }
        if let kept, let pointer = UnsafeMutableRawPointer(bitPattern: kept) {
            return (pointer, sizeClass.size)
        }
        return (.allocate(byteCount: sizeClass.size, alignment: AlignedAllocation.alignment), sizeClass.size)
    }

    /// Takes back a block that `allocate` gave with `size`; keeps it, or frees it when the cache
    /// is full or blocks of this size are not kept.
    package func deallocate(_ pointer: UnsafeMutableRawPointer, size: Int) {
        guard let sizeClass = Self.sizeClass(of: size), sizeClass.size == size else {
            pointer.deallocate()
            return
        }
        let (kept, schedule): (Bool, Double?) = state.withLock { state in
            guard state.retained + size <= state.limit, state.retention > 0 else { return (false, nil) }
            state.lists[sizeClass.index].append(Block(address: UInt(bitPattern: pointer), freed: .now))
            state.retained += size
            guard !state.sweepScheduled else { return (true, nil) }
            state.sweepScheduled = true
            return (true, state.retention)
        }
        if !kept { pointer.deallocate() }
        if let schedule { scheduleSweep(after: schedule) }
    }

    /// Gives every kept block back to the system.
    package func releaseAll() {
        trim(olderThan: .now + .seconds(1))
    }

    private func scheduleSweep(after seconds: Double) {
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + seconds) { [self] in
            let again: Double? = trim(olderThan: nil, sweeping: true)
            if let again { scheduleSweep(after: again) }
        }
    }

    /// Frees the blocks freed before `cutoff` (before the retention period when nil) and those
    /// over the limit. When `sweeping`, answers when to sweep again (nil: nothing is kept, and
    /// the next kept block schedules a sweep).
    @discardableResult
    private func trim(olderThan cutoff: ContinuousClock.Instant?, sweeping: Bool = false) -> Double? {
        var released: [UInt] = []
        let again: Double? = state.withLock { state in
            let before = cutoff ?? .now - .milliseconds(Int64(state.retention * 1000))
            for index in state.lists.indices where !state.lists[index].isEmpty {
                let stale = state.lists[index].prefix { $0.freed < before }.count
                guard stale > 0 else { continue }
                let size = Self.size(ofClass: index)
                for block in state.lists[index].prefix(stale) { released.append(block.address) }
                state.lists[index].removeFirst(stale)
                state.retained -= stale * size
            }
            // Over the limit (it was lowered): the largest classes go first.
            var index = state.lists.count - 1
            while state.retained > state.limit, index >= 0 {
                let size = Self.size(ofClass: index)
                while state.retained > state.limit, let block = state.lists[index].first {
                    released.append(block.address)
                    state.lists[index].removeFirst()
                    state.retained -= size
                }
                index -= 1
            }
            guard sweeping else { return nil }
            if state.retained == 0 {
                state.sweepScheduled = false
                return nil
            }
            return Swift.max(state.retention, 0.01)
        }
        for address in released { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
        return again
    }

    private static func size(ofClass index: Int) -> Int {
        let shift = index / classesPerDoubling + minimumShift
        let quarter = index % classesPerDoubling
        return (1 << shift) + quarter * (1 << (shift - 2))
    }
}
