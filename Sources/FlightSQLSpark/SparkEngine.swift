import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import Foundation
import Logging
import SparkConnect
import Synchronization

/// How a query's result reaches the client.
public enum SparkExecutionMode: String, Sendable, CaseIterable {
    /// Small results direct, large ones distributed (see ``SparkEngine``).
    case auto
    /// Arrow batches from Spark's driver, one endpoint on the node that planned the query.
    case direct
    /// Parquet written by Spark's executors into the staging directory, served by every node.
    case distributed
}

/// What a ``SparkEngine`` connects to and how it runs queries.
public struct SparkEngineConfiguration: Sendable {
    /// The Spark Connect server: `sc://host[:port]/;token=...;use_ssl=true;...`.
    public var connect: String
    /// A directory every gateway node and every Spark executor sees; nil: no distributed mode.
    public var stagingDirectory: String?
    /// The mode of sessions that do not set `execution_mode`.
    public var defaultMode: SparkExecutionMode
    /// In auto mode, results Spark estimates at this many bytes or more go distributed.
    public var distributedThresholdBytes: Int64
    /// In auto mode, a scan of a whole Parquet table that Spark estimates at this many bytes or
    /// more goes distributed from the table's own files (see ``linksTableFiles``).
    public var tableFilesThresholdBytes: Int64
    /// The uncompressed bytes one endpoint of a distributed result aims at.
    public var partitionBytes: Int64
    /// How long a Spark session may go unused before it is released.
    public var sessionIdleTimeout: Duration
    /// Whether a distributed query that scans a whole Parquet table is served from the table's
    /// files, hard-linked into the staging directory (when they are on its file system), instead
    /// of having Spark's executors write the same rows again.
    public var linksTableFiles: Bool

    /// A configuration for the Spark Connect server at `connect`.
    public init(connect: String, stagingDirectory: String? = nil, defaultMode: SparkExecutionMode = .auto,
                distributedThresholdBytes: Int64 = 64 << 20, tableFilesThresholdBytes: Int64 = 1 << 20, partitionBytes: Int64 = 64 << 20,
                sessionIdleTimeout: Duration = .seconds(900), linksTableFiles: Bool = true) {
        self.connect = connect
        self.stagingDirectory = stagingDirectory
        self.defaultMode = defaultMode
        self.distributedThresholdBytes = distributedThresholdBytes
        self.tableFilesThresholdBytes = tableFilesThresholdBytes
        self.partitionBytes = partitionBytes
        self.sessionIdleTimeout = sessionIdleTimeout
        self.linksTableFiles = linksTableFiles
    }
}

/// A Flight SQL server in front of Apache Spark, through Spark Connect.
///
/// - Each Flight client connection gets its own Spark session, which runs as the
///   authenticated Flight user and is released when the connection closes; `catalog`, `schema`, `execution_mode` and `spark.*` session
///   options act on it.
/// - Statements go to Spark as SQL commands: DDL and DML run at once, queries are analysed
///   for their schema and run when read (direct), or written by Spark's executors as Parquet
///   into the staging directory and served by every node of the cluster (distributed), so
///   that large results never pass through Spark's driver. A scan of a whole Parquet table
///   needs no Spark job: the table's files are hard-linked into the staging directory and
///   served as they are (see ``SparkEngineConfiguration/linksTableFiles``).
/// - The auto mode sends a query distributed when Spark's own estimate of its result (the
///   optimized plan's `sizeInBytes`) is at least ``SparkEngineConfiguration/distributedThresholdBytes``
///   (a whole-table scan from ``SparkEngineConfiguration/tableFilesThresholdBytes``, when its
///   files link) and its types survive Parquet (no intervals, no void columns); otherwise direct.
/// - A cancelled call or CancelFlightInfo interrupts the Spark operation.
public final class SparkEngine: FlightSQLService {
    let configuration: SparkEngineConfiguration
    let address: SparkConnectAddress
    let manager: any FlightManager
    let logger: Logger
    let staging: SparkStaging?
    /// The Spark version, asked once at start-up.
    public let sparkVersion: String
    let sessions = Mutex<[UInt64: SessionSlot]>([:])
    let prepared = PreparedStatementTable<SparkPreparedStatement>(maximum: 10_000)
    private let sweeper = Mutex<Task<Void, Never>?>(nil)
    /// Parameter bytes one prepared statement keeps at most.
    let maximumParameterBytes = 16 << 20
    /// Rows a command's result (SHOW TABLES, DESCRIBE, ...) may hold in memory at most.
    static let maximumHeldBytes = 256 << 20

