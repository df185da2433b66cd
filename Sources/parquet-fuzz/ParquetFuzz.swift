import ArrowCore
import Foundation
import Parquet

/// Reads `bytes` as a Parquet file to its last batch, with and without a filter. A bad file
/// is an error; anything else it does (a crash, a hang, memory without bound) is a bug.
func readWhole(_ bytes: UnsafeRawBufferPointer) {
    guard let file = try? ParquetFile(bytes: Buffer(copying: bytes)), let reader = try? ParquetReader(file: file) else { return }
    for options in [ParquetReadOptions(batchSize: 1000), ParquetReadOptions(batchSize: 7, threads: 2)] {
        guard var batches = try? reader.batchIterator(options) else { return }
        while let batch = try? batches.nextBatch() {
            // A batch the reader returns must be valid Arrow: one that is not is a finding.
            if (try? batch.validate()) == nil { abort() }
        }
    }
    if let first = reader.schema.fields.first,
       var filtered = try? reader.batchIterator(ParquetReadOptions(filter: [.isNotNull(first.name)])) {
        while (try? filtered.nextBatch()) != nil {}
    }
}

#if FUZZING
/// libFuzzer's entry point (built by scripts/fuzz-parquet.sh with -sanitize=fuzzer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    readWhole(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
/// Replays files (a fuzzer's corpus or its crashes) through what the fuzzer runs:
/// `parquet-fuzz FILE...`.
@main
struct ParquetFuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let buffer = try? Buffer(mappingFile: path) else {
                print("cannot read \(path)")
                continue
            }
            readWhole(buffer.bytes)
            print("read \(path)")
        }
    }
}
#endif
