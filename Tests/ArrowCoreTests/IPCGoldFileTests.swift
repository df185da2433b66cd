import ArrowCore
import Testing

@Suite struct IPCGoldFileTests {
    @Test func goldCasesArePresent() {
        #expect(TestData.goldCases.count >= 30)
    }

    @Test(arguments: TestData.goldCases)
    func streamAndFileMatchJSON(_ name: String) throws {
        let expected = try IntegrationFile.read(path: TestData.gold(name, "json.gz"))
        let stream = try IPCStreamReader.readAll(try Buffer(mappingFile: TestData.gold(name, "stream")))
        let streamDifference = IntegrationComparison.firstDifference(expected: (expected.schema, expected.batches), actual: stream)
        #expect(streamDifference == nil, "\(name).stream: \(streamDifference ?? "")")

        let file = try IPCFileReader(try Buffer(mappingFile: TestData.gold(name, "arrow_file")))
        let fileDifference = IntegrationComparison.firstDifference(
            expected: (expected.schema, expected.batches), actual: (file.schema, try file.batches()))
        #expect(fileDifference == nil, "\(name).arrow_file: \(fileDifference ?? "")")
    }

    @Test(arguments: TestData.goldCases)
    func ourWritersRoundTrip(_ name: String) throws {
        let expected = try IntegrationFile.read(path: TestData.gold(name, "json.gz"))
        let original = (expected.schema, expected.batches)
        // Big-endian output, read back: every buffer converted both ways.
        let variants: [(CompressionCodec?, Bool)] = [(nil, false), (.lz4Frame, false), (.zstd, false), (nil, true), (.zstd, true)]
        for (compression, bigEndian) in variants {
            let options = IPCWriteOptions(compression: compression, bigEndian: bigEndian)
            let label = "\(String(describing: compression))\(bigEndian ? " big-endian" : "")"
            let stream = try IPCStreamWriter.encode(schema: expected.schema, batches: expected.batches, options: options)
            let fromStream = try IPCStreamReader.readAll(stream)
            let streamDifference = IntegrationComparison.firstDifference(expected: original, actual: fromStream)
            #expect(streamDifference == nil, "\(name) stream \(label): \(streamDifference ?? "")")

            let file = try IPCFileWriter.encode(schema: expected.schema, batches: expected.batches, options: options)
            let reader = try IPCFileReader(file)
            let fileDifference = IntegrationComparison.firstDifference(expected: original, actual: (reader.schema, try reader.batches()))
            #expect(fileDifference == nil, "\(name) file \(label): \(fileDifference ?? "")")
        }
    }

    @Test(arguments: TestData.goldCases)
    func slicedBatchesRoundTrip(_ name: String) throws {
        let expected = try IntegrationFile.read(path: TestData.gold(name, "json.gz"))
        for batch in expected.batches where batch.length >= 3 {
            let sliced = try batch.slice(1, batch.length - 2)
            let stream = try IPCStreamWriter.encode(schema: expected.schema, batches: [sliced])
            let (_, batches) = try IPCStreamReader.readAll(stream)
            #expect(batches.count == 1)
            if let back = batches.first {
                let difference = back.firstDifference(from: sliced)
                #expect(difference == nil, "\(name): \(difference ?? "")")
            }
        }
    }
}
