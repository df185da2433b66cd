import ArrowCore
import Testing

/// Inputs that once crashed Arrow C++ readers: each must be rejected with an error (or read),
/// never crash or hang.
@Suite struct IPCFuzzTests {
    @Test func fuzzFilesArePresent() {
        #expect(TestData.fuzzFiles("arrow-ipc-stream").count > 50)
        #expect(TestData.fuzzFiles("arrow-ipc-file").count > 40)
    }

    @Test(arguments: TestData.fuzzFiles("arrow-ipc-stream"))
    func streamFuzzInputIsHandled(_ path: String) throws {
        let buffer = try Buffer(mappingFile: path)
        do {
            var reader = try IPCStreamReader(buffer)
            while let batch = try reader.nextBatch() { try batch.validate() }
        } catch {
            #expect(!error.description.isEmpty)
        }
    }

    @Test(arguments: TestData.fuzzFiles("arrow-ipc-file"))
    func fileFuzzInputIsHandled(_ path: String) throws {
        let buffer = try Buffer(mappingFile: path)
        do {
            let reader = try IPCFileReader(buffer)
            for i in 0..<reader.batchCount { try reader.batch(i).validate() }
        } catch {
            #expect(!error.description.isEmpty)
        }
    }

    @Test func truncatedStreamsAreRejected() throws {
        let name = "generated_primitive"
        let buffer = try Buffer(mappingFile: TestData.gold(name, "stream"))
        var cut = 1
        while cut < buffer.count {
            let prefix = buffer.slice(offset: 0, count: cut)
            _ = try? IPCStreamReader.readAll(prefix)
            cut += 97
        }
    }
}
