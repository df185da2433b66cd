import ArrowCore

#if canImport(Glibc)
import Glibc
#endif

/// Times IPC stream reading and writing of one stream file held in memory, and prints one JSON
/// object: the seconds per read and per write, each averaged over as many repetitions as fill
/// `MIN_SECONDS` (default 1). `bench/ipc_bench.py` runs it beside pyarrow on the same bytes.
///
/// Usage: `arrow-bench ipc-stream PATH [MIN_SECONDS]`.
@main
struct ArrowBench {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, arguments[1] == "ipc-stream" else {
            print("usage: arrow-bench ipc-stream PATH [MIN_SECONDS]")
            exit(2)
        }
        let minimum = arguments.count > 3 ? Double(arguments[3]) ?? 1 : 1
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
}
