import ArgumentParser
import ArrowCore
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

/// `flight get URI --path P...|--cmd C|--ticket T [--out FILE]`: GetFlightInfo, then DoGet on
/// every endpoint in order; or DoGet on one ticket.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a flight's batches and print them as tables, or write them to an IPC stream file.",
        discussion: """
            With --path or --cmd, GetFlightInfo is called and every endpoint is read in order: an \
            endpoint without locations, or with arrow-flight-reuse-connection://?, on this \
            connection; any other on a connection of its own to the first of its locations that \
            answers. With --ticket, the ticket is redeemed here directly.
            """)

    @Argument(help: "The service's location.") var uri: String
    @OptionGroup var descriptor: DescriptorOptions
    @Option(help: "Redeem this ticket (its UTF-8 bytes) without GetFlightInfo.") var ticket: String?
    @Option(help: "Write the batches to this file in the IPC stream format instead of printing them.") var out: String?
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard descriptor.isGiven != (ticket != nil) else { throw ValidationError("give the flight with --path, --cmd or --ticket (one of them)") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try await connection.connect(uri)
            let output = try out.map { try StreamFileOutput(path: $0) }
            var others: [String: Connection] = [:]
            defer {
                session.client.close()
                for other in others.values { other.client.close() }
                output?.abandon()
            }
            var rows = 0
            var batches = 0
            var schema: Schema?
            // Batches are handled as they arrive, so a result larger than memory can be saved.
            func drain(_ stream: FlightStream) async throws {
                if let streamSchema = try await stream.schema(), schema == nil { schema = streamSchema }
                for try await batch in stream {
                    if let output {
                        try output.write(batch)
                    } else {
                        if batches > 0 { print() }
                        print(PrettyPrinter.render(batch))
                    }
                    rows += batch.length
                    batches += 1
                }
            }
            if let ticket {
                try await drain(try await session.client.doGet(Ticket(ticket), options: session.options))
            } else {
                let info = try await session.client.getFlightInfo(descriptor.descriptor, options: session.options)
                schema = info.schema
                for endpoint in info.endpoints {
                    let place = try await connectionFor(endpoint, main: session, others: &others)
                    try await drain(try await place.client.doGet(endpoint.ticket, options: place.options))
                }
            }
            if let output, let out {
                try output.commit(schema: schema ?? Schema([]))
                print("wrote \(rows) row\(rows == 1 ? "" : "s") in \(batches) batch\(batches == 1 ? "" : "es") to \(out)")
            } else {
                if batches > 0 { print() }
                print("\(rows) row\(rows == 1 ? "" : "s")")
            }
        }
    }

    /// The connection on which to redeem `endpoint`'s ticket; new connections are kept in
    /// `others` by location, for later endpoints at the same place.
    private func connectionFor(_ endpoint: FlightEndpoint, main: Connection, others: inout [String: Connection]) async throws -> Connection {
        if endpoint.locations.isEmpty || endpoint.locations.contains(where: { $0.uri.hasPrefix("arrow-flight-reuse-connection:") }) {
            return main
        }
        var lastError: (any Error)?
        for location in endpoint.locations {
            if let known = others[location.uri] { return known }
            do {
                let other = try await main.connect(to: location)
                others[location.uri] = other
                return other
            } catch {
                lastError = error
            }
        }
        throw lastError ?? FlightError(.unavailable, "the endpoint has no location to connect to")
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