    /// An engine on the Spark Connect server of `configuration`, publishing results through
    /// `manager`. Connects once to check the server (its version is kept); throws UNAVAILABLE
    /// when it cannot. With a staging directory, registers the runner of staged partitions and
    /// deletes what expired or a crash left there.
    public init(configuration: SparkEngineConfiguration, manager: any FlightManager = LocalFlightManager(),
                logger: Logger = Logger(label: "flight-sql.spark")) async throws {
        self.configuration = configuration
        self.manager = manager
        self.logger = logger
        do {
            address = try SparkConnectAddress(configuration.connect)
        } catch {
            throw FlightError(.invalidArgument, "bad Spark Connect address '\(configuration.connect)': \(error)")
        }
        let probe: SparkConnectClient
        do {
            probe = try await SparkConnectClient(address: address, userName: "swift-arrow-flight")
            sparkVersion = try await probe.sparkVersion()
        } catch {
            throw FlightError(.unavailable, "cannot reach Spark Connect at \(address): \(error)")
        }
        try? await probe.releaseSession()
        probe.close()
        if let directory = configuration.stagingDirectory {
            let staging = try SparkStaging(root: directory)
            self.staging = staging
            let removed = staging.sweep()
            if removed > 0 { logger.notice("removed \(removed) staged result(s) left from before") }
            manager.register(SparkStagedRunner(staging: staging), forKind: StagedTask.kind)
        } else {
            staging = nil
        }
        let period = Duration.seconds(30)
        sweeper.withLock {
            $0 = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    guard let self else { return }
                    await self.sweep()
                }
            }
        }
    }

    /// Releases every Spark session and stops the sweeper.
    public func close() async {
        sweeper.withLock { $0?.cancel() }
        let open = sessions.withLock { table in
            defer { table = [:] }
            return Array(table.values)
        }
        for slot in open {
            if let session = try? await slot.task.value { await session.release() }
        }
    }

    /// Releases idle sessions, forgets old prepared statements, and sweeps the staging directory.
    func sweep() async {
        let limit = configuration.sessionIdleTimeout
        let idle = sessions.withLock { table -> [SessionSlot] in
            let stale = table.filter { $0.value.idle > limit }
            for key in stale.keys { table[key] = nil }
            return Array(stale.values)
        }
        for slot in idle {
            if let session = try? await slot.task.value { await session.release() }
        }
        let owners = Set(sessions.withLock { Array($0.keys) })
        prepared.removeAll { !owners.contains($0.owner) }
        if let removed = staging?.sweep(), removed > 0 { logger.info("removed \(removed) expired staged result(s)") }
    }

    /// The Spark session of the caller's connection, opened on first use.
    func session(_ context: FlightCallContext) async throws -> SparkSession {
        let address = address, user = context.identity
        let (slot, created) = sessions.withLock { table -> (SessionSlot, Bool) in
            if let slot = table[context.connectionID] { return (slot, false) }
            let slot = SessionSlot(Task { try await SparkSession.open(address, user: user) })
            table[context.connectionID] = slot
            return (slot, true)
        }
        if created {
            // The Spark session lives as long as the client's connection.
            let connection = context.connectionID
            context.whenConnectionCloses { [weak self] in self?.connectionClosed(connection, slot: slot) }
        }
        do {
            let session = try await slot.task.value
            slot.touch()
            return session
        } catch {
            sessions.withLock { table in if table[context.connectionID] === slot { table[context.connectionID] = nil } }
            throw Self.status(error)
        }
    }

    /// Forgets a closed connection's session and prepared statements, and releases the session.
    func connectionClosed(_ connection: UInt64, slot: SessionSlot) {
        let removed = sessions.withLock { table -> Bool in
            guard table[connection] === slot else { return false }
            table[connection] = nil
            return true
        }
        prepared.removeAll { $0.owner == connection }
        guard removed else { return }
        Task {
            if let session = try? await slot.task.value { await session.release() }
        }
    }

    /// The gRPC status a client sees for `error`.
    static func status(_ error: any Error) -> any Error {
        switch error {
        case let error as FlightError: return error
        case is CancellationError: return FlightError(.cancelled, "the query was cancelled")
        case let error as SparkConnectError: return FlightError(.unavailable, "Spark Connect: \(error)")
        case let error as ArrowError: return FlightError(.internal, "Spark's Arrow data: \(error)")
        default: return FlightError(.internal, "\(error)")
        }
    }

}

