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
