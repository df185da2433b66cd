import Testing
@testable import ArrowCore

/// The cache of freed large blocks behind `AlignedAllocation` (each test uses its own cache, so
/// that allocations elsewhere in the run do not change what it sees).
@Suite("Block cache")
struct BlockCacheTests {
    @Test func sizeClassesAreQuarterStepsFrom256KiBTo1GiB() throws {
        #expect(BlockCache.sizeClass(of: (1 << 18) - 1) == nil)
        #expect(BlockCache.sizeClass(of: (1 << 30) + 1) == nil)
        let first = try #require(BlockCache.sizeClass(of: 1 << 18))
        #expect(first.size == 1 << 18 && first.index == 0)
        #expect(BlockCache.sizeClass(of: (1 << 18) + 1)?.size == (1 << 18) + (1 << 16))
        #expect(BlockCache.sizeClass(of: (1 << 18) + 1)?.index == 1)
        // Just under a power of two rounds up to it, the first class of the next doubling.
        #expect(BlockCache.sizeClass(of: (1 << 20) - 1)?.size == 1 << 20)
        #expect(BlockCache.sizeClass(of: (1 << 20) - 1)?.index == BlockCache.sizeClass(of: 1 << 20)?.index)
        #expect(BlockCache.sizeClass(of: 1 << 30)?.size == 1 << 30)
        var previous = -1
        var size = 1 << 18
        while size <= 1 << 30 {
            let sizeClass = try #require(BlockCache.sizeClass(of: size))
            #expect(sizeClass.size >= size && sizeClass.size <= size + size / 4)
            #expect(sizeClass.index >= previous)
            previous = sizeClass.index
            size += size / 7
        }
    }

    @Test func aFreedBlockIsUsedAgainBySizeClass() {
        let cache = BlockCache(limit: 64 << 20, retention: 60)
        let (first, size) = cache.allocate(3 << 20)
        #expect(size == 3 << 20)
        cache.deallocate(first, size: size)
        #expect(cache.retainedBytes == 3 << 20)
        // Another request of the same class gets the same block; another class gets a new one.
        let (again, againSize) = cache.allocate((3 << 20) - 1000)
        #expect(again == first && againSize == size)
        #expect(cache.retainedBytes == 0)
        let (other, otherSize) = cache.allocate(1 << 20)
        #expect(other != first)
        cache.deallocate(again, size: againSize)
        cache.deallocate(other, size: otherSize)
        #expect(cache.retainedBytes == (3 << 20) + (1 << 20))
        cache.releaseAll()
        #expect(cache.retainedBytes == 0)
    }

    @Test func smallAndHugeBlocksAreNotKept() {
        let cache = BlockCache(limit: 64 << 20, retention: 60)
        let (small, smallSize) = cache.allocate(4096)
        #expect(smallSize == 4096)
        cache.deallocate(small, size: smallSize)
        #expect(cache.retainedBytes == 0)
    }

    @Test func theLimitBoundsWhatIsKept() {
        let cache = BlockCache(limit: 5 << 20, retention: 60)
        let blocks = (0..<4).map { _ in cache.allocate(2 << 20) }
        for (pointer, size) in blocks { cache.deallocate(pointer, size: size) }
        #expect(cache.retainedBytes == 4 << 20)
        cache.setLimit(2 << 20)
        #expect(cache.retainedBytes == 2 << 20)
        cache.setLimit(0)
        #expect(cache.retainedBytes == 0)
        let (pointer, size) = cache.allocate(2 << 20)
        cache.deallocate(pointer, size: size)
        #expect(cache.retainedBytes == 0)
    }

    @Test func blocksUnusedForTheRetentionPeriodGoBack() async throws {
        let cache = BlockCache(limit: 64 << 20, retention: 0.05)
        let (pointer, size) = cache.allocate(1 << 20)
        cache.deallocate(pointer, size: size)
        #expect(cache.retainedBytes == 1 << 20)
        let deadline = ContinuousClock.now + .seconds(10)
        while cache.retainedBytes > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cache.retainedBytes == 0)
        // The sweep stopped with nothing kept; the next kept block starts it again.
        let (next, nextSize) = cache.allocate(1 << 20)
        cache.deallocate(next, size: nextSize)
        while cache.retainedBytes > 0, ContinuousClock.now < deadline + .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cache.retainedBytes == 0)
    }

    @Test func aZeroedAllocationIsZeroWhenItReusesABlock() {
        for _ in 0..<3 {
            let used = AlignedAllocation(capacity: 1 << 20, zeroed: false)
            used.base.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 1 << 20)
        }
        let fresh = AlignedAllocation(capacity: 1 << 20)
        #expect(Int(bitPattern: fresh.base) % AlignedAllocation.alignment == 0)
        #expect(UnsafeRawBufferPointer(start: fresh.base, count: 1 << 20).allSatisfy { $0 == 0 })
    }
}
