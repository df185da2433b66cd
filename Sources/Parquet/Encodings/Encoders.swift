import ArrowCore
import Foundation

/// The RLE / bit-packed hybrid encoding: runs of eight or more equal values as RLE runs, the
/// rest bit-packed in groups of eight (the last group padded with zeros).
enum RLEHybridEncoder {
    /// Appends `values`, each of at most `bitWidth` bits (1 to 32: levels and dictionary indices).
    static func encode<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, bitWidth: Int, into out: inout [UInt8]) {
        let n = values.count
        guard n > 0, let v = values.baseAddress else { return }
        let valueBytes = (bitWidth + 7) / 8
        // Bit-packed groups take n * bitWidth / 8 bytes and a header each; runs take less.
        out.reserveCapacity(out.count + (n + 7) / 8 * (bitWidth + 2) + 16)
        var i = 0
        func varint(_ value: Int) {
            var x = UInt64(value)
            while x >= 0x80 {
                out.append(UInt8(x & 0x7F) | 0x80)
                x >>= 7
            }
            out.append(UInt8(x))
        }
        func run(at start: Int) -> Int {
            var end = start + 1
            while end < n && v[end] == v[start] { end += 1 }
            return end - start
        }
        while i < n {
            let repeated = run(at: i)
            if repeated >= 8 {
                varint(repeated << 1)
                let value = UInt64(truncatingIfNeeded: v[i])
                for k in 0..<valueBytes { out.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
                i += repeated
                continue
            }
            // Groups of eight literals until a long run starts at a group's edge.
            let start = i
            var groups = 0
            repeat {
                i += 8
                groups += 1
            } while i < n && groups < (1 << 20) && run(at: i) < 8
            varint(groups << 1 | 1)
            pack(v + start, count: Swift.min(groups * 8, n - start), groups: groups, bitWidth: bitWidth, into: &out)
            i = min(i, n)
        }
    }

    /// Appends `groups` bit-packed groups of eight values, the first `count` from `values` and
    /// the rest zeros: `groups * bitWidth` bytes, least significant bit first.
    private static func pack<T: FixedWidthInteger>(_ values: UnsafePointer<T>, count: Int, groups: Int, bitWidth: Int,
                                                   into out: inout [UInt8]) {
        let start = out.count
        let size = groups * bitWidth
        // Eight bytes of slack: a group of narrow values is stored as one 64-bit word.
        out.append(contentsOf: repeatElement(0, count: size + 8))
        out.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var target = base + start
            if bitWidth <= 8 {
                let width = UInt64(bitWidth)
                let mask: UInt64 = (1 << width) &- 1
                var k = 0
                for _ in 0..<groups {
                    var word: UInt64 = 0
                    if k + 8 <= count {
                        for j in 0..<8 {
                            word |= (UInt64(truncatingIfNeeded: values[k + j]) & mask) << (UInt64(j) &* width)
                        }
                    } else {
                        for j in 0..<Swift.max(count - k, 0) {
                            word |= (UInt64(truncatingIfNeeded: values[k + j]) & mask) << (UInt64(j) &* width)
                        }
                    }
                    target.storeBytes(of: word.littleEndian, as: UInt64.self)
                    target += bitWidth
                    k += 8
                }
                return
            }
            // Wider values (levels and dictionary indices: at most 32 bits) gather in a 64-bit
            // accumulator, stored four bytes at a time.
            let mask: UInt64 = (1 << UInt64(bitWidth)) &- 1
            var accumulator: UInt64 = 0, bits = 0
            for k in 0..<groups * 8 {
                let value = k < count ? UInt64(truncatingIfNeeded: values[k]) & mask : 0
                accumulator |= value << UInt64(bits)
                bits += bitWidth
                if bits >= 32 {
                    target.storeBytes(of: UInt32(truncatingIfNeeded: accumulator).littleEndian, as: UInt32.self)
                    target += 4
                    accumulator >>= 32
                    bits -= 32
                }
            }
            // A group of eight ends on a byte boundary: what is left is whole bytes.
            while bits > 0 {
                target.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), as: UInt8.self)
                target += 1
                accumulator >>= 8
                bits -= 8
            }
        }
        out.removeLast(8)
    }
}

