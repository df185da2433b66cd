import ArrowCore
import Foundation
import Parquet
import Testing

@testable import FlightDataSource
@testable import FlightRPC

/// Serves tickets `E:N:R`: endpoint E's N batches of R int64 rows, E * 1,000,000 + row. A
/// server made with `breakingAfter: K` fails each stream with UNAVAILABLE after K batches, as
/// a node that dies mid-read does.
struct SequenceService: FlightService {
    let breakingAfter: Int?

    init(breakingAfter: Int? = nil) { self.breakingAfter = breakingAfter }

    static let schema = Schema([Field("x", .int64, nullable: false)])

    static func ticket(_ endpoint: Int, batches: Int, rows: Int) -> Ticket { Ticket("\(endpoint):\(batches):\(rows)") }

    static func batch(endpoint: Int, index: Int, rows: Int) throws -> RecordBatch {
        var values = MutableBuffer(capacity: rows * 8)
        for i in 0..<rows { values.append(Int64(endpoint * 1_000_000 + index * rows + i)) }
        return try RecordBatch(schema: schema, columns: [ArrayData(type: .int64, length: rows, nullCount: 0, buffers: [Buffer(), values.finish()])])
    }

    /// RenewFlightEndpoint: an endpoint whose ticket starts `expired:` comes back with the rest
    /// of it as its ticket, valid for an hour.
    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        guard action.type == FlightStandardAction.renewFlightEndpoint else { throw FlightError(.unimplemented, action.type) }
        var endpoint = try FlightStandardAction.renewFlightEndpointRequest(action)
        let text = String(decoding: endpoint.ticket.bytes, as: UTF8.self)
        endpoint.ticket = Ticket(String(text.dropFirst(text.hasPrefix("expired:") ? 8 : 0)))
        endpoint.expirationTime = Date().addingTimeInterval(3600)
        try await results.send(FlightStandardAction.result(endpoint))
    }

    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        if ticket.bytes.starts(with: Array("expired:".utf8)) { throw FlightError(.notFound, "the ticket expired") }
        let parts = String(decoding: ticket.bytes, as: UTF8.self).split(separator: ":").compactMap { Int($0) }
        guard parts.count == 3 else { throw FlightError(.invalidArgument, "bad ticket") }
        try await writer.begin(Self.schema)
        for index in 0..<parts[1] {
            if let breakingAfter, index == breakingAfter { throw FlightError(.unavailable, "this node is going away") }
            try await writer.write(try Self.batch(endpoint: parts[0], index: index, rows: parts[2]))
        }
    }
}

/// Every value of column 0 of `batches`, in order.
func values(_ batches: [RecordBatch]) -> [Int64] {
    batches.flatMap { batch in
        (0..<batch.length).map { batch.columns[0].buffers[1].load(fromByteOffset: 8 * (batch.columns[0].offset + $0), as: Int64.self) }
    }
}

func expected(endpoints: Int, batches: Int, rows: Int) -> [Int64] {
    (0..<endpoints).flatMap { e in (0..<(batches * rows)).map { Int64(e * 1_000_000 + $0) } }
}

func withServers(_ services: [SequenceService], _ body: ([FlightServer]) async throws -> Void) async throws {
    var servers: [FlightServer] = []
    for service in services { servers.append(try FlightServer(service: service, location: .grpc(host: "127.0.0.1", port: 0))) }
    do {
        try await body(servers)
    } catch {
        for server in servers { await server.shutdown(grace: .milliseconds(100)) }
        throw error
    }
    for server in servers { await server.shutdown(grace: .milliseconds(100)) }
}

func info(endpoints: Int, batches: Int, rows: Int, locations: [Location] = [], replayable: Bool = true, ordered: Bool = false) -> FlightInfo {
    FlightInfo(schema: SequenceService.schema, descriptor: .command([]), endpoints: (0..<endpoints).map { e in
        FlightEndpoint(ticket: SequenceService.ticket(e, batches: batches, rows: rows), locations: locations,
                       appMetadata: replayable ? FlightEndpoint.replayableMetadata : [])
    }, ordered: ordered)
}

