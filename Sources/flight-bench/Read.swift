import ArgumentParser
import ArrowCore
import FlightRPC

/// Reads a whole result the way a cluster's client does: GetFlightInfo, then every endpoint
/// at once, each from its first location that answers.
struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "GetFlightInfo, then DoGet on every endpoint at once, and report throughput.")

    @Option(help: "The server to plan on, e.g. grpc://127.0.0.1:31337.") var uri: String
    @Option(help: "The path descriptor.") var path = "synthetic"
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        let planner = try await FlightClient(location: Location(uri: uri))
        let start = now()
        let info = try await planner.getFlightInfo(.path([path]))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for endpoint in info.endpoints {
                group.addTask {
                    var failures: [String] = []
                    for location in endpoint.locations.isEmpty ? [Location(uri: uri)] : endpoint.locations {
                        do {
                            let client = try await FlightClient(location: location)
                            defer { client.close() }
                            var bytes = 0
                            for try await batch in try await client.doGet(endpoint.ticket) {
                                bytes += batch.columns.reduce(0) { $0 + arrayBytes($1) }
                            }
                            return bytes
                        } catch {
                            failures.append("\(location): \(error)")
                        }
                    }
                    throw FlightError(.unavailable, "every location failed: \(failures.joined(separator: "; "))")
                }
            }
            return try await group.reduce(0, +)
        }
        report(bytes: total, seconds: now() - start, json: json, what: "\(info.endpoints.count) endpoint(s)")
        planner.close()
    }
}