/// A dictionary being built for a column chunk: distinct values in first-seen order (their
/// PLAIN bytes for the dictionary page), found again by an open-addressing hash table.
final class DictionaryEncoder {
    let values: LeafValues
    /// The table: for each slot, the value's index (-1 for an empty slot) and its hash.
    private var slots: UnsafeMutablePointer<Int32>
    private var hashes: UnsafeMutablePointer<UInt64>
    private var capacity: Int
    private let width: Int

    /// An empty dictionary whose table starts with `capacity` slots (a power of two; the table
    /// doubles when half full).
    init(physicalType: ParquetPhysicalType, typeLength: Int, capacity: Int = 1024) {
        values = LeafValues(physicalType: physicalType, typeLength: typeLength, column: "")
        width = values.width
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1, count: capacity)
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
    }

    deinit {
        slots.deallocate()
        hashes.deallocate()
    }

    var count: Int { values.count }

    /// The table's slots now: what the same column's next chunk starts with, so that it does not
    /// grow the table again step by step.
    var tableCapacity: Int { capacity }

    /// The bytes the dictionary page's values take.
    var byteSize: Int { values.isByteArray ? values.values.count + 4 * values.count : values.values.count }

    @inline(__always)
    private static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(n)
        var k = 0
        while k + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0x1000_0000_01b3
            h ^= h >> 29
            k += 8
        }
        var tail: UInt64 = 0
        if k < n && n >= 8 {
            // The last eight bytes, overlapping the words before: one load for the tail.
            tail = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else {
            var shift: UInt64 = 0
            while k < n {
                tail |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << shift
                shift += 8
                k += 1
            }
        }
        h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 32)
    }

    /// The indices of values `start..<start + count` of `source`, each added if new, appended
    /// to `out`. The table is read through locals: this loop runs once per value written.
    func indices(of source: LeafValues, from start: Int, count: Int, into out: inout [Int32]) throws(ParquetError) {
        if !source.isByteArray && source.width == 8 {
            fixedIndices(of: source, from: start, count: count, as: UInt64.self, into: &out)
            return
        }
        if !source.isByteArray && source.width == 4 {
            fixedIndices(of: source, from: start, count: count, as: UInt32.self, into: &out)
            return
        }
        let first = out.count
        out.append(contentsOf: repeatElement(0, count: count))
        let byteArray = source.isByteArray, sourceWidth = source.width
        let data = UnsafeRawPointer(source.values.base)
        let offsets = UnsafeRawPointer(source.offsets.base).assumingMemoryBound(to: Int32.self)
        var slots = self.slots, hashes = self.hashes, mask = capacity - 1
        var known = UnsafeRawPointer(values.values.base)
        var knownOffsets = UnsafeRawPointer(values.offsets.base).assumingMemoryBound(to: Int32.self)
        for k in start..<(start + count) {
            let p: UnsafeRawPointer, n: Int
            if byteArray {
                let begin = Int(offsets[k])
                p = data + begin
                n = Int(offsets[k + 1]) - begin
            } else {
                p = data + k * sourceWidth
                n = sourceWidth
            }
            let h = Self.hash(p, n)
            var slot = Int(truncatingIfNeeded: h) & mask
            var found: Int32 = -1
            while true {
                let existing = slots[slot]
                if existing < 0 { break }
                if hashes[slot] == h {
                    let q: UnsafeRawPointer, m: Int
                    if byteArray {
                        let begin = Int(knownOffsets[Int(existing)])
                        q = known + begin
                        m = Int(knownOffsets[Int(existing) + 1]) - begin
                    } else {
                        q = known + Int(existing) * n
                        m = n
                    }
                    if m == n && Self.equal(p, q, n) {
                        found = existing
                        break
                    }
                }
                slot = (slot + 1) & mask
            }
            if found < 0 {
                found = Int32(values.count)
                if byteArray {
                    try values.appendByteArray(p, count: n)
                } else {
                    values.values.append(p, count: n)
                    values.count += 1
                }
                slots[slot] = found
                hashes[slot] = h
                if values.count * 2 > capacity {
                    grow()
                    slots = self.slots
                    hashes = self.hashes
                    mask = capacity - 1
                }
                known = UnsafeRawPointer(values.values.base)
                knownOffsets = UnsafeRawPointer(values.offsets.base).assumingMemoryBound(to: Int32.self)
            }
            out[first + k - start] = found
        }
    }

    /// ``indices(of:from:count:into:)`` for values of four or eight bytes, compared and
    /// hashed as integers.
    private func fixedIndices<T: FixedWidthInteger & UnsignedInteger & BitwiseCopyable>(of source: LeafValues, from start: Int, count: Int, as: T.Type,
                                                                      into out: inout [Int32]) {
        let first = out.count
        out.append(contentsOf: repeatElement(0, count: count))
        let data = UnsafeRawPointer(source.values.base)
        var slots = self.slots, hashes = self.hashes, mask = capacity - 1
        var known = UnsafeRawPointer(values.values.base)
        out.withUnsafeMutableBufferPointer { target in
            for k in 0..<count {
                let key = data.loadUnaligned(fromByteOffset: (start + k) * MemoryLayout<T>.size, as: T.self)
                var h = UInt64(key) &* 0x9E37_79B9_7F4A_7C15
                h ^= h >> 29
                var slot = Int(truncatingIfNeeded: h) & mask
                var found: Int32 = -1
                while true {
                    let existing = slots[slot]
                    if existing < 0 { break }
                    if hashes[slot] == h && known.loadUnaligned(fromByteOffset: Int(existing) * MemoryLayout<T>.size, as: T.self) == key {
                        found = existing
                        break
                    }
                    slot = (slot + 1) & mask
                }
                if found < 0 {
                    found = Int32(values.count)
                    values.values.append(key)
                    values.count += 1
                    slots[slot] = found
                    hashes[slot] = h
                    if values.count * 2 > capacity {
                        grow()
                        slots = self.slots
                        hashes = self.hashes
                        mask = capacity - 1
                    }
                    known = UnsafeRawPointer(values.values.base)
                }
                target[first + k] = found
            }
        }
    }

    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        switch n {
        case 4: return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
        case 8: return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
        default:
            var k = 0
            while k + 8 <= n {
                if a.loadUnaligned(fromByteOffset: k, as: UInt64.self) != b.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                k += 8
            }
            if k < n && n >= 8 {
                return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            }
            while k < n {
                if a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) { return false }
                k += 1
            }
            return true
        }
    }

    private func grow() {
        let size = capacity * 2
        let newSlots = UnsafeMutablePointer<Int32>.allocate(capacity: size)
        newSlots.initialize(repeating: -1, count: size)
        let newHashes = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        newHashes.initialize(repeating: 0, count: size)
        let newMask = size - 1
        for slot in 0..<capacity where slots[slot] >= 0 {
            var target = Int(truncatingIfNeeded: hashes[slot]) & newMask
            while newSlots[target] >= 0 { target = (target + 1) & newMask }
            newSlots[target] = slots[slot]
            newHashes[target] = hashes[slot]
        }
        slots.deallocate()
        hashes.deallocate()
        slots = newSlots
        hashes = newHashes
        capacity = size
    }
}

/// PLAIN bytes of physical values.
enum PlainEncoder {
    static func encode(_ values: LeafValues, from start: Int, count: Int, into out: inout [UInt8]) {
        switch values.physicalType {
        case .boolean:
            var byte: UInt8 = 0
            for k in 0..<count {
                if values.values.load(start + k, as: UInt8.self) != 0 { byte |= 1 << UInt8(k & 7) }
                if k & 7 == 7 {
                    out.append(byte)
                    byte = 0
                }
            }
            if count & 7 != 0 { out.append(byte) }
        case .byteArray:
            for k in start..<(start + count) {
                let bytes = values.byteArray(k)
                let length = UInt32(bytes.count).littleEndian
                withUnsafeBytes(of: length) { out.append(contentsOf: $0) }
                out.append(contentsOf: bytes)
            }
        default:
            let width = values.width
            out.append(contentsOf: UnsafeRawBufferPointer(start: values.values.base + start * width, count: count * width))
        }
    }
}
