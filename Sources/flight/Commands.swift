import ArgumentParser
import ArrowCore
import FlightDataSource
import FlightRPC
import Foundation

/// `flight list URI`: ListFlights.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the service's flights (ListFlights), one block each.")

    @Argument(help: "The service's location.") var uri: String
    @Option(help: "The criteria expression (UTF-8), if the service takes one.") var criteria: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            let infos = try await session.client.listFlights(criteria: Array((criteria ?? "").utf8), options: session.options)
            if !infos.isEmpty { print(infos.map(render).joined(separator: "\n\n")) }
        }
    }
}

/// `flight info URI --path P...|--cmd C`: GetFlightInfo.
struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show how to get a flight (GetFlightInfo).")

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard descriptor.isGiven else { throw ValidationError("give the flight with --path or --cmd") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            print(render(try await session.client.getFlightInfo(descriptor.descriptor, options: session.options)))
        }
    }
}

/// `flight schema URI --path P...|--cmd C`: GetSchema.
struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schema", abstract: "Show a flight's schema (GetSchema).")

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard descriptor.isGiven else { throw ValidationError("give the flight with --path or --cmd") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            let schema = try await session.client.getSchema(descriptor.descriptor, options: session.options)
            let text = PrettyPrinter.render(schema)
            print(text.isEmpty ? "(no fields)" : text)
        }
    }
}

/// `flight get URI --path P...|--cmd C|--ticket T|--partition P [--out FILE] [--parallel N]`:
/// GetFlightInfo, then every endpoint read in parallel; or DoGet on one ticket.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a flight's batches and print them as tables, or write them to a file (.arrows, .arrow or .parquet).",
        discussion: """
            With --path or --cmd, GetFlightInfo is called and every endpoint is read, up to \
            --parallel at a time: an endpoint without locations, or with \
            arrow-flight-reuse-connection://?, on this connection; any other on a connection of its \
            own to the first of its locations that answers. A stream that breaks goes on at the \
            endpoint's next location when the endpoint can be read again. Batches keep endpoint \
            order unless --unordered. With --ticket, the ticket is redeemed here directly; with \
            --partition, a serialised partition (base64 FlightInfo of one endpoint) is read. On a \
            terminal, the progress is shown on standard error.
            """)

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @Option(help: "Redeem this ticket (its UTF-8 bytes) without GetFlightInfo.") var ticket: String?
    @Option(help: "Read this partition (base64, as `flight partitions` prints them); repeat for several.") var partition: [String] = []
    @Option(help: "Write the batches to this file instead of printing them: .arrows (IPC stream), .arrow (IPC file) or .parquet.")
    var out: String?
    @Option(help: "Endpoints read at once.") var parallel: Int = 8
    @Flag(help: "Take batches as they arrive rather than in endpoint order.") var unordered = false
    @Option(help: "MiB of batches read ahead of the output, over every endpoint.") var readAhead: Int = 64
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        let given = (descriptor.isGiven ? 1 : 0) + (ticket != nil ? 1 : 0) + (partition.isEmpty ? 0 : 1)
        guard given == 1 else { throw ValidationError("give the flight with --path, --cmd, --ticket or --partition (one of them)") }
        guard parallel > 0 else { throw ValidationError("--parallel must be at least 1") }
        guard readAhead > 0 else { throw ValidationError("--read-ahead must be at least 1") }
        if let out, ResultFileFormat(path: out) == nil { throw ValidationError("--out must end in .arrows, .arrow or .parquet") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            let pool = FlightConnectionPool(primary: session.client, options: connection.clientOptions)
            defer {
                pool.close()
                session.client.close()
            }
            let info: FlightInfo
            if let ticket {
                info = FlightInfo(schema: Schema([]), descriptor: .command([]), endpoints: [FlightEndpoint(ticket: Ticket(ticket))])
            } else if !partition.isEmpty {
                info = try FlightPartition.info(of: try partition.map { try FlightPartition(base64: $0) })
            } else {
                info = try await session.client.getFlightInfo(descriptor.descriptor, options: session.options)
            }
            let options = FlightReadOptions(parallelism: parallel, byteBudget: readAhead << 20, ordered: unordered ? nil : true,
                                            callOptions: session.options)
            let reader = FlightResultReader(info, pool: pool, options: options)
            if let out {
                let progress = ProgressLine(reader)
                defer { progress.stop() }
                let (rows, batches) = try await reader.write(to: out)
                progress.finish()
                print("wrote \(rows) row\(rows == 1 ? "" : "s") in \(batches) batch\(batches == 1 ? "" : "es") to \(out)"
                    + ProgressLine.failoverNote(reader.progress))
                return
            }
            var rows = 0, batches = 0
            for try await batch in reader {
                if batches > 0 { print() }
                print(PrettyPrinter.render(batch))
                rows += batch.length
                batches += 1
            }
            if batches > 0 { print() }
            print("\(rows) row\(rows == 1 ? "" : "s")" + ProgressLine.failoverNote(reader.progress))
        }
    }
}

/// `flight partitions URI --path P...|--cmd C`: GetFlightInfo, then each endpoint as a
/// serialised partition (base64) on a line of its own, for other processes to read with
/// `flight get --partition`.
struct Partitions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a flight's endpoints as partitions (base64 FlightInfo of one endpoint each), one per line.")

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard descriptor.isGiven else { throw ValidationError("give the flight with --path or --cmd") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            let info = try await session.client.getFlightInfo(descriptor.descriptor, options: session.options)
            for partition in FlightPartition.partitions(of: info) { print(partition.base64) }
        }
    }
}

/// `flight put URI --path P...|--cmd C FILE`: DoPut of an IPC file's batches.
struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Upload an Arrow IPC file (file or stream format) with DoPut.")

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @Argument(help: "The Arrow IPC file to upload (file or stream format).") var file: String
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard descriptor.isGiven else { throw ValidationError("give the flight with --path or --cmd") }
    }

    func run() async throws {
        try await reportingErrors {
            let input = try IPCInput(path: file)
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            let put = try await session.client.doPut(descriptor.descriptor, options: session.options)
            var rows = 0
            var batches = 0
            do {
                try await put.writer.begin(input.schema)
                try await input.forEachBatch { batch in
                    try await put.writer.write(batch)
                    rows += batch.length
                    batches += 1
                }
            } catch {
                put.cancel()
                throw error
            }
            let results = try await put.finish()
            print("uploaded \(rows) row\(rows == 1 ? "" : "s") in \(batches) batch\(batches == 1 ? "" : "es"); \(results.count) put result\(results.count == 1 ? "" : "s")")
        }
    }
}

/// `flight action URI TYPE [--body TEXT]`: DoAction.
struct ActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action", abstract: "Run an action (DoAction); each result is printed on its own line, as UTF-8 text or else hex.")

    @Argument(help: "The service's location.") var uri: String
    @Argument(help: "The action's type.") var type: String
    @Option(help: "The action's body (UTF-8).") var body: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            let results = try await session.client.doAction(Action(type: type, body: Array((body ?? "").utf8)), options: session.options)
            for result in results { print(text(result.body)) }
        }
    }
}

/// `flight actions URI`: ListActions.
struct Actions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the service's actions (ListActions), one `type: description` a line.")

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            defer { session.client.close() }
            for action in try await session.client.listActions(options: session.options) {
                print(action.description.isEmpty ? action.type : "\(action.type): \(action.description)")
            }
        }
    }
}