/// A session being opened or open, and when it was last used.
final class SessionSlot: Sendable {
    let task: Task<SparkSession, any Error>
    private let lastUsed = Mutex(ContinuousClock.now)

    init(_ task: Task<SparkSession, any Error>) { self.task = task }

    func touch() { lastUsed.withLock { $0 = .now } }
    var idle: Duration { .now - lastUsed.withLock { $0 } }
}

/// One Spark session: its client, the time zone its timestamps are in, and the options the
/// Flight client set.
final class SparkSession: Sendable {
    let client: SparkConnectClient
    let options: Mutex<SessionOptions>

    struct SessionOptions {
        var mode: SparkExecutionMode?
        /// `spark.*` settings made through SetSessionOptions.
        var spark: [String: String] = [:]
        /// `spark.sql.session.timeZone`: the zone of Spark's timestamp columns in Arrow.
        var timeZone: String
    }

    private init(client: SparkConnectClient, timeZone: String) {
        self.client = client
        options = Mutex(SessionOptions(timeZone: timeZone))
    }

    /// The session's time zone.
    var timeZone: String { options.withLock { $0.timeZone } }

    /// Reads the session's time zone again (after SET or a session option changed it).
    func refreshTimeZone() async throws {
        let zone = try await client.getConfig([Self.timeZoneKey])[Self.timeZoneKey] ?? nil
        options.withLock { $0.timeZone = zone ?? TimeZone.current.identifier }
    }

    static let timeZoneKey = "spark.sql.session.timeZone"

    /// Opens a session for `user` (nil: anonymous). Timestamps of distributed results are
    /// written as TIMESTAMP_MICROS, which keeps their type (Spark's default, INT96, does not).
    static func open(_ address: SparkConnectAddress, user: String?) async throws -> SparkSession {
        let client = try await SparkConnectClient(address: address, userName: user ?? "anonymous")
        do {
            try await client.setConfig([(key: "spark.sql.parquet.outputTimestampType", value: "TIMESTAMP_MICROS")])
            let zone = try await client.getConfig([timeZoneKey])[timeZoneKey] ?? nil
            return SparkSession(client: client, timeZone: zone ?? TimeZone.current.identifier)
        } catch {
            client.close()
            throw error
        }
    }

    /// Ends the session on the server and closes its connection.
    func release() async {
        try? await client.releaseSession()
        client.close()
    }
}

/// A prepared statement: its SQL, what its text says, its schemas and bound parameters.
struct SparkPreparedStatement: PreparedStatementRecord {
    var sql: String
    var text: SparkSQLText
    var owner: UInt64
    var lastUsed = ContinuousClock.now
    var datasetSchema: Schema
    var parameterSchema: Schema
    var parameters: [RecordBatch] = []
}

/// A statement result as a distributed query: held rows, one direct partition, or the
/// partitions of a staged result.
struct SparkQuery: DistributedQuery {
    let schema: Schema
    var heldBytes = 0
    let parts: [QueryPartition]

    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] { parts }
}
