import ArrowCore
import Parquet

#if canImport(Glibc)
import Glibc
#endif

/// Times IPC stream reading and writing of one stream file held in memory, and prints one JSON
/// object: the seconds per read and per write, each averaged over as many repetitions as fill
/// `MIN_SECONDS` (default 1). `bench/ipc_bench.py` runs it beside pyarrow on the same bytes.
///
/// Usage: `arrow-bench ipc-stream PATH [MIN_SECONDS]`.
/// `arrow-bench parquet-footer PATH [MIN_SECONDS]` times opening a Parquet file and decoding
/// its footer (`ParquetFile(path:)`), as many times as fill `MIN_SECONDS`.
@main
struct ArrowBench {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, ["ipc-stream", "parquet-footer", "parquet-read", "parquet-write"].contains(arguments[1]) else {
            print("usage: arrow-bench ipc-stream|parquet-footer|parquet-read|parquet-write PATH [MIN_SECONDS] [COLUMNS|CODEC] [THREADS|DICTIONARY]")
            exit(2)
        }
        let minimum = arguments.count > 3 ? Double(arguments[3]) ?? 1 : 1
        if arguments[1] == "parquet-footer" {
            parquetFooter(path: arguments[2], minimum: minimum)
            return
        }
        if arguments[1] == "parquet-write" {
            parquetWrite(path: arguments[2], minimum: minimum, codec: arguments.count > 4 ? arguments[4] : "snappy",
                         dictionary: arguments.count > 5 ? arguments[5] != "off" : true)
            return
        }
        if arguments[1] == "parquet-read" {
            let columns = arguments.count > 4 && !arguments[4].isEmpty ? arguments[4].split(separator: ",").map(String.init) : nil
            let threads = arguments.count > 5 ? Int(arguments[5]) ?? 1 : 1
            parquetRead(path: arguments[2], minimum: minimum, columns: columns, threads: threads)
            return
        }
        do {
            // Read the file into our own memory first so that page faults are not timed.
            let mapped = try Buffer(mappingFile: arguments[2])
            let input = Buffer(copying: mapped.bytes)
            var (schema, batches) = try IPCStreamReader.readAll(input)
            let rows = batches.reduce(0) { $0 + $1.length }
            var reads = 0
            let readStart = now()
            repeat {
                (schema, batches) = try IPCStreamReader.readAll(input)
                reads += 1
            } while now() - readStart < minimum
            let read = (now() - readStart) / Double(reads)

            var writes = 0, outputBytes = 0
            let writeStart = now()
            repeat {
                let output = IPCMemoryOutput()
                let writer = try IPCStreamWriter(output: output, schema: schema)
                for batch in batches { try writer.write(batch) }
                try writer.finish()
                outputBytes = output.count
                writes += 1
            } while now() - writeStart < minimum
            let write = (now() - writeStart) / Double(writes)
            print("{\"bytes\": \(input.count), \"rows\": \(rows), \"read_seconds\": \(read), \"write_seconds\": \(write), \"output_bytes\": \(outputBytes), \"reads\": \(reads), \"writes\": \(writes)}")
        } catch {
            print("arrow-bench: \(error)")
            exit(1)
        }
    }

    /// Reads the whole file (or `columns`) into Arrow memory, as many times as fill `minimum`.
    static func parquetRead(path: String, minimum: Double, columns: [String]?, threads: Int) {
        do {
            let reader = try ParquetReader(path: path)
            // One read first, untimed, as pyarrow's side has had: the file in the page cache
            // and the allocator warm.
            _ = try reader.readTable(ParquetReadOptions(columns: columns, threads: threads))
            var reads = 0, rows = 0
            let start = now()
            repeat {
                let table = try reader.readTable(ParquetReadOptions(columns: columns, threads: threads))
                rows = table.rowCount
                reads += 1
            } while now() - start < minimum
            print("{\"seconds\": \((now() - start) / Double(reads)), \"rows\": \(rows), \"reads\": \(reads)}")
        } catch {
            print("arrow-bench: \(error)")
            exit(1)
        }
    }

    /// Writes the batches of the Arrow IPC file or stream at `path` as Parquet into memory, as
    /// many times as fill `minimum`.
    static func parquetWrite(path: String, minimum: Double, codec: String, dictionary: Bool) {
        let codecs: [String: ParquetCompression] = ["none": .uncompressed, "snappy": .snappy, "zstd": .zstd, "gzip": .gzip,
                                                    "lz4_raw": .lz4Raw, "brotli": .brotli]
        do {
            let mapped = try Buffer(mappingFile: path)
            let input = Buffer(copying: mapped.bytes)
            let (schema, batches) = try IPCStreamReader.readAll(input)
            let options = ParquetWriteOptions(compression: codecs[codec] ?? .snappy, dictionary: dictionary)
            func write() throws -> Int {
                let output = ParquetMemoryOutput()
                let writer = try ParquetWriter(output: output, schema: schema, options: options)
                for batch in batches { try writer.write(batch) }
                try writer.finish()
                return output.count
            }
            var size = try write()
            var writes = 0
            let start = now()
            repeat {
                size = try write()
                writes += 1
            } while now() - start < minimum
            print("{\"seconds\": \((now() - start) / Double(writes)), \"bytes\": \(size), \"writes\": \(writes)}")
        } catch {
            print("arrow-bench: \(error)")
            exit(1)
        }
    }

    static func parquetFooter(path: String, minimum: Double) {
        do {
            var columns = 0, opens = 0
            let start = now()
            repeat {
                columns = try ParquetFile(path: path).schema.columns.count
                opens += 1
            } while now() - start < minimum
            print("{\"seconds\": \((now() - start) / Double(opens)), \"columns\": \(columns), \"opens\": \(opens)}")
        } catch {
            print("arrow-bench: \(error)")
            exit(1)
        }
    }
}
