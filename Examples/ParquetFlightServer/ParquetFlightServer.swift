import ArgumentParser
import ClusterCommandLine
import FlightManager
import FlightRPC
import Foundation
import Logging

/// `parquet-flight-server`: a directory of Parquet files over Arrow Flight, alone or as a
/// member of a cluster whose every node serves a share of each read.
@main
struct ParquetFlightServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet-flight-server",
        abstract: "Serve a directory of Parquet files over Arrow Flight, spread over a cluster.",
        discussion: """
            Every .parquet file under --root, and every directory of them, is a flight: ListFlights \
            lists them; GetFlightInfo and GetSchema take the path descriptor (the name relative to \
            the root) or a command of JSON {"path": ..., "columns": [...], "filter": [[col, op, \
            value], ...]} (conditions ANDed; =, !=, <, <=, >, >=, in, is_null, not_null). A read \
            is planned as endpoints of about --partition-mb of row groups, pruned by statistics, \
            bloom filters and the page index, and spread over the cluster's members; rows are \
            filtered exactly. DoPut with a path descriptor ending in .parquet writes the upload as \
            a zstd Parquet file, visible once complete. It prints `listening on <location>` once \
            it accepts calls, and shuts down cleanly on SIGINT or SIGTERM.
            """)

    @Option(help: "The directory to serve; uploads are stored in it.") var root: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port; 0 picks a free one (the location is printed).") var port = 0
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain: serve grpc+tls.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Require Basic authentication (Handshake) as this user; calls then need the Bearer token.") var user: String?
    @Option(help: "The password of --user.") var password: String?
    @Option(name: .customLong("partition-mb"), help: "Uncompressed megabytes of row groups per endpoint.") var partitionMB = 64
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Option(help: "On SIGINT or SIGTERM, how long running calls may take to finish, in seconds.") var grace: Double = 5
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard (user == nil) == (password == nil) else { throw ValidationError("--user and --password go together") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard partitionMB > 0, partitionMB <= 1 << 20 else { throw ValidationError("--partition-mb must be 1 to 1048576") }
        guard grace >= 0, grace <= 86_400 else { throw ValidationError("--grace must be 0 to 86400 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--root \(root) is not a directory")
        }
    }

    func run() async throws {
        ClusterOptions.bootstrapLogging(level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "parquet-flight-server")
        do {
            try await serve(logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }

    private func serve(logger: Logger) async throws {
        var options = FlightServerOptions()
        if let tlsCert, let tlsKey { options.tls = (tlsCert, tlsKey, nil) }
        let secret = try cluster.secret() ?? BasicAuthenticator.randomSecret()
        if let user, let password {
            options.authenticator = BasicAuthenticator(secret: secret) { givenUser, givenPassword in
                FlightCrypto.constantTimeEqual(Array(givenUser.utf8), Array(user.utf8))
                    && FlightCrypto.constantTimeEqual(Array(givenPassword.utf8), Array(password.utf8))
            }
        }
        let dataset = try DatasetRoot(root)
        let location: Location = options.tls == nil ? .grpc(host: host, port: port) : .grpcTLS(host: host, port: port)
        let manager = try cluster.makeManager(secret: secret, logger: logger)
        manager.register(ParquetRunner(root: dataset), forKind: ParquetTask.kind)
        let service = ParquetService(root: dataset, manager: manager, partitionBytes: Int64(partitionMB) << 20)
        let server = try FlightServer(service: ClusterService(service, manager: manager), location: location, options: options)
        logger.info("serving \(dataset.root) at \(server.location)")
        try await cluster.serve(server, manager: manager, host: host, grace: .nanoseconds(Int64(grace * 1e9)), logger: logger)
    }
}
