import ArgumentParser
import ClusterCommandLine
import Foundation
import ArrowCore
import FlightManager
import FlightRPC
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Flight throughput benchmark: a synthetic server and clients that measure DoGet and DoPut.
@main
struct FlightBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flight-bench",
        abstract: "Measure Arrow Flight throughput.",
        subcommands: [Serve.self, Get.self, Put.self, Read.self, TCP.self])
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

let syntheticSchema = Schema(["a", "b", "c", "d"].map { Field($0, .int64, nullable: false) })

/// Writes rows `start..<start+count` of the synthetic table in batches of `batchRows`.
func writeSynthetic(start: Int, count: Int, batchRows: Int, _ write: (RecordBatch) async throws -> Void) async throws {
    var next = start
    while next < start + count {
        let n = min(batchRows, start + count - next)
        try await write(try syntheticBatch(start: next, rows: n))
        next += n
    }
}

/// A row range of the synthetic table, as a pull task any node of the cluster runs.
/// Payload: start, count (UInt64 each) and rows per batch (UInt32), big-endian.
struct SyntheticRange: Sendable, Equatable {
    static let kind = "flight-bench.rows"
    var start: Int
    var count: Int
    var batchRows: Int

    var task: PartitionTask {
        var payload: [UInt8] = []
        for (value, width) in [(UInt64(start), 8), (UInt64(count), 8), (UInt64(batchRows), 4)] {
            for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { payload.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return PartitionTask(kind: Self.kind, payload: payload)
    }

    init(start: Int, count: Int, batchRows: Int) {
        self.start = start
        self.count = count
        self.batchRows = batchRows
    }

    init(_ task: PartitionTask) throws(FlightError) {
        guard task.kind == Self.kind, task.payload.count == 20 else { throw FlightError(.invalidArgument, "malformed synthetic range") }
        func field(_ range: Range<Int>) -> UInt64 { task.payload[range].reduce(0) { $0 << 8 | UInt64($1) } }
        let start = field(0..<8), count = field(8..<16), batchRows = field(16..<20)
        guard start < 1 << 48, count < 1 << 48, (1...(1 << 24)).contains(batchRows) else {
            throw FlightError(.invalidArgument, "synthetic range out of bounds")
        }
        self.init(start: Int(start), count: Int(count), batchRows: Int(batchRows))
    }
}

struct SyntheticRunner: PartitionRunner {
    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws {
        let range = try SyntheticRange(task)
        try await writeSynthetic(start: range.start, count: range.count, batchRows: range.batchRows) { try await sink.write($0) }
    }
}

/// The synthetic table split into `partitions` contiguous row ranges (one per member when nil).
struct SyntheticQuery: DistributedQuery {
    let rows: Int
    let batchRows: Int
    let partitions: Int?
    var schema: Schema { syntheticSchema }

    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] {
        let count = max(1, partitions ?? members.count)
        return (0..<count).map { index in
            let start = rows * index / count, end = rows * (index + 1) / count
            return .pull(SyntheticRange(start: start, count: end - start, batchRows: batchRows).task, nodes: [])
        }
    }
}

/// The synthetic schema in `partitions` partitions pushed by other processes (`plan-push`).
struct ExternalQuery: DistributedQuery {
    let partitions: Int
    var schema: Schema { syntheticSchema }

    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] {
        (0..<partitions).map { _ in .external(to: nil) }
    }
}

