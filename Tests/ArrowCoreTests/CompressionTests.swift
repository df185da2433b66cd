import Testing
@testable import ArrowCore

/// A small deterministic generator, so a failing input can be reproduced.
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

private func randomBytes(_ n: Int, seed: UInt64 = 42) -> [UInt8] {
    var generator = SplitMix64(state: seed)
    return generator.bytes(n)
}

/// Column-like data: small integers and runs, the kind of buffer Arrow really compresses.
private func repetitiveBytes(_ n: Int) -> [UInt8] {
    (0..<n).map { UInt8(($0 / 7) % 13) }
}

private func throwsArrowError(_ body: () throws(ArrowError) -> Buffer) -> Bool {
    do {
        _ = try body()
        return false
    } catch {
        return true
    }
}

@Suite("Compression")
struct CompressionTests {
    @Test("both codecs round-trip random and repetitive data of many sizes",
          arguments: CompressionCodec.allCases)
    func roundTrip(codec: CompressionCodec) throws {
        for size in [0, 1, 7, 8, 100, 4096, 65_537, 1 << 20] {
            for data in [randomBytes(size, seed: UInt64(size)), repetitiveBytes(size)] {
                let plain = Buffer(values: data)
                let compressed = try codec.compress(plain)
                let restored = try codec.decompress(compressed, uncompressedLength: size)
                #expect(restored == plain, "\(codec) size \(size)")
                #expect(restored.count == size)
            }
        }
    }

    @Test("repetitive data really shrinks", arguments: CompressionCodec.allCases)
    func repetitiveDataShrinks(codec: CompressionCodec) throws {
        let plain = Buffer(values: repetitiveBytes(1 << 20))
        let compressed = try codec.compress(plain)
        #expect(compressed.count < plain.count / 20)
    }

    @Test("compression levels across and beyond each codec's range round-trip")
    func levels() throws {
        let plain = Buffer(values: repetitiveBytes(10_000) + randomBytes(1_000))
        for codec in CompressionCodec.allCases {
            for level in [Int.min, -5, 0, 1, 3, 9, 12, 19, 22, 1_000, Int.max] {
                let compressed = try codec.compress(plain, level: level)
                #expect(try codec.decompress(compressed, uncompressedLength: plain.count) == plain, "\(codec) level \(level)")
            }
        }
    }

    @Test("a 64 MiB all-zero buffer, near the best real ratio, is within the plausibility bound",
          arguments: CompressionCodec.allCases)
    func allZeroBufferDecompresses(codec: CompressionCodec) throws {
        let plain = Buffer(values: [UInt8](repeating: 0, count: 64 << 20))
        let compressed = try codec.compress(plain)
        #expect(try codec.decompress(compressed, uncompressedLength: plain.count) == plain)
    }

    @Test("garbage input is an ArrowError", arguments: CompressionCodec.allCases)
    func garbage(codec: CompressionCodec) {
        for seed in UInt64(0)..<50 {
            let junk = Buffer(values: randomBytes(Int(seed % 40) + 1, seed: seed))
            #expect(throws: ArrowError.self) { try codec.decompress(junk, uncompressedLength: 100) }
        }
    }

    @Test("every truncation of a frame is an ArrowError", arguments: CompressionCodec.allCases)
    func truncatedFrames(codec: CompressionCodec) throws {
        let data = repetitiveBytes(3_000) + randomBytes(500)
        let compressed = try codec.compress(Buffer(values: data))
        for cut in 0..<compressed.count {
            let truncated = compressed.slice(offset: 0, count: cut)
            #expect(throwsArrowError { () throws(ArrowError) in
                try codec.decompress(truncated, uncompressedLength: data.count)
            }, "\(codec) cut at \(cut) of \(compressed.count)")
        }
    }

    @Test("a length that differs from the data's is an ArrowError", arguments: CompressionCodec.allCases)
    func wrongLengths(codec: CompressionCodec) throws {
        let data = randomBytes(1_000)
        let compressed = try codec.compress(Buffer(values: data))
        for length in [0, 1, 999, 1_001, 2_000, 100_000] {
            #expect(throws: ArrowError.self, "\(codec) length \(length)") {
                try codec.decompress(compressed, uncompressedLength: length)
            }
        }
        #expect(try codec.decompress(compressed, uncompressedLength: 1_000).array == data)
    }

    @Test("implausible lengths are refused before allocating", arguments: CompressionCodec.allCases)
    func implausibleLengths(codec: CompressionCodec) throws {
        let compressed = try codec.compress(Buffer(values: randomBytes(100)))
        for length in [-1, Int.min, CompressionCodec.maximumUncompressedLength + 1, Int.max,
                       compressed.count * codec.maximumCompressionRatio + (1 << 20) + 1] {
            #expect(throws: ArrowError.self, "\(codec) length \(length)") {
                try codec.decompress(compressed, uncompressedLength: length)
            }
        }
    }

    @Test("corrupted frames either fail or give exactly the promised length", arguments: CompressionCodec.allCases)
    func bitFlips(codec: CompressionCodec) throws {
        let data = repetitiveBytes(2_000) + randomBytes(300)
        let frame = try codec.compress(Buffer(values: data)).array
        for position in 0..<frame.count {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupt = frame
                corrupt[position] ^= mask
                do {
                    let result = try codec.decompress(Buffer(values: corrupt), uncompressedLength: data.count)
                    #expect(result.count == data.count)
                } catch {
                    // An ArrowError is the expected outcome; the typed throw guarantees the type.
                }
            }
        }
    }

    @Test("trailing garbage after a complete frame is an ArrowError", arguments: CompressionCodec.allCases)
    func trailingGarbage(codec: CompressionCodec) throws {
        let data = repetitiveBytes(500)
        let frame = try codec.compress(Buffer(values: data)).array
        let extended = Buffer(values: frame + [0x12, 0x34, 0x56, 0x78, 0x9A])
        #expect(throws: ArrowError.self) { try codec.decompress(extended, uncompressedLength: data.count) }
    }

    @Test("concatenated frames decode as one stream", arguments: CompressionCodec.allCases)
    func concatenatedFrames(codec: CompressionCodec) throws {
        let first = repetitiveBytes(700), second = randomBytes(300)
        let joined = try codec.compress(Buffer(values: first)).array + codec.compress(Buffer(values: second)).array
        let restored = try codec.decompress(Buffer(values: joined), uncompressedLength: 1_000)
        #expect(restored.array == first + second)
    }

    @Test("empty input decodes only to an empty buffer", arguments: CompressionCodec.allCases)
    func emptyInput(codec: CompressionCodec) throws {
        #expect(try codec.decompress(Buffer(), uncompressedLength: 0).count == 0)
        #expect(throws: ArrowError.self) { try codec.decompress(Buffer(), uncompressedLength: 1) }
    }

    @Test("the IPC CompressionType values map both ways")
    func ipcCompressionType() {
        #expect(CompressionCodec(ipcCompressionType: 0) == .lz4Frame)
        #expect(CompressionCodec(ipcCompressionType: 1) == .zstd)
        #expect(CompressionCodec(ipcCompressionType: 2) == nil)
        #expect(CompressionCodec.allCases.allSatisfy { CompressionCodec(ipcCompressionType: $0.ipcCompressionType) == $0 })
    }
}

