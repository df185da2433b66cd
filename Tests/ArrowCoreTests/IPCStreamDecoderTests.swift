import ArrowCore
import Testing

@Suite struct IPCStreamDecoderTests {
    /// Feeds `stream` in chunks of `size` bytes and collects the schema and batches.
    func decode(_ stream: Buffer, chunkSize size: Int) throws -> (Schema?, [RecordBatch]) {
        let decoder = IPCStreamDecoder()
        var batches: [RecordBatch] = []
        var schema: Schema?
        var position = 0
        while position < stream.count {
            let n = min(size, stream.count - position)
            for event in try decoder.feed(stream.slice(offset: position, count: n)) {
                switch event {
                case .schema(let s): schema = s
                case .batch(let batch, _): batches.append(batch)
                case .dictionary: break
                }
            }
            position += n
        }
        try decoder.finish()
        #expect(decoder.isFinished)
        return (schema, batches)
    }

    @Test(arguments: TestData.goldCases)
    func chunkedBytesDecodeLikeTheWholeStream(_ name: String) throws {
        let stream = try Buffer(mappingFile: TestData.gold(name, "stream"))
        let whole = try IPCStreamReader.readAll(stream)
        for size in [1, 3, 8, 100, 4096, stream.count] {
            let (schema, batches) = try decode(stream, chunkSize: size)
            let difference = IntegrationComparison.firstDifference(expected: whole, actual: (schema ?? whole.schema, batches))
            #expect(schema != nil)
            #expect(difference == nil, "\(name) in chunks of \(size): \(difference ?? "")")
        }
    }

    @Test func aStreamCutInsideAMessageIsAnError() throws {
        let stream = try Buffer(mappingFile: TestData.gold("generated_primitive", "stream"))
        let decoder = IPCStreamDecoder()
        _ = try decoder.feed(stream.slice(offset: 0, count: stream.count / 2))
        #expect(throws: ArrowError.self) { try decoder.finish() }
    }

    @Test func bytesAfterTheEndMarkerAreAnError() throws {
        let stream = try Buffer(mappingFile: TestData.gold("generated_primitive", "stream"))
        let decoder = IPCStreamDecoder()
        _ = try decoder.feed(stream)
        #expect(throws: ArrowError.self) { try decoder.feed(Buffer(copying: [1, 2, 3] as [UInt8])) }
    }

    @Test func aHugeLengthPrefixIsRejectedBeforeAnyAllocation() throws {
        let decoder = IPCStreamDecoder(maximumMessageSize: 1 << 20)
        let prefix: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(throws: ArrowError.self) { try decoder.feed(Buffer(copying: prefix)) }
    }

    @Test(arguments: TestData.fuzzFiles("arrow-ipc-stream"))
    func fuzzInputFedInChunksIsHandled(_ path: String) throws {
        let stream = try Buffer(mappingFile: path)
        do {
            _ = try decode(stream, chunkSize: 61)
        } catch {
            #expect(!String(describing: error).isEmpty)
        }
    }

    @Test func dictionaryDeltasAreAppliedAndWritten() throws {
        // Two batches whose dictionary grows: the writer sends the first dictionary, then a delta.
        let values1 = try IntegrationFile(json: Array(#"""
        {"schema": {"fields": [{"name": "d", "nullable": true, "children": [],
          "type": {"name": "utf8"}, "dictionary": {"id": 0, "indexType": {"name": "int", "isSigned": true, "bitWidth": 8}, "isOrdered": false}}]},
         "dictionaries": [{"id": 0, "data": {"count": 3, "columns": [{"name": "DICT0", "count": 3, "VALIDITY": [1, 1, 1], "OFFSET": [0, 1, 2, 3], "DATA": ["a", "b", "c"]}]}}],
         "batches": [{"count": 2, "columns": [{"name": "d", "count": 2, "VALIDITY": [1, 1], "DATA": [0, 2]}]}]}
        """#.utf8))
        let batch1 = values1.batches[0]
        let column = batch1.columns[0]
        guard let dictionary = column.dictionary else {
            Issue.record("no dictionary")
            return
        }
        let grown = try ArrayData.concatenate([dictionary, try dictionary.slice(0, 2)])
        let column2 = ArrayData(type: column.type, length: 2, nullCount: 0,
                                buffers: [Buffer(), Buffer(values: [Int8(3), Int8(4)])], dictionary: grown)
        let batch2 = try RecordBatch(schema: batch1.schema, columns: [column2])
        let stream = try IPCStreamWriter.encode(schema: batch1.schema, batches: [batch1, batch2])
        let (_, back) = try IPCStreamReader.readAll(stream)
        #expect(back.count == 2)
        #expect(back[0].firstDifference(from: batch1) == nil)
        #expect(back[1].firstDifference(from: batch2) == nil)
        #expect(back[1].columns[0].dictionary?.length == 5)
    }
}
