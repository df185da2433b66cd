import ArrowCore
import Foundation
import Testing
@testable import Parquet

/// The footers of parquet-testing's files (compared with pyarrow in tests/interop), and
/// untrusted footers: mutated, truncated, hostile Thrift.
struct FooterTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/testdata/parquet-testing").standardized
    static func files(_ folder: String) -> [String] {
        let directory = data.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".parquet") }.sorted().map { directory + "/" + $0 }
    }

    @Test func everyPlainFooterOfTheTestDataReads() throws {
        let paths = Self.files("data")
        #expect(paths.count > 50)
        for path in paths {
            let file = try ParquetFile(path: path)
            // (num_rows and the row groups' sum disagree in some real files: neither is checked.)
            #expect(!file.schema.columns.isEmpty, "\(path)")
        }
    }

    @Test func mutatedAndTruncatedFootersAreErrorsOrRead() throws {
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for path in Self.files("data").prefix(40) {
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            guard original.count > 12 else { continue }
            let footerLength = Int(UInt32(original[original.count - 8]) | UInt32(original[original.count - 7]) << 8
                                   | UInt32(original[original.count - 6]) << 16 | UInt32(original[original.count - 5]) << 24)
            let footerStart = max(4, original.count - 8 - min(footerLength, original.count - 12))
            for round in 0..<60 {
                var bytes = original
                if round % 10 == 9 {
                    bytes.removeSubrange(Int.random(in: footerStart..<(bytes.count - 8), using: &generator)..<(bytes.count - 8))
                } else {
                    for _ in 0..<(1 + round % 4) {
                        bytes[Int.random(in: footerStart..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                    }
                }
                _ = try? ParquetFile(bytes: Buffer(copying: bytes))
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func everyBadFileIsRejectedOrReadWithoutCrashing() {
        for path in Self.files("bad_data") { _ = try? ParquetFile(path: path) }
    }

    @Test func thriftSkipsUnknownFieldsAndRefusesHostileSizes() throws {
        // A KeyValue {1: "k", 2: "v"} with an unknown field 7 (a list of two i32) before field 2,
        // whose id then goes back (the long form of a field header).
        let keyValue: [UInt8] = [0x18, 0x01, 0x6B, 0x69, 0x25, 0x02, 0x04, 0x08, 0x04, 0x01, 0x76, 0x00]
        let decoded = try keyValue.withUnsafeBytes { raw in
            var reader = ThriftCompactReader(raw)
            return try ParquetKeyValue.read(&reader)
        }
        #expect(decoded == ParquetKeyValue(key: "k", value: "v"))
        // A list that claims 2^40 elements, a binary longer than the input, and structs nested 100 deep.
        let hostile: [[UInt8]] = [
            [0x19, 0xF5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00],
            [0x18, 0xFF, 0xFF, 0x03, 0x41],
            Array(repeating: 0x1C, count: 100) + Array(repeating: 0x00, count: 101),
        ]
        for bytes in hostile {
            #expect(throws: ParquetError.self) { try Self.skipStruct(bytes) }
        }
    }

    static func skipStruct(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var reader = ThriftCompactReader(raw)
            try reader.skip(.struct)
        }
    }

    @Test func encryptedFootersAndNonParquetBytesAreClearErrors() {
        for (bytes, message) in [(Array("PAR1xxxxxxxxPARE".utf8), "encrypted"), (Array("hello, world, not parquet".utf8), "PAR1"),
                                 (Array("PAR1".utf8), "at least 12 bytes"), (Array("PAR1\u{0}\u{0}\u{0}\u{0}\u{FF}\u{FF}\u{0}\u{0}PAR1".utf8), "footer claims")] {
            #expect {
                _ = try ParquetFile(bytes: Buffer(copying: bytes))
            } throws: { error in
                (error as? ParquetError)?.message.contains(message) == true
            }
        }
    }
}

/// Page headers and every codec, on the real files: each page decodes to exactly the size its
/// header claims, and the data pages hold the chunk's values.
struct PageTests {
    @Test func everyPageOfTheTestDataDecompresses() throws {
        var pages = 0
        var codecs: Set<ParquetCompression> = []
        for path in FooterTests.files("data") {
            let file = try ParquetFile(path: path)
            for (g, group) in file.metadata.rowGroups.enumerated() {
                for c in group.columns.indices {
                    // large_string_map.brotli.parquet's chunks of a gigabyte decode right but take
                    // minutes in a debug build: they wait for the reader's profiling.
                    guard let meta = group.columns[c].metadata, meta.totalUncompressedSize < 64 << 20 else { continue }
                    let codec = meta.codec
                    do {
                        pages += try file.pages(rowGroup: g, column: c).count
                        codecs.insert(codec)
                    } catch {
                        Issue.record("\(path): row group \(g), column \(c): \(error)")
                    }
                }
            }
        }
        #expect(pages > 1000)
        #expect(codecs.isSuperset(of: [.uncompressed, .snappy, .gzip, .zstd, .lz4, .lz4Raw]))
    }

    @Test func mutatedPagesAreErrorsOrDecodeNeverCrashing() throws {
        var generator = SystemRandomNumberGenerator()
        for name in ["alltypes_plain.snappy.parquet", "concatenated_gzip_members.parquet",
                     "lz4_raw_compressed.parquet", "hadoop_lz4_compressed.parquet", "datapage_v2.snappy.parquet"] {
            let path = FooterTests.data.appendingPathComponent("data/" + name).path
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let footerStart = original.count - 8 - Int(UInt32(original[original.count - 8]) | UInt32(original[original.count - 7]) << 8
                                                        | UInt32(original[original.count - 6]) << 16 | UInt32(original[original.count - 5]) << 24)
            guard footerStart > 4 else { continue }
            for _ in 0..<150 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 4..<footerStart, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                guard let file = try? ParquetFile(bytes: Buffer(copying: bytes)) else { continue }
                for g in file.metadata.rowGroups.indices {
                    for c in file.schema.columns.indices { _ = try? file.pages(rowGroup: g, column: c) }
                }
            }
        }
    }
}

/// Each codec on bytes pyarrow compressed (`pa.compress` of 500 bytes of `parquet pages `
/// repeated), and the claims a decoder must refuse.
struct CodecTests {
    static let plain = Array(String(repeating: "parquet pages ", count: 40).utf8.prefix(500))
    static let compressed: [(ParquetCompression, [UInt8])] = [
            (.brotli, [27, 243, 1, 0, 196, 99, 108, 93, 251, 26, 62, 162, 116, 97, 172, 158, 77, 179, 185, 6, 207, 130, 2]),
            (.snappy, [244, 3, 52, 112, 97, 114, 113, 117, 101, 116, 32, 112, 97, 103, 101, 115, 32, 254, 14, 0, 254, 14, 0, 254, 14, 0, 254, 14, 0, 254, 14, 0, 254, 14, 0, 254, 14, 0, 150, 14, 0]),
            (.gzip, [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 72, 44, 42, 44, 77, 45, 81, 40, 72, 76, 79, 45, 6, 146, 163, 188, 225, 207, 3, 0, 60, 177, 28, 36, 244, 1, 0, 0]),
            (.zstd, [40, 181, 47, 253, 96, 244, 0, 173, 0, 0, 112, 112, 97, 114, 113, 117, 101, 116, 32, 112, 97, 103, 101, 115, 32, 1, 0, 227, 161, 78, 37]),
            (.lz4Raw, [239, 112, 97, 114, 113, 117, 101, 116, 32, 112, 97, 103, 101, 115, 32, 14, 0, 255, 207, 80, 101, 116, 32, 112, 97]),
    ]

    static func decode(_ bytes: [UInt8], _ codec: ParquetCompression, size: Int) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try PageDecompressor.decompress($0, codec: codec, uncompressedSize: size).array }
    }

    @Test func everyCodecDecodesWhatPyarrowCompressed() throws {
        for (codec, bytes) in Self.compressed {
            #expect(try Self.decode(bytes, codec, size: 500) == Self.plain, "\(codec)")
            // A size other than the page's is an error, whichever way it is wrong.
            #expect(throws: ParquetError.self, "\(codec)") { try Self.decode(bytes, codec, size: 499) }
            #expect(throws: ParquetError.self, "\(codec)") { try Self.decode(bytes, codec, size: 501) }
            #expect(throws: ParquetError.self, "\(codec)") { try Self.decode(Array(bytes.dropLast(3)), codec, size: 500) }
        }
        // Claims no codec but Brotli could reach are refused before anything is allocated.
        #expect(throws: ParquetError.self) { try Self.decode([1, 2, 3], .snappy, size: 1 << 30) }
    }
}
