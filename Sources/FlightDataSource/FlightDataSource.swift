import ArrowCore
import FlightRPC
import FlightSQL
import Foundation

/// Reads Flight results as one sequence of record batches, every endpoint at once: given a
/// `FlightInfo`, a Flight descriptor, or a Flight SQL query. The endpoint reading itself is
/// ``FlightResultReader`` (in FlightRPC, where `flight get` and `FlightSQLClient` use it
/// too): a byte budget, endpoint order when the result is ordered, one connection per
/// location, and failover to the next location when a stream breaks.
///
/// ```swift
/// let source = FlightDataSource(sql: try await FlightSQLClient(location: .grpc(host: "db", port: 31337)))
/// let reader = try await source.query("SELECT * FROM trips")
/// for try await batch in reader { … }
/// print(reader.progress.rows, reader.progress.failovers)
/// ```
public struct FlightDataSource: Sendable {
    /// The connections results are read through.
    public let pool: FlightConnectionPool
    /// How results are read.
    public var options: FlightReadOptions
    private let sql: FlightSQLClient?

    /// A source over a Flight connection; `clientOptions` open connections to other locations.
    public init(client: FlightClient, clientOptions: FlightClientOptions = FlightClientOptions(), options: FlightReadOptions = FlightReadOptions()) {
        pool = FlightConnectionPool(primary: client, options: clientOptions)
        self.options = options
        sql = nil
    }

    /// A source over a Flight SQL client (its login and connection options carry over).
    public init(sql: FlightSQLClient, options: FlightReadOptions = FlightReadOptions()) {
        pool = sql.pool
        self.options = options
        self.sql = sql
    }

    /// Closes the connections opened to other locations (not the one the source was made
    /// with, nor a Flight SQL client's own pool).
    public func close() {
        if sql == nil { pool.close() }
    }

    /// A reader of the result `info` describes.
    public func read(_ info: FlightInfo) -> FlightResultReader {
        FlightResultReader(info, pool: pool, options: options)
    }

    /// GetFlightInfo for `descriptor`, then a reader of the result.
    public func read(_ descriptor: FlightDescriptor) async throws -> FlightResultReader {
        read(try await pool.primary.getFlightInfo(descriptor, options: options.callOptions))
    }

    /// Runs `query` on the Flight SQL service, then a reader of its result. Throws
    /// `FlightError(.failedPrecondition)` for a source made without a Flight SQL client.
    public func query(_ query: String, transaction: FlightSQLTransaction? = nil) async throws -> FlightResultReader {
        guard let sql else { throw FlightError(.failedPrecondition, "this data source was made without a Flight SQL client") }
        return read(try await sql.execute(query, transaction: transaction, options: options.callOptions))
    }

    /// A reader of `partitions` (as ``FlightPartition/partitions(of:)`` made them, here or in
    /// another process), together as one result, in the order given.
    public func read(_ partitions: [FlightPartition]) throws -> FlightResultReader {
        read(try FlightPartition.info(of: partitions))
    }
}

/// One endpoint of a result, as bytes that another process or machine reads on its own (what
/// ADBC calls a partition of `execute_partitions`): a serialised `FlightInfo` holding the
/// result's schema and this one endpoint, the form ADBC's Flight SQL driver uses, so that
/// either side reads the other's.
public struct FlightPartition: Sendable, Hashable {
    /// The serialised `FlightInfo`.
    public let bytes: [UInt8]

    /// A partition from its bytes. Throws `FlightError(.invalidArgument)` when they are not a
    /// `FlightInfo` of exactly one endpoint.
    public init(bytes: [UInt8]) throws(FlightError) {
        let info = try FlightInfo(serializedBytes: bytes)
        guard info.endpoints.count == 1 else {
            throw FlightError(.invalidArgument, "a partition holds one endpoint; this one holds \(info.endpoints.count)")
        }
        self.bytes = bytes
    }

    /// The partitions of `info`, one per endpoint.
    public static func partitions(of info: FlightInfo) -> [FlightPartition] {
        info.endpoints.map { endpoint in
            var one = info
            one.endpoints = [endpoint]
            return FlightPartition(unchecked: one.serializedBytes())
        }
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The `FlightInfo` the partition holds.
    public var info: FlightInfo {
        get throws(FlightError) { try FlightInfo(serializedBytes: bytes) }
    }

    /// One `FlightInfo` of the endpoints of `partitions`, in order, with the first one's
    /// schema. Throws `FlightError(.invalidArgument)` when the partitions' schemas differ.
    public static func info(of partitions: [FlightPartition]) throws(FlightError) -> FlightInfo {
        guard let first = partitions.first else {
            return FlightInfo(schema: Schema([]), descriptor: .command([]), endpoints: [])
        }
        var info = try first.info
        for partition in partitions.dropFirst() {
            let other = try partition.info
            guard other.schema == info.schema else {
                throw FlightError(.invalidArgument, "the partitions belong to results of different schemas")
            }
            info.endpoints += other.endpoints
        }
        info.ordered = partitions.count == 1 ? info.ordered : false
        info.totalRecords = -1
        info.totalBytes = -1
        return info
    }

    /// The partition as text: its bytes in base64, for command lines and files.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// A partition from ``base64``. Throws `FlightError(.invalidArgument)` for text that is
    /// not base64 of a partition.
    public init(base64 text: String) throws(FlightError) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw FlightError(.invalidArgument, "a partition's text is not base64")
        }
        try self.init(bytes: [UInt8](data))
    }
}