@Suite(.serialized) struct FlightResultReaderTests {
    @Test func anOrderedResultComesInEndpointOrderThroughATinyBudget() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            let reader = FlightResultReader(info(endpoints: 6, batches: 5, rows: 100, ordered: true), client: client,
                                            options: FlightReadOptions(parallelism: 3, byteBudget: 1))
            let batches = try await reader.readAll()
            #expect(values(batches) == expected(endpoints: 6, batches: 5, rows: 100))
            let progress = reader.progress
            #expect(progress.rows == 3000 && progress.batches == 30 && progress.endpointsDone == 6 && progress.endpoints == 6)
            #expect(progress.failovers == 0 && progress.bytes == 3000 * 8)
        }
    }

    @Test func anUnorderedResultHasEveryRowOnce() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            let reader = FlightResultReader(info(endpoints: 9, batches: 7, rows: 50), client: client,
                                            options: FlightReadOptions(parallelism: 4, byteBudget: 2000))
            #expect(values(try await reader.readAll()).sorted() == expected(endpoints: 9, batches: 7, rows: 50))
        }
    }

    @Test func aBrokenStreamGoesOnAtTheNextLocationWithoutRepeats() async throws {
        try await withServers([SequenceService(breakingAfter: 3), SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[1].location)
            defer { client.close() }
            let result = info(endpoints: 2, batches: 8, rows: 10, locations: [servers[0].location, servers[1].location], ordered: true)
            // One endpoint at a time, so that each starts on the breaking node: read in parallel,
            // the second may find the first's broken connection discarded and start elsewhere.
            let reader = FlightResultReader(result, client: client, options: FlightReadOptions(parallelism: 1))
            #expect(values(try await reader.readAll()) == expected(endpoints: 2, batches: 8, rows: 10))
            #expect(reader.progress.failovers == 2)
        }
    }

    @Test func aBrokenStreamOfAnEndpointThatCannotReplayIsAnError() async throws {
        try await withServers([SequenceService(breakingAfter: 2), SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[1].location)
            defer { client.close() }
            let result = info(endpoints: 1, batches: 5, rows: 10, locations: [servers[0].location, servers[1].location], replayable: false)
            let reader = FlightResultReader(result, client: client)
            await #expect {
                _ = try await reader.readAll()
            } throws: { error in
                guard let error = error as? FlightError else { return false }
                return error.code == .unavailable && error.message.contains("does not say it can be read again")
            }
        }
    }

    @Test func aLocationThatDoesNotAnswerIsPassedOver() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            // A port nothing listens on: the connection is refused.
            let dead = Location.grpc(host: "127.0.0.1", port: 9)
            let reader = FlightResultReader(info(endpoints: 3, batches: 2, rows: 5, locations: [dead, servers[0].location]), client: client)
            #expect(values(try await reader.readAll()).sorted() == expected(endpoints: 3, batches: 2, rows: 5))
            #expect(reader.progress.failovers == 0)
        }
    }

    @Test func aRefusedTicketIsTheService_sError() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            var bad = info(endpoints: 2, batches: 1, rows: 1)
            bad.endpoints[1].ticket = Ticket("nonsense")
            await #expect {
                _ = try await FlightResultReader(bad, client: client).readAll()
            } throws: { error in (error as? FlightError)?.code == .invalidArgument }
        }
    }

    @Test func anExpiredEndpointIsRenewedBeforeItIsRead() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            var result = info(endpoints: 2, batches: 2, rows: 3)
            result.endpoints[1].ticket = Ticket("expired:1:2:3")
            result.endpoints[1].expirationTime = Date().addingTimeInterval(-1)
            #expect(values(try await FlightResultReader(result, client: client, options: FlightReadOptions(ordered: true)).readAll())
                == expected(endpoints: 2, batches: 2, rows: 3))
            // Without renewal the service refuses the expired ticket.
            await #expect(throws: FlightError.self) {
                _ = try await FlightResultReader(result, client: client, options: FlightReadOptions(renewsExpiredEndpoints: false)).readAll()
            }
        }
    }

    @Test func theBudgetHoldsAgainstASlowConsumer() async throws {
        let queue = ResultQueue(endpoints: 4, ordered: false, budget: 10_000)
        let batch = try SequenceService.batch(endpoint: 0, index: 0, rows: 200) // 1,600 bytes
        let producers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for e in 0..<4 {
                    group.addTask {
                        for _ in 0..<50 { try await queue.push(batch, bytes: batch.bufferBytes, endpoint: e) }
                        queue.finish(endpoint: e)
                    }
                }
                try await group.waitForAll()
            }
        }
        var count = 0
        var most = 0
        while try await queue.next() != nil {
            count += 1
            most = max(most, queue.bufferedBytes)
            try await Task.sleep(for: .microseconds(200))
        }
        try await producers.value
        #expect(count == 200)
        #expect(most <= 10_000)
    }

    @Test func partitionsTravelAsBytesAndReadBackTogether() async throws {
        try await withServers([SequenceService()]) { servers in
            let client = try await FlightClient(location: servers[0].location)
            defer { client.close() }
            let result = info(endpoints: 4, batches: 3, rows: 7, locations: [servers[0].location])
            let partitions = FlightPartition.partitions(of: result)
            #expect(partitions.count == 4)
            let again = try partitions.map { try FlightPartition(base64: $0.base64) }
            #expect(again == partitions)
            let source = FlightDataSource(client: client)
            var parts: [[Int64]] = []
            for partition in again { parts.append(values(try await source.read([partition]).readAll())) }
            #expect(parts.flatMap { $0 } == expected(endpoints: 4, batches: 3, rows: 7))
            #expect(throws: FlightError.self) { try FlightPartition(bytes: result.serializedBytes()) }
            #expect(throws: FlightError.self) { try FlightPartition(base64: "not base64!") }
        }
    }

    @Test func resultFilesAreWrittenByTheirExtension() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("result-files-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let batches = try (0..<3).map { try SequenceService.batch(endpoint: 1, index: $0, rows: 1000) }
        for name in ["r.arrows", "r.arrow", "r.parquet"] {
            let path = directory.appendingPathComponent(name).path
            let writer = try ResultFileWriter(path: path, schema: SequenceService.schema)
            for batch in batches { try writer.write(batch) }
            #expect(!FileManager.default.fileExists(atPath: path))
            try writer.commit()
            let back: [RecordBatch]
            switch name {
            case "r.arrows": back = try IPCStreamReader.readAll(try Buffer(mappingFile: path)).1
            case "r.arrow": back = try IPCFileReader(try Buffer(mappingFile: path)).batches()
            default: back = try ParquetReader(path: path).readTable().batches
            }
            #expect(values(back) == values(batches), "\(name)")
        }
        #expect(throws: (any Error).self) { try ResultFileWriter(path: directory.appendingPathComponent("r.csv").path, schema: SequenceService.schema) }
        let abandoned = directory.appendingPathComponent("gone.parquet").path
        let writer = try ResultFileWriter(path: abandoned, schema: SequenceService.schema)
        try writer.write(batches[0])
        writer.abandon()
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("gone") }
        #expect(left.isEmpty)
    }
}
