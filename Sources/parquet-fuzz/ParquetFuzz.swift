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
/// libFuzzer's entry point: scripts/fuzz-parquet.sh --libfuzzer builds this file with
/// -sanitize=fuzzer and -DFUZZING, and links it with libFuzzer's own main.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    readWhole(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
/// A mutation fuzzer of the Parquet reader, run by hand (scripts/fuzz-parquet.sh):
///
///     parquet-fuzz --seconds N --save FILE SEED...   mutate the seed files for N seconds
///     parquet-fuzz FILE...                           read each file as the fuzzer does
///
/// Each input is written to FILE before it is read, so the one that crashed the process is
/// there to replay. Mutations: random bytes, small increments (lengths, levels, bit widths),
/// runs of 0x00 or 0xFF, truncations, and splices of two seeds.
@main
struct ParquetFuzz {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.first == "--seconds", arguments.count >= 4, let seconds = Double(arguments[1]), arguments[2] == "--save" else {
            for path in arguments {
                guard let buffer = try? Buffer(mappingFile: path) else {
                    print("cannot read \(path)")
                    continue
                }
                readWhole(buffer.bytes)
                print("read \(path)")
            }
            return
        }
        let save = arguments[3]
        arguments.removeFirst(4)
        let seeds = arguments.compactMap { try? [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }.filter { $0.count > 12 }
        guard !seeds.isEmpty else {
            print("no seed files")
            exit(64)
        }
        var generator = SystemRandomNumberGenerator()
        let start = Date()
        var runs = 0
        while Date().timeIntervalSince(start) < seconds {
            var bytes = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes[at] &+= UInt8.random(in: 1...4, using: &generator)
                case 2: bytes[at] &-= UInt8.random(in: 1...4, using: &generator)
                case 3:
                    let fill: UInt8 = Bool.random(using: &generator) ? 0 : 0xFF
                    for k in at..<min(bytes.count, at + Int.random(in: 1...8, using: &generator)) { bytes[k] = fill }
                case 4: if bytes.count > 16 { bytes.removeSubrange(Int.random(in: 12..<bytes.count, using: &generator)...) }
                default:
                    let other = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
                    let from = Int.random(in: 0..<other.count, using: &generator)
                    let n = min(Int.random(in: 1...64, using: &generator), other.count - from, bytes.count - at)
                    bytes.replaceSubrange(at..<(at + n), with: other[from..<(from + n)])
                }
            }
            _ = FileManager.default.createFile(atPath: save, contents: Data(bytes))
            bytes.withUnsafeBytes { readWhole($0) }
            runs += 1
        }
        print("\(runs) inputs read in \(Int(seconds)) s, none crashed")
    }
}
#endif