/// Serves the synthetic stream for any ticket; with a manager, GetFlightInfo plans it as pull
/// partitions served by the cluster's members, and the `plan-push` action plans a result that
/// other processes push (its body: the number of partitions, in decimal; its results: the
/// serialised FlightInfo, then one JSON object per partition with `partition`, `node`,
/// `location` and `descriptor`, the put descriptor's command in base64).
struct SyntheticService: FlightService {
    let rows: Int
    let batchRows: Int
    var manager: (any FlightManager)? = nil
    var partitions: Int? = nil

    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        if let manager, ticket.bytes != Array("synthetic".utf8) {
            return try await manager.stream(ticket, to: writer, context: context)
        }
        try await writeSynthetic(start: 0, count: rows, batchRows: batchRows) { try await writer.write($0) }
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

    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        if action.type == FlightStandardAction.cancelFlightInfo, let manager {
            let status = await manager.cancel(try FlightStandardAction.cancelFlightInfoRequest(action))
            return try await results.send(FlightStandardAction.result(status))
        }
        guard action.type == "plan-push", let manager else {
            throw FlightError(.invalidArgument, "unknown action '\(action.type)'")
        }
        guard let count = Int(String(decoding: action.body, as: UTF8.self)), (1...10_000).contains(count) else {
            throw FlightError(.invalidArgument, "plan-push takes the number of partitions, 1 to 10000")
        }
        let plan = try await manager.plan(ExternalQuery(partitions: count), for: .path(["pushed"]))
        try await results.send(FlightResult(body: plan.info.serializedBytes()))
        for target in plan.pushTargets {
            guard case .command(let bytes) = target.descriptor else { continue }
            let object: [String: Any] = ["partition": target.partition, "node": target.node.id,
                                         "location": target.location?.uri ?? NSNull(), "descriptor": Data(bytes).base64EncodedString()]
            try await results.send(FlightResult(body: [UInt8](try JSONSerialization.data(withJSONObject: object))))
        }
    }

    func listActions(context: FlightCallContext) async throws -> [ActionType] {
        manager == nil ? [] : [ActionType(type: "plan-push", description: "Plan a result pushed by other processes")]
    }

    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        var info: FlightInfo
        if let manager {
            info = try await manager.distribute(SyntheticQuery(rows: rows, batchRows: batchRows, partitions: partitions), for: descriptor)
        } else {
            info = FlightInfo(schema: syntheticSchema, descriptor: descriptor, endpoints: [FlightEndpoint(ticket: Ticket("synthetic"))])
        }
        info.totalRecords = Int64(rows)
        info.totalBytes = Int64(rows * 32)
        return info
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve a synthetic stream of four int64 columns for any ticket (DoExchange echoes).")

    @Option(help: "The host to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks one; it is printed).") var port = 0
    @Option(help: "Rows per stream.") var rows = 10_000_000
    @Option(help: "Rows per batch.") var batchRows = 65_536
    @Option(help: "Split the table into this many pull partitions of contiguous rows (in a cluster: one per member by default).")
    var partitions: Int?
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func validate() throws {
        guard rows >= 0, rows < 1 << 48 else { throw ValidationError("--rows must be 0 to 2^48") }
        guard (1...(1 << 24)).contains(batchRows) else { throw ValidationError("--batch-rows must be 1 to 2^24") }
        if let partitions, !(1...100_000).contains(partitions) { throw ValidationError("--partitions must be 1 to 100000") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "flight-bench")
        let signals = TerminationSignals()
        var service = SyntheticService(rows: rows, batchRows: batchRows)
        var manager: (any FlightManager)?
        if cluster.zookeeper != nil || partitions != nil {
            let planner = try cluster.makeManager(secret: try cluster.secret() ?? BasicAuthenticator.randomSecret(), logger: logger)
            planner.register(SyntheticRunner(), forKind: SyntheticRange.kind)
            service.manager = planner
            service.partitions = partitions
            manager = planner
        }
        let served: any FlightService = if let manager { ClusterService(service, manager: manager) } else { service }
        let server = try FlightServer(service: served, location: .grpc(host: host, port: port))
        let internalServer = try manager.flatMap { try cluster.startInternalEndpoint($0, host: host) }
        if let manager { try await cluster.join(manager, listening: server.location, internal: internalServer?.location) }
        print("listening on \(server.location)")
        fflush(nil)
        _ = await signals.wait()
        if let manager { await cluster.leave(manager) }
        await server.shutdown(grace: .seconds(2))
        await internalServer?.shutdown(grace: .seconds(2))
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
    @Option(name: .customLong("min-seconds"), help: "Repeat the streams until this many seconds have passed.") var minSeconds: Double = 0
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        // One connection per stream, as separate clients would have.
        var clients: [FlightClient] = []
        for _ in 0..<streams { clients.append(try await FlightClient(location: Location(uri: uri))) }
        let start = now()
        var total = 0
        repeat {
            total += try await withThrowingTaskGroup(of: Int.self) { group in
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
        } while now() - start < minSeconds
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
    @Option(name: .customLong("min-seconds"), help: "Repeat the uploads until this many seconds have passed.") var minSeconds: Double = 0
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        var clients: [FlightClient] = []
        for _ in 0..<streams { clients.append(try await FlightClient(location: Location(uri: uri))) }
        let batch = try syntheticBatch(start: 0, rows: batchRows)
        let rows = rows, batchRows = batchRows
        let start = now()
        var total = 0
        repeat {
            total += try await withThrowingTaskGroup(of: Int.self) { group in
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
        } while now() - start < minSeconds
        report(bytes: total, seconds: now() - start, json: json, what: "DoPut \(streams) stream(s)")
        for client in clients { client.close() }
    }
}
