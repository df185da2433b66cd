import ArgumentParser
import Foundation
import ArrowCore
import FlightRPC
#if canImport(Glibc)
import Glibc
#endif

/// Flight throughput benchmark: a synthetic server and clients that measure DoGet and DoPut.
@main
struct FlightBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flight-bench",
        abstract: "Measure Arrow Flight throughput.",
        subcommands: [Serve.self, Get.self, Put.self])
}

/// Four int64 columns a, b, c, d whose values are the row index, like Arrow C++'s benchmark server.
func syntheticBatch(start: Int, rows: Int) throws -> RecordBatch {
    let allocation = AlignedAllocation(capacity: rows * 8, zeroed: false)
    let values = allocation.base.bindMemory(to: Int64.self, capacity: rows)
    for i in 0..<rows { values[i] = Int64(start + i) }
    let buffer = Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: rows * 8)
    let column = ArrayData(type: .int64, length: rows, nullCount: 0, buffers: [Buffer(), buffer])
    let schema = Schema(["a", "b", "c", "d"].map { Field($0, .int64, nullable: false) })
    return try RecordBatch(schema: schema, columns: [column, column, column, column])
}

/// Serves the synthetic stream for any ticket.
struct SyntheticService: FlightService {
    let rows: Int
    let batchRows: Int

    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        var start = 0
        while start < rows {
            let n = min(batchRows, rows - start)
            try await writer.write(try syntheticBatch(start: start, rows: n))
            start += n
        }
    }

    func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        for try await _ in reader {}
    }

    /// Echoes every batch (with its metadata) back, for DoExchange measurements and tests.
    func doExchange(_ reader: FlightRecordBatchReader, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        while let chunk = try await reader.nextChunk() {
            if let batch = chunk.batch {
                try await writer.write(batch, appMetadata: chunk.appMetadata.map { [UInt8]($0.bytes) })
            } else if let metadata = chunk.appMetadata {
                try await writer.writeMetadata([UInt8](metadata.bytes))
            }
        }
    }

    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let schema = try syntheticBatch(start: 0, rows: 0).schema
        return FlightInfo(schema: schema, descriptor: descriptor, endpoints: [FlightEndpoint(ticket: Ticket("synthetic"))],
                          totalRecords: Int64(rows), totalBytes: Int64(rows * 32))
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve a synthetic stream of four int64 columns for any ticket (DoExchange echoes).")

    @Option(help: "The host to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks one; it is printed).") var port = 0
    @Option(help: "Rows per stream.") var rows = 10_000_000
    @Option(help: "Rows per batch.") var batchRows = 65_536

    func run() async throws {
        let server = try FlightServer(service: SyntheticService(rows: rows, batchRows: batchRows),
                                      location: .grpc(host: host, port: port))
        print("listening on \(server.location)")
        fflush(nil)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func report(bytes: Int, seconds: Double, json: Bool, what: String) {
    let gbps = Double(bytes) / seconds / 1e9
    if json {
        print("{\"bytes\": \(bytes), \"seconds\": \(seconds), \"gbps\": \(gbps)}")
    } else {
        print("\(what): \(bytes) bytes in \(String(format: "%.3f", seconds)) s = \(String(format: "%.3f", gbps)) GB/s")
    }
}

func arrayBytes(_ array: ArrayData) -> Int {
    var total = 0
    switch array.type {
    case .int64, .uint64, .float64, .timestamp, .date64, .duration, .time64: total += array.length * 8
    case .int32, .uint32, .float32, .date32, .time32: total += array.length * 4
    default: total += array.buffers.reduce(0) { $0 + $1.count }
    }
    return total + array.children.reduce(0) { $0 + arrayBytes($1) }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "DoGet from any Flight server, in parallel streams, and report throughput.")

    @Option(help: "The server, e.g. grpc://127.0.0.1:31337.") var uri: String
    @Option(help: "Concurrent streams.") var streams = 1
    @Option(help: "The ticket to redeem.") var ticket = "synthetic"
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        // One connection per stream, as separate clients would have.
        var clients: [FlightClient] = []
        for _ in 0..<streams { clients.append(try await FlightClient(location: Location(uri: uri))) }
        let start = now()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in clients {
                group.addTask {
                    var bytes = 0
                    for try await batch in try await client.doGet(Ticket(ticket)) {
                        bytes += batch.columns.reduce(0) { $0 + arrayBytes($1) }
                    }
                    return bytes
                }
            }
            return try await group.reduce(0, +)
        }
        report(bytes: total, seconds: now() - start, json: json, what: "DoGet \(streams) stream(s)")
        for client in clients { client.close() }
    }
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "DoPut synthetic batches to any Flight server and report throughput.")

    @Option(help: "The server, e.g. grpc://127.0.0.1:31337.") var uri: String
    @Option(help: "Concurrent streams.") var streams = 1
    @Option(help: "Rows per stream.") var rows = 10_000_000
    @Option(help: "Rows per batch.") var batchRows = 65_536
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        var clients: [FlightClient] = []
        for _ in 0..<streams { clients.append(try await FlightClient(location: Location(uri: uri))) }
        let batch = try syntheticBatch(start: 0, rows: batchRows)
        let start = now()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for (i, client) in clients.enumerated() {
                group.addTask {
                    let put = try await client.doPut(.path(["bench-\(i)"]))
                    var sent = 0
                    while sent < rows {
                        let n = min(batchRows, rows - sent)
                        try await put.writer.write(n == batchRows ? batch : try batch.slice(0, n))
                        sent += n
                    }
                    _ = try await put.finish()
                    return sent * 32
                }
            }
            return try await group.reduce(0, +)
        }
        report(bytes: total, seconds: now() - start, json: json, what: "DoPut \(streams) stream(s)")
        for client in clients { client.close() }
    }
}
