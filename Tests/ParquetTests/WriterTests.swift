import ArrowCore
import Foundation
import Testing
@testable import Parquet

/// Our writer read back by our reader (pyarrow reads the same output in
/// tests/interop/test_parquet_write.py), and row groups skipped by their statistics.
struct WriterTests {
    static func table(rows: Int) throws -> RecordBatch {
        let ids = PrimitiveBuilder<Int64>()
        let names = StringBuilder()
        for i in 0..<rows {
            ids.append(Int64(i))
            if i % 9 == 0 { names.appendNull() } else { try names.append("name-\(i % 37)") }
        }
        let schema = Schema([Field("id", .int64, nullable: false), Field("name", .utf8)])
        return try RecordBatch(schema: schema, columns: [ids.finish(), names.finish()])
    }

    static func written(_ batch: RecordBatch, _ options: ParquetWriteOptions) throws -> ParquetReader {
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(output: output, schema: batch.schema, options: options)
        try writer.write(try batch.slice(0, batch.length / 3))
        try writer.write(try batch.slice(batch.length / 3, batch.length - batch.length / 3))
        try writer.finish()
        return try ParquetReader(file: ParquetFile(bytes: Buffer(copying: output.bytes)))
    }

    @Test func everyOptionReadsBackEqual() throws {
        let batch = try Self.table(rows: 5000)
        for codec in [ParquetCompression.uncompressed, .snappy, .gzip, .zstd, .lz4Raw, .brotli] {
            for version in [1, 2] {
                for dictionary in [true, false] {
                    let options = ParquetWriteOptions(compression: codec, dataPageVersion: version, dictionary: dictionary,
                                                      dataPageSize: 4096, rowGroupRows: 1700)
                    let reader = try Self.written(batch, options)
                    #expect(reader.file.metadata.rowGroups.count == 3)
                    let table = try reader.readTable()
                    #expect(table.schema.fields.map(\.type) == [.int64, .utf8])
                    var row = 0
                    for read in table.batches {
                        for i in 0..<read.length {
                            #expect(read.columns[0].value(i, as: Int64.self) == batch.columns[0].value(row + i, as: Int64.self))
                            #expect(read.columns[1].isNull(i) == batch.columns[1].isNull(row + i))
                            if !read.columns[1].isNull(i) { #expect(read.columns[1].string(i) == batch.columns[1].string(row + i)) }
                        }
                        row += read.length
                    }
                    #expect(row == 5000, "\(codec) v\(version) \(dictionary)")
                }
            }
        }
    }

    @Test func statisticsSkipRowGroupsThatCannotMatch() throws {
        let reader = try Self.written(try Self.table(rows: 1000), ParquetWriteOptions(rowGroupRows: 100))
        let iterator = try reader.batchIterator(ParquetReadOptions(filter: [.greaterOrEqual("id", .int(950))]))
        #expect(iterator.rowGroups == [9])
        let none = try reader.batchIterator(ParquetReadOptions(filter: [.less("id", .int(0))]))
        #expect(none.rowGroups.isEmpty)
        let some = try reader.batchIterator(ParquetReadOptions(filter: [.isIn("id", [.int(5), .int(550)]), .isNotNull("name")]))
        #expect(some.rowGroups == [0, 5])
        let table = try reader.readTable(ParquetReadOptions(columns: ["name"], filter: [.isIn("id", [.int(5), .int(550)])]))
        #expect(table.rowCount == 2)
        #expect(table.schema.fields.map(\.name) == ["name"])
    }

    @Test func thePageIndexSkipsPagesThatCannotMatch() throws {
        // One row group of 10,000 rows in pages of 500: ids 4,000-4,099 lie in one page.
        let options = ParquetWriteOptions(maxRowsPerPage: 500, rowGroupRows: 100_000)
        let reader = try Self.written(try Self.table(rows: 10_000), options)
        #expect(reader.file.metadata.rowGroups.count == 1)
        let offsets = try #require(try reader.file.offsetIndex(rowGroup: 0, column: 0))
        #expect(offsets.pages.count == 20)
        #expect(offsets.pages.map(\.firstRowIndex) == (0..<20).map { Int64($0 * 500) })
        let index = try #require(try reader.file.columnIndex(rowGroup: 0, column: 0))
        #expect(index.minValues.count == 20 && !index.nullPages.contains(true))
        var iterator = try reader.batchIterator(ParquetReadOptions(filter: [.greaterOrEqual("id", .int(4_000)), .less("id", .int(4_100))]))
        var ids: [Int64] = []
        var skipped = 0
        while let batch = try iterator.nextBatch() {
            for i in 0..<batch.length { ids.append(batch.columns[0].value(i, as: Int64.self)) }
            skipped = iterator.columns.values.map(\.pagesSkipped).max() ?? 0
        }
        #expect(ids == (4_000..<4_100).map { Int64($0) })
        // Of the 8 pages before the match, the first is decoded (it comes with the chunk's
        // dictionary page); the other 7 are passed over unread.
        #expect(skipped == 7)
    }

    @Test func anOffsetIndexThatMisstatesAPageIsAnError() throws {
        let reader = try Self.written(try Self.table(rows: 10_000), ParquetWriteOptions(maxRowsPerPage: 500, rowGroupRows: 100_000))
        var index = try #require(try reader.file.offsetIndex(rowGroup: 0, column: 0))
        // Page 1 holds rows 500..<1000; the index is made to say 500..<900.
        index.pages[2].firstRowIndex = 900
        let column = try LeafColumnReader(file: reader.file, rowGroup: 0, column: 0, keepsDictionary: false)
        column.offsetIndex = index
        #expect(throws: ParquetError.self) { try column.skip(rows: 2_000) }
    }

    @Test func filtersAreParsedFromJSONAndRefusedWhenMalformed() throws {
        let parsed = try ParquetPredicate.parse(json: #"[["a", ">=", 10], ["b", "in", ["x", "y"]], ["c", "is_null"], ["d", "=", 1.5], ["e", "=", true]]"#)
        #expect(parsed == [.greaterOrEqual("a", .int(10)), .isIn("b", [.string("x"), .string("y")]), .isNull("c"),
                           .equal("d", .double(1.5)), .equal("e", .bool(true))])
        for bad in [#"{"a": 1}"#, #"[["a", "~", 1]]"#, #"[["a", ">"]]"#, #"[["a", "in", 3]]"#, "not json"] {
            #expect(throws: ParquetError.self) { try ParquetPredicate.parse(json: bad) }
        }
    }

    @Test func schemasWithoutAParquetFormAreRefused() throws {
        let union = Schema([Field("u", .union(.sparse, [Field("a", .int32)], typeIDs: [0]))])
        #expect(throws: ParquetError.self) { try ParquetWriter(output: ParquetMemoryOutput(), schema: union) }
        let empty = Schema([Field("s", .struct([]))])
        #expect(throws: ParquetError.self) { try ParquetWriter(output: ParquetMemoryOutput(), schema: empty) }
    }
}
