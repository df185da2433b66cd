import ArrowCore

#if canImport(Glibc)
import Glibc
#endif

/// Times IPC stream reading and writing of one stream file held in memory, and prints one JSON
/// object. `bench/ipc_bench.py` runs it beside pyarrow on the same bytes.
///
/// Usage: `arrow-bench ipc-stream PATH [ITERATIONS]`.
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
            print("usage: arrow-bench ipc-stream PATH [ITERATIONS]")
            exit(2)
        }
        let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3
        do {
            // Read the file into our own memory first so that page faults are not timed.
            let mapped = try Buffer(mappingFile: arguments[2])
            let input = Buffer(copying: mapped.bytes)
            var bestRead = Double.infinity, bestWrite = Double.infinity
            var rows = 0, outputBytes = 0
            for _ in 0..<iterations {
                let start = now()
                let (schema, batches) = try IPCStreamReader.readAll(input)
                let read = now() - start
                rows = batches.reduce(0) { $0 + $1.length }

                let writeStart = now()
                let output = IPCMemoryOutput()
                let writer = try IPCStreamWriter(output: output, schema: schema)
                for batch in batches { try writer.write(batch) }
                try writer.finish()
                let write = now() - writeStart
                outputBytes = output.count
                bestRead = min(bestRead, read)
                bestWrite = min(bestWrite, write)
            }
            print("{\"bytes\": \(input.count), \"rows\": \(rows), \"read_seconds\": \(bestRead), \"write_seconds\": \(bestWrite), \"output_bytes\": \(outputBytes)}")
        } catch {
            print("arrow-bench: \(error)")
            exit(1)
        }
    }
}
