import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import Testing

/// The parts of the ZooKeeper manager that need no ZooKeeper (the cluster itself is tested
/// against a real one in tests/interop/test_cluster.py).
struct ClusterManagerTests {
    @Test func connectStringsSplitIntoServersAndChroot() throws {
        #expect(try ZooKeeperFlightManager.parse("a:1,b:2") == ("a:1,b:2", nil))
        #expect(try ZooKeeperFlightManager.parse("a:1,b:2/app/cluster") == ("a:1,b:2", "/app/cluster"))
        #expect(try ZooKeeperFlightManager.parse("a:1/app/") == ("a:1", "/app"))
        #expect(try ZooKeeperFlightManager.parse("a:1/") == ("a:1", nil))
        for bad in ["", "/app", "a:1//x", "a:1/x/../y"] {
            #expect(throws: FlightError.self) { try ZooKeeperFlightManager.parse(bad) }
        }
    }

    @Test func memberRecordsRoundTripAndRejectGarbage() throws {
        let node = NodeInfo(id: "n1", location: .grpc(host: "10.0.0.1", port: 7), internalLocation: Location(uri: "grpc://10.1.0.1:8"),
                            startedAt: Date(timeIntervalSince1970: 1_700_000_000.123), activeStreams: 3)
        let record = NodeRecord(node)
        #expect(try NodeRecord(decoding: record.encoded()).node == node)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(record.encoded())) as? [String: Any])
        #expect(Set(json.keys) == ["version", "id", "location", "internal_location", "started_at", "active_streams"])
        for garbage in ["", "{", "[]", "{\"id\": 3}", "{\"version\": 0, \"id\": \"x\", \"started_at\": 1}"] {
            #expect(throws: FlightError.self) { try NodeRecord(decoding: Array(garbage.utf8)) }
        }
    }

    struct Ranges: DistributedQuery {
        let count: Int
        var schema: Schema { Schema([Field("a", .int64, nullable: false)]) }
        func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] {
            (0..<count).map { .pull(PartitionTask(kind: "test", payload: [UInt8($0)]), nodes: []) }
        }
    }

    struct NoRunner: PartitionRunner {
        func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws {}
    }

    @Test func pullPartitionsListEveryMemberWithTheFirstTurning() async throws {
        let members = (1...3).map { NodeInfo(id: "n\($0)", location: .grpc(host: "127.0.0.1", port: 1000 + $0)) }
        let broker = PartitionBroker(secret: [UInt8](repeating: 1, count: 32), ticketLifetime: .seconds(60), runners: ["test": NoRunner()],
                                     maximumHeldQueries: 10, maximumHeldBytes: 1 << 20)
        let info = try await broker.plan(Ranges(count: 6), for: .path(["x"]), planner: members[0], members: members).info
        let everyone = Set(members.compactMap(\.location))
        #expect(info.endpoints.count == 6)
        for endpoint in info.endpoints {
            #expect(Set(endpoint.locations) == everyone)
            #expect(endpoint.locations.count == 3)
            #expect(endpoint.expirationTime != nil)
        }
        let firsts = info.endpoints.map { $0.locations[0] }
        for location in everyone { #expect(firsts.filter { $0 == location }.count == 2) }
        // The next query starts on another member.
        let next = try await broker.plan(Ranges(count: 1), for: .path(["x"]), planner: members[0], members: members).info
        #expect(next.endpoints[0].locations[0] != info.endpoints[0].locations[0])
    }
}

extension ClusterManagerTests {
    @Test func theLeastBusyMembersComeFirst() async throws {
        let loads = [2, 0, 1]
        let members = (1...3).map { NodeInfo(id: "n\($0)", location: .grpc(host: "127.0.0.1", port: 1000 + $0), activeStreams: loads[$0 - 1]) }
        let broker = PartitionBroker(secret: [UInt8](repeating: 1, count: 32), ticketLifetime: .seconds(60), runners: ["test": NoRunner()],
                                     maximumHeldQueries: 10, maximumHeldBytes: 1 << 20)
        for _ in 0..<4 {
            let info = try await broker.plan(Ranges(count: 1), for: .path(["x"]), planner: members[0], members: members).info
            #expect(info.endpoints[0].locations == [members[1], members[2], members[0]].compactMap(\.location))
        }
    }
}
