import ArgumentParser
import ArrowCore
import Foundation
import FlightRPC

/// Reads a whole result the way a cluster's client does: GetFlightInfo, then every endpoint
/// at once through `FlightResultReader`, each from its first location that answers.
struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "GetFlightInfo, then DoGet on every endpoint at once, and report throughput.")

    @Option(help: "The server to plan on, e.g. grpc://127.0.0.1:31337.") var uri: String
    @Option(help: "The path descriptor.") var path = "synthetic"
    @Option(help: "Endpoints read at once.") var parallel = 64
    @Option(help: "MiB of batches read ahead of the consumer.") var readAhead = 256
    @Option(help: "A slow consumer: sleep --slow-ms after each of the first N batches.") var slowBatches = 0
    @Option(help: "Milliseconds of each slow batch.") var slowMs = 10
    @Flag(help: "Print one JSON object as the last line (with the time to the first batch, failovers and peak resident memory).")
    var json = false

    func run() async throws {
        let planner = try await FlightClient(location: Location(uri: uri))
        defer { planner.close() }
        let start = now()
        let info = try await planner.getFlightInfo(.path([path]))
        let pool = FlightConnectionPool(primary: planner)
        defer { pool.close() }
        let reader = FlightResultReader(info, pool: pool, options: FlightReadOptions(parallelism: parallel, byteBudget: readAhead << 20))
        var total = 0
        var batches = 0
        var first: Double?
        for try await batch in reader {
            if first == nil { first = now() - start }
            total += batch.columns.reduce(0) { $0 + arrayBytes($1) }
            batches += 1
            if batches <= slowBatches { try await Task.sleep(for: .milliseconds(slowMs)) }
        }
        let seconds = now() - start
        if json {
            let gbps = Double(total) / seconds / 1e9
            print("{\"bytes\": \(total), \"seconds\": \(seconds), \"gbps\": \(gbps), \"first_batch_seconds\": \(first ?? seconds), "
                + "\"failovers\": \(reader.progress.failovers), \"peak_rss_kb\": \(peakResidentKilobytes())}")
        } else {
            report(bytes: total, seconds: seconds, json: false, what: "\(info.endpoints.count) endpoint(s)")
        }
    }
}

/// This process's peak resident memory (VmHWM), in kB; 0 where /proc does not say.
func peakResidentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}
