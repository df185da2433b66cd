import ArrowCore
import Foundation
import Testing
@testable import Parquet

/// The reader on untrusted files: parquet-testing's uncompressed files (so that mutations reach
/// the encodings, not only the codecs) with random bytes of their pages changed, or cut short.
/// Each is an error or a table; none crashes or hangs. (Values are compared with pyarrow's in
/// tests/interop/test_parquet_read.py.)
struct ReaderTests {
    static let mutated = [
        "alltypes_plain.parquet", "alltypes_dictionary.parquet", "binary.parquet",
        "byte_array_decimal.parquet", "delta_binary_packed.parquet", "delta_byte_array.parquet",
        "delta_encoding_optional_column.parquet", "delta_encoding_required_column.parquet", "fixed_length_decimal.parquet",
        "int32_with_null_pages.parquet", "map_no_value.parquet", "nullable.impala.parquet", "nonnullable.impala.parquet",
        "plain-dict-uncompressed-checksum.parquet", "repeated_primitive_no_list.parquet", "datapage_v2.snappy.parquet",
        "rle_boolean_encoding.parquet", "nested_lists.snappy.parquet", "float16_nonzeros_and_nans.parquet",
    ]

    static func read(_ bytes: [UInt8], batchSize: Int = 1000, threads: Int = 1) -> Int? {
        guard let file = try? ParquetFile(bytes: Buffer(copying: bytes)), let reader = try? ParquetReader(file: file),
              var batches = try? reader.batchIterator(ParquetReadOptions(batchSize: batchSize, threads: threads)) else { return nil }
        var rows = 0
        do {
            while let batch = try batches.nextBatch() {
                try batch.validate()
                rows += batch.length
            }
        } catch {
            return nil
        }
        return rows
    }

