import ArgumentParser
import ClusterCommandLine
import FlightManager
import FlightRPC
import FlightSQL
import FlightSQLSQLite
import FlightSQLSpark
import Foundation
import Logging

/// The Flight SQL gateway: on the embedded SQLite engine, or in front of Apache Spark.
@main
struct FlightSQLServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flight-sql-server",
        abstract: "Serve a SQLite database, or Apache Spark through Spark Connect, over Arrow Flight SQL.",
        subcommands: [Serve.self, HashPassword.self],
        defaultSubcommand: Serve.self)
}

enum EngineKind: String, ExpressibleByArgument, CaseIterable {
    case sqlite
    case spark
}

extension SparkExecutionMode: ExpressibleByArgument {}

enum AuthMode: String, ExpressibleByArgument, CaseIterable {
    case none
    case basic
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Start the gateway (the default command).",
        discussion: """
            With --engine sqlite (the default) and without --database it serves a demo database (demo.sqlite in the working directory), \
            created with a few tables on first run. It prints `listening on <location>` once it \
            accepts calls, and shuts down cleanly on SIGINT or SIGTERM. With --engine spark it \
            serves the Spark Connect server of --spark-connect; large results are written by \
            Spark into --staging-dir (a directory every node and executor sees) and served by \
            every node of the cluster.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port; 0 picks a free one (the location is printed).") var port = 31337
    @Option(help: "The engine: sqlite or spark.") var engine = EngineKind.sqlite
    @Option(help: "The SQLite database file (created if missing, unless --read-only).") var database: String?
    @Option(name: .customLong("spark-connect"), help: "For --engine spark: the Spark Connect server, sc://HOST[:PORT][/;token=...;use_ssl=true].")
    var sparkConnect: String?
    @Option(name: .customLong("staging-dir"), help: "For --engine spark: where Spark writes large results for every node to serve.")
    var stagingDir: String?
    @Option(name: .customLong("execution-mode"), help: "For --engine spark: auto, direct or distributed, for sessions that set none.")
    var executionMode = SparkExecutionMode.auto
    @Option(name: .customLong("distributed-threshold-mb"), help: "For --engine spark, auto mode: results Spark estimates at this many MiB or more go distributed.")
    var distributedThresholdMB: Int = 64
    @Option(name: .customLong("table-files-threshold-mb"), help: "For --engine spark, auto mode: scans of whole Parquet tables Spark estimates at this many MiB or more go distributed from the table's files.")
    var tableFilesThresholdMB: Int = 1
    @Option(name: .customLong("partition-mb"), help: "For --engine spark: the uncompressed MiB one endpoint of a distributed result aims at.")
    var partitionMB: Int = 64
    @Flag(name: .customLong("table-files"), inversion: .prefixedNo,
          help: "For --engine spark: serve a distributed scan of a whole Parquet table from the table's files, hard-linked into the staging directory, instead of having Spark write them again.")
    var tableFiles = true
    @Option(help: "Authentication: none, or basic (Handshake with a users file, then Bearer tokens).") var auth = AuthMode.none
    @Option(name: .customLong("users-file"), help: "Users for --auth basic: name:pbkdf2-sha256$ITERATIONS$SALT$HASH lines.") var usersFile: String?
    @Option(name: .customLong("token-secret-file"), help: "A file whose bytes sign tokens (share it between nodes); default: random per process.") var tokenSecretFile: String?
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain: serve grpc+tls.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(name: .customLong("read-only"), help: "Refuse every statement that writes.") var readOnly = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"
    @Option(help: "On SIGINT or SIGTERM, how long running calls may take to finish, in seconds.") var grace: Double = 5
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        // Bounded so that the nanoseconds of the shutdown grace fit in an Int64.
        guard grace >= 0, grace <= 86_400 else { throw ValidationError("--grace must be 0 to 86400 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if auth == .basic, usersFile == nil { throw ValidationError("--auth basic needs --users-file") }
        if auth == .none, usersFile != nil { throw ValidationError("--users-file needs --auth basic") }
        if engine == .spark {
            guard sparkConnect != nil else { throw ValidationError("--engine spark needs --spark-connect sc://HOST:PORT") }
            guard database == nil, !readOnly else { throw ValidationError("--database and --read-only are for --engine sqlite") }
            if executionMode == .distributed, stagingDir == nil { throw ValidationError("--execution-mode distributed needs --staging-dir") }
            guard distributedThresholdMB >= 0 else { throw ValidationError("--distributed-threshold-mb must be 0 or more") }
            guard tableFilesThresholdMB >= 0 else { throw ValidationError("--table-files-threshold-mb must be 0 or more") }
            guard partitionMB >= 1 else { throw ValidationError("--partition-mb must be 1 or more") }
        } else if sparkConnect != nil || stagingDir != nil {
            throw ValidationError("--spark-connect and --staging-dir need --engine spark")
        }
    }

    func run() async throws {
        ClusterOptions.bootstrapLogging(level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "flight-sql-server")
        do {
            try await serve(logger: logger)
        } catch let error as ExitCode {
            throw error
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }

    private func serve(logger: Logger) async throws {
        var options = FlightServerOptions()
        if let tlsCert, let tlsKey { options.tls = (tlsCert, tlsKey, nil) }
        var secret = BasicAuthenticator.randomSecret()
        if let tokenSecretFile {
            guard let bytes = FileManager.default.contents(atPath: tokenSecretFile), bytes.count >= 32 else {
                throw ValidationError("--token-secret-file must hold at least 32 bytes")
            }
            secret = [UInt8](bytes)
        }
        if let clusterSecret = try cluster.secret() { secret = clusterSecret }
        if auth == .basic, let usersFile {
            let users = try PasswordFile(contentsOf: usersFile)
            for warning in users.warnings { logger.warning("\(warning)") }
            logger.info("authentication: basic, \(users.count) user(s) from \(usersFile)")
            // Hashing takes a fraction of a second: off the cooperative threads, so logins do
            // not hold up other calls.
            let hashing = DispatchQueue(label: "flight-sql-server.passwords", attributes: .concurrent)
            options.authenticator = BasicAuthenticator(secret: secret) { user, password in
                await withCheckedContinuation { continuation in
                    hashing.async { continuation.resume(returning: users.verify(user: user, password: password)) }
                }
            }
        }
        let location: Location = options.tls == nil ? .grpc(host: host, port: port) : .grpcTLS(host: host, port: port)
        let manager = try cluster.makeManager(secret: secret, logger: logger)
        let grace = Duration.nanoseconds(Int64(self.grace * 1e9))
        if engine == .spark, let sparkConnect {
            let configuration = SparkEngineConfiguration(connect: sparkConnect, stagingDirectory: stagingDir, defaultMode: executionMode,
                                                         distributedThresholdBytes: Int64(distributedThresholdMB) << 20,
                                                         tableFilesThresholdBytes: Int64(tableFilesThresholdMB) << 20,
                                                         partitionBytes: Int64(partitionMB) << 20, linksTableFiles: tableFiles)
            let engine = try await SparkEngine(configuration: configuration, manager: manager, logger: logger)
            let server = try FlightServer(service: ClusterService(FlightSQLAdapter(engine), manager: manager), location: location, options: options)
            logger.info("serving Spark \(engine.sparkVersion) at \(sparkConnect) at \(server.location)\(stagingDir.map { ", staging in \($0)" } ?? "")")
            try await cluster.serve(server, manager: manager, host: host, grace: grace, logger: logger)
            await engine.close()
            return
        }
        let path: String
        if let database {
            path = database
        } else {
            path = "demo.sqlite"
            if !FileManager.default.fileExists(atPath: path) {
                try DemoDatabase.create(at: path)
                logger.info("created demo database \(path)")
            }
        }
        let engine = try SQLiteEngine(path: path, readOnly: readOnly, manager: manager, logger: logger)
        defer { engine.close() }
        let server = try FlightServer(service: ClusterService(FlightSQLAdapter(engine), manager: manager), location: location, options: options)
        logger.info("serving \(path)\(readOnly ? " read-only" : "") at \(server.location)")
        try await cluster.serve(server, manager: manager, host: host, grace: grace, logger: logger)
    }
}

struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print a users-file line for a user, reading the password from standard input.")

    @Argument(help: "The user name.") var user: String
    @Option(help: "PBKDF2 iterations.") var iterations = 600_000

    func run() throws {
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw ValidationError("give the password on standard input")
        }
        print(try PasswordFile.hashLine(user: user, password: password, iterations: iterations))
    }
}
