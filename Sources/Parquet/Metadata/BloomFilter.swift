/// A column chunk's split block bloom filter (BloomFilter.md): 32-byte blocks of eight 32-bit
/// words, values hashed with xxHash64 of their PLAIN encoding.
public struct ParquetBloomFilter: Sendable {
    /// The bitset, a whole number of 32-byte blocks.
    public let bitset: [UInt8]

    static let salt: [UInt32] = [0x47b6_137b, 0x4497_4d91, 0x8824_ad5b, 0xa2b7_289d, 0x7054_95c7, 0x2df1_424b, 0x9efc_4947, 0x5c6b_fb31]

    /// Whether a value whose hash is `hash` may be in the chunk (false: it is not).
    public func mayContain(hash: UInt64) -> Bool {
        let blocks = UInt64(bitset.count / 32)
        guard blocks > 0 else { return true }
        let block = Int(((hash >> 32) &* blocks) >> 32)
        let key = UInt32(truncatingIfNeeded: hash)
        return bitset.withUnsafeBytes { raw in
            for i in 0..<8 {
                let word = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: block * 32 + 4 * i, as: UInt32.self))
                let bit = (key &* Self.salt[i]) >> 27
                if word & (1 << bit) == 0 { return false }
            }
            return true
        }
    }

    /// Whether the value with PLAIN encoding `bytes` may be in the chunk.
    public func mayContain(_ bytes: [UInt8]) -> Bool { mayContain(hash: XXHash64.hash(bytes)) }

    /// The filter of `bitsetBytes` bytes made of the hashes of `values` (the writer's).
    static func make(hashes: [UInt64], bytes: Int) -> ParquetBloomFilter {
        var bitset = [UInt8](repeating: 0, count: max(32, bytes / 32 * 32))
        let blocks = UInt64(bitset.count / 32)
        bitset.withUnsafeMutableBytes { raw in
            for hash in hashes {
                let block = Int(((hash >> 32) &* blocks) >> 32)
                let key = UInt32(truncatingIfNeeded: hash)
                for i in 0..<8 {
                    let offset = block * 32 + 4 * i
                    let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) | (1 << ((key &* salt[i]) >> 27))
                    raw.storeBytes(of: word, toByteOffset: offset, as: UInt32.self)
                }
            }
        }
        return ParquetBloomFilter(bitset: bitset)
    }

    /// The header and bitset, as a file holds them.
    func serialized() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.nested { w in
            w.i32(1, Int32(bitset.count))
            w.structure(2) { $0.empty(1) }
            w.structure(3) { $0.empty(1) }
            w.structure(4) { $0.empty(1) }
        }
        return w.bytes + bitset
    }
}

extension ParquetFile {
    /// The bloom filter of a column chunk, when the file has one (and it is not encrypted).
    public func bloomFilter(rowGroup: Int, column: Int) throws(ParquetError) -> ParquetBloomFilter? {
        let chunk = metadata.rowGroups[rowGroup].columns[column]
        guard chunk.crypto == nil, let meta = chunk.metadata, let offset = meta.bloomFilterOffset else { return nil }
        guard offset >= 4, offset < Int64(bytes.count - 8) else { throw ParquetError("a bloom filter at offset \(offset) lies outside the file") }
        var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: bytes.bytes[Int(offset)..<(bytes.count - 8)]))
        var size: Int32?, known = true
        try reader.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .i32): size = try r.readI32()
            case (2, .struct), (3, .struct), (4, .struct):
                // Each a union whose member 1 (block, xxHash, uncompressed) is the only one defined.
                try r.readStruct { r, g throws(ParquetError) in
                    if g.id != 1 { known = false }
                    try r.skip(g.type)
                }
            default: try r.skip(f.type)
            }
        }
        guard known, let size else { return nil }
        let start = Int(offset) + reader.position
        guard size >= 32, size % 32 == 0, Int(size) <= bytes.count - 8 - start else {
            throw ParquetError("a bloom filter claims \(size) bytes at offset \(start)")
        }
        return ParquetBloomFilter(bitset: Array(bytes.bytes[start..<(start + Int(size))]))
    }
}

/// xxHash64 (seed 0), as the bloom filters of Parquet use it.
enum XXHash64 {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) private static func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always) private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotate(acc &+ input &* p2, 31) &* p1
    }

    @inline(__always) private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* p1 &+ p4
    }

    static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    static func hash(_ data: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let n = data.count
        var i = 0
        var h: UInt64
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: data.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func u32(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, u64(i))
                v2 = round(v2, u64(i + 8))
                v3 = round(v3, u64(i + 16))
                v4 = round(v4, u64(i + 24))
                i += 32
            }
            h = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(n)
        while i + 8 <= n {
            h = rotate(h ^ round(0, u64(i)), 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h = rotate(h ^ (u32(i) &* p1), 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h = rotate(h ^ (UInt64(data.load(fromByteOffset: i, as: UInt8.self)) &* p5), 11) &* p1
            i += 1
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }
}