    @Test func mutatedPagesAreErrorsOrTablesNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        var tried = 0, errors = 0
        for name in Self.mutated {
            let path = FooterTests.data.appendingPathComponent("data/" + name).path
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let footerLength = Int(UInt32(original[original.count - 8]) | UInt32(original[original.count - 7]) << 8
                                   | UInt32(original[original.count - 6]) << 16 | UInt32(original[original.count - 5]) << 24)
            let footerStart = original.count - 8 - footerLength
            guard footerStart > 4 else { continue }
            #expect(Self.read(original) != nil, "\(name)")
            for round in 0..<130 {
                var bytes = original
                let changes = round % 3 == 0 ? 1 : Int.random(in: 1...6, using: &generator)
                for _ in 0..<changes {
                    let at = Int.random(in: 4..<footerStart, using: &generator)
                    // Small changes to lengths and levels as well as random bytes.
                    bytes[at] = round % 2 == 0 ? UInt8.random(in: 0...255, using: &generator) : bytes[at] &+ UInt8.random(in: 1...3, using: &generator)
                }
                if Self.read(bytes, batchSize: [3, 100, 1000][round % 3], threads: round % 4 == 1 ? 2 : 1) == nil { errors += 1 }
                tried += 1
            }
        }
        #expect(tried > 2400)
        #expect(errors > 0)
    }

    @Test func truncatedFilesAreErrors() throws {
        for name in Self.mutated.prefix(8) {
            let path = FooterTests.data.appendingPathComponent("data/" + name).path
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            for cut in stride(from: 1, to: original.count - 1, by: max(1, original.count / 40)) {
                #expect(Self.read(Array(original[..<cut])) == nil, "\(name) cut at \(cut)")
            }
        }
    }

    @Test func batchesNeverSpanRowGroupsAndHoldAtMostTheBatchSize() throws {
        let path = FooterTests.data.appendingPathComponent("data/alltypes_tiny_pages.parquet").path
        let reader = try ParquetReader(path: path)
        var iterator = try reader.batchIterator(ParquetReadOptions(columns: ["id", "string_col"], batchSize: 1000))
        var ids: [Int32] = []
        while let batch = try iterator.nextBatch() {
            #expect(batch.length <= 1000)
            #expect(batch.schema.fields.map(\.name) == ["id", "string_col"])
            for i in 0..<batch.length { ids.append(batch.columns[0].value(i, as: Int32.self)) }
        }
        // The file holds the ids 0..<7300 (in another order).
        #expect(ids.sorted() == (0..<7300).map { Int32($0) })
        #expect(Int64(ids.count) == reader.file.metadata.numRows)
    }

    /// The rows of every batch read with `options`, each as its id and name.
    static func rows(_ reader: ParquetReader, _ options: ParquetReadOptions) throws -> [[String]] {
        var iterator = try reader.batchIterator(options)
        var batches: [[String]] = []
        while let batch = try iterator.nextBatch() {
            try batch.validate()
            batches.append(rows(of: batch))
        }
        return batches
    }

    static func rows(of batch: RecordBatch) -> [String] {
        (0..<batch.length).map { i in
            "\(batch.columns[0].value(i, as: Int64.self)) \(batch.columns[1].isNull(i) ? "null" : batch.columns[1].string(i))"
        }
    }

    @Test func twoThreadsReadTheBatchesOneThreadReads() throws {
        // Batches of two threads are read several at a time (see readAheadBytes): the same
        // batches, in the same order, across row groups, pages and a filter's row ranges.
        let reader = try WriterTests.written(try WriterTests.table(rows: 20_000),
                                             ParquetWriteOptions(dataPageSize: 2048, rowGroupRows: 7000))
        for options in [ParquetReadOptions(batchSize: 300), ParquetReadOptions(batchSize: 7000),
                        ParquetReadOptions(batchSize: 64, filter: [.less("id", .int(9000))])] {
            var two = options
            two.threads = 2
            let expected = try Self.rows(reader, options)
            #expect(try Self.rows(reader, two) == expected)
            #expect(expected.joined().count == (options.filter.isEmpty ? 20_000 : 9000))
            // readTable with two threads reads whole row groups at once, in any order; the
            // table keeps the file's.
            #expect(try reader.readTable(two).batches.map(Self.rows(of:)) == expected)
        }
        // Row groups asked for out of order are read in that order.
        var reversed = ParquetReadOptions(rowGroups: [2, 0, 1], batchSize: 7000)
        let one = try reader.readTable(reversed)
        reversed.threads = 2
        let two = try reader.readTable(reversed)
        #expect(two.batches.map { $0.columns[0].value(0, as: Int64.self) } == [14_000, 0, 7000])
        #expect(one.batches.map { $0.columns[0].value(0, as: Int64.self) } == [14_000, 0, 7000])
    }

    @Test func aBadPageAheadIsAnErrorAfterTheBatchesBeforeIt() throws {
        let output = ParquetMemoryOutput()
        let batch = try WriterTests.table(rows: 20_000)
        let writer = try ParquetWriter(output: output, schema: batch.schema, options: ParquetWriteOptions(dataPageSize: 2048))
        try writer.write(batch)
        try writer.finish()
        var bytes = output.bytes
        // The header of a page of the name column well inside the row group is garbage.
        let file = try ParquetFile(bytes: Buffer(copying: bytes))
        let pages = try #require(try file.offsetIndex(rowGroup: 0, column: 1)).pages
        let bad = try #require(pages.first { $0.firstRowIndex >= 12_000 })
        for k in 0..<8 { bytes[Int(bad.offset) + k] = 0xFF }
        let reader = try ParquetReader(file: ParquetFile(bytes: Buffer(copying: bytes)))
        func served(threads: Int) throws -> (rows: Int, error: ParquetError?, again: ParquetError?) {
            var iterator = try reader.batchIterator(ParquetReadOptions(batchSize: 500, threads: threads))
            var rows = 0
            do {
                while let batch = try iterator.nextBatch() { rows += batch.length }
                return (rows, nil, nil)
            } catch {
                var again: ParquetError?
                do { _ = try iterator.nextBatch() } catch let later { again = later }
                return (rows, error, again)
            }
        }
        let one = try served(threads: 1), two = try served(threads: 2)
        #expect(one.error != nil && two.error != nil)
        // Every batch before the bad page's is served first, then the error, and again after.
        #expect(two.rows == one.rows)
        #expect(two.rows >= 11_500 && two.rows <= Int(bad.firstRowIndex))
        #expect(two.again != nil)
    }

    @Test func unknownColumnsAndRowGroupsAreNamed() throws {
        let path = FooterTests.data.appendingPathComponent("data/alltypes_plain.parquet").path
        let reader = try ParquetReader(path: path)
        #expect(throws: ParquetError.self) { try reader.readTable(ParquetReadOptions(columns: ["nope"])) }
        #expect(throws: ParquetError.self) { try reader.readTable(ParquetReadOptions(rowGroups: [5])) }
        #expect(throws: ParquetError.self) { try reader.readTable(ParquetReadOptions(batchSize: 0)) }
    }

    @Test func batchesAreAnAsyncSequence() async throws {
        let path = FooterTests.data.appendingPathComponent("data/alltypes_tiny_pages_plain.parquet").path
        let reader = try ParquetReader(path: path)
        var rows = 0
        for try await batch in reader.batches(ParquetReadOptions(batchSize: 4096)) { rows += batch.length }
        #expect(rows == 7300)
    }
}

/// Encrypted files (values compared in tests/interop/test_parquet_read.py): tampered bytes
/// fail authentication, never crash.
struct EncryptionTests {
    static let keys = ParquetDecryptionKeys(footerKey: Array("0123456789012345".utf8),
                                            columnKeys: ["double_field": Array("1234567890123450".utf8),
                                                         "float_field": Array("1234567890123451".utf8)])

    @Test func tamperedEncryptedFilesAreRefused() throws {
        var generator = SystemRandomNumberGenerator()
        for name in ["encrypt_columns_and_footer.parquet.encrypted", "encrypt_columns_and_footer_ctr.parquet.encrypted",
                     "encrypt_columns_plaintext_footer.parquet.encrypted"] {
            let path = FooterTests.data.appendingPathComponent("data/" + name).path
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let file = try ParquetFile(bytes: Buffer(copying: original), keys: Self.keys)
            #expect(try ParquetReader(file: file).readTable().rowCount > 0)
            var refused = 0
            for _ in 0..<150 {
                var bytes = original
                bytes[Int.random(in: 4..<(bytes.count - 8), using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                guard let file = try? ParquetFile(bytes: Buffer(copying: bytes), keys: Self.keys),
                      (try? ParquetReader(file: file).readTable()) != nil else {
                    refused += 1
                    continue
                }
            }
            // Bytes of modules this reader does not read (the page index) change unnoticed.
            #expect(refused > 50, "\(name)")
        }
    }
}