@Suite("Compression IPC buffers")
struct CompressionIPCBufferTests {
    private static func prefixed(_ length: Int64, _ body: [UInt8]) -> Buffer {
        Buffer(values: withUnsafeBytes(of: length.littleEndian) { [UInt8]($0) } + body)
    }

    @Test("a -1 prefix means stored uncompressed, returned as a zero-copy slice", arguments: CompressionCodec.allCases)
    func uncompressedMarker(codec: CompressionCodec) throws {
        let raw = Self.prefixed(-1, [1, 2, 3, 4, 5])
        let decoded = try CompressionCodec.decodeIPCBuffer(raw, codec: codec)
        #expect(decoded.array == [1, 2, 3, 4, 5])
        #expect(decoded.baseAddress == raw.baseAddress.map { $0 + 8 })
        let emptyBody = try CompressionCodec.decodeIPCBuffer(Self.prefixed(-1, []), codec: codec)
        #expect(emptyBody.count == 0)
    }

    @Test("an empty raw buffer stays empty", arguments: CompressionCodec.allCases)
    func emptyStaysEmpty(codec: CompressionCodec) throws {
        #expect(try CompressionCodec.decodeIPCBuffer(Buffer(), codec: codec).count == 0)
        #expect(try CompressionCodec.encodeIPCBuffer(Buffer(), codec: codec).count == 0)
    }

    @Test("a buffer shorter than its prefix or with a length below -1 is an ArrowError",
          arguments: CompressionCodec.allCases)
    func badPrefix(codec: CompressionCodec) {
        for raw in [Buffer(values: [1, 2, 3] as [UInt8]), Self.prefixed(-2, [1, 2]), Self.prefixed(Int64.min, [1]),
                    Self.prefixed(Int64.max, [1, 2, 3]), Self.prefixed(10, [1, 2, 3])] {
            #expect(throws: ArrowError.self) { try CompressionCodec.decodeIPCBuffer(raw, codec: codec) }
        }
    }

    @Test("encode then decode restores the buffer; compressible data is compressed", arguments: CompressionCodec.allCases)
    func encodeDecode(codec: CompressionCodec) throws {
        let plain = Buffer(values: repetitiveBytes(50_000))
        let encoded = try CompressionCodec.encodeIPCBuffer(plain, codec: codec)
        #expect(encoded.load(fromByteOffset: 0, as: Int64.self) == 50_000)
        #expect(encoded.count < plain.count / 10)
        #expect(try CompressionCodec.decodeIPCBuffer(encoded, codec: codec) == plain)
    }

    @Test("incompressible data is stored uncompressed behind -1", arguments: CompressionCodec.allCases)
    func incompressibleStoredPlain(codec: CompressionCodec) throws {
        for size in [1, 10, 5_000] {
            let plain = Buffer(values: randomBytes(size, seed: 7))
            let encoded = try CompressionCodec.encodeIPCBuffer(plain, codec: codec)
            #expect(encoded.count == 8 + size)
            #expect(encoded.load(fromByteOffset: 0, as: Int64.self) == -1)
            #expect(try CompressionCodec.decodeIPCBuffer(encoded, codec: codec) == plain)
        }
    }
}
