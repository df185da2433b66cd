import ArgumentParser
import FlightDataSource
import FlightRPC
import FlightSQL
import Foundation

/// `flightsql`: an interactive SQL shell for any Flight SQL server.
@main
struct FlightSQLShell: AsyncParsableCommand {
    /// The command's name, abstract and discussion for `--help`.
    static let configuration = CommandConfiguration(
        commandName: "flightsql",
        abstract: "A SQL shell for Arrow Flight SQL servers.",
        discussion: """
            With -c, runs each command in order and exits. Otherwise reads standard input: on a \
            terminal, interactively (\\help lists the backslash commands); from a pipe or file, \
            as a script whose statements end with `;` at the end of a line. Outside the \
            interactive shell the first error ends the program with status 1, its message \
            on standard error.
            """)

    /// The server's location.
    @Option(help: "The server: grpc://host:port, grpc+tls://host:port or grpc+unix:///path (host:port alone means grpc://).")
    var uri = "grpc://127.0.0.1:31337"

    /// Statements and commands to run instead of reading standard input.
    @Option(name: [.customShort("c"), .customLong("command")],
            help: "A statement or backslash command to run (repeatable; they run in order).")
    var commands: [String] = []

    /// The user to authenticate as.
    @Option(help: "Authenticate with Basic credentials first; later calls carry the server's Bearer token.")
    var username: String?

    /// The password of `username`.
    @Option(help: "The password of --username.")
    var password: String?

    /// The CA file for TLS.
    @Option(name: .customLong("tls-root-certs"), help: "A PEM file of CA certificates to trust for grpc+tls (default: the system's).")
    var tlsRootCerts: String?

    /// The initial output format.
    @Option(help: "How rows are written: table, csv or json (JSON Lines).")
    var format = OutputFormat.table

    /// Where query results are written instead of standard output.
    @Option(help: "Write each query's result to this file instead: .arrows (IPC stream), .arrow (IPC file) or .parquet; endpoints are read in parallel.")
    var out: String?

    /// Endpoints read at once with --out.
    @Option(help: "Endpoints read at once with --out.")
    var parallel = 8

    /// Checks that the credentials come as a pair.
    func validate() throws {
        guard (username == nil) == (password == nil) else { throw ValidationError("--username and --password go together") }
        guard parallel > 0 else { throw ValidationError("--parallel must be at least 1") }
        if let out, ResultFileFormat(path: out) == nil { throw ValidationError("--out must end in .arrows, .arrow or .parquet") }
    }

    /// Connects, then runs the -c arguments or standard input.
    func run() async throws {
        let client: FlightSQLClient
        do {
            client = try await connect()
        } catch {
            Console.error(error)
            throw ExitCode.failure
        }
        defer { client.close() }
        var session = ShellSession(client: client, format: format)
        session.output = out
        session.parallel = parallel
        if commands.isEmpty {
            try await read(into: &session)
        } else {
            for argument in commands {
                guard let request = ShellRequest(argument: argument) else { continue }
                do {
                    if try await session.handle(request) == .quit { return }
                } catch {
                    Console.error(error)
                    throw ExitCode.failure
                }
            }
        }
    }

    /// A connected client, authenticated when --username is given.
    private func connect() async throws(ShellError) -> FlightSQLClient {
        let location = Location(uri: uri.contains("://") ? uri : "grpc://\(uri)")
        let client: FlightSQLClient
        do {
            client = try await FlightSQLClient(location: location, options: FlightClientOptions(trustedCertificates: tlsRootCerts))
        } catch {
            throw ShellError("cannot connect to \(uri): \(Console.message(error))")
        }
        guard let username, let password else { return client }
        do {
            try await client.authenticate(username: username, password: password)
        } catch {
            client.close()
            throw ShellError("cannot authenticate as \(username): \(Console.message(error))")
        }
        return client
    }

    /// Runs what standard input holds. On a terminal an error is reported and the shell goes
    /// on; in a script, later statements may depend on the failed one, so it stops there.
    private func read(into session: inout ShellSession) async throws {
        // $HOME first, as other shells do; Foundation's answer comes from the password database.
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let editor = LineEditor(historyFile: home + "/.flightsql_history")
        if editor.isInteractive {
            Console.write("Connected to \(uri). \\help lists the commands, \\q quits.\n")
        }
        var collector = InputCollector()
        func perform(_ request: ShellRequest) async throws -> ShellSession.Next {
            do {
                return try await session.handle(request)
            } catch {
                Console.error(error)
                guard editor.isInteractive else { throw ExitCode.failure }
                return .proceed
            }
        }
        while let input = editor.readLine(prompt: collector.isCollecting ? "      -> " : "flightsql> ") {
            // A statement recalled from the history comes back as one string of several lines.
            for line in input.split(separator: "\n", omittingEmptySubsequences: false) {
                guard let (request, text) = collector.add(String(line)) else { continue }
                editor.addHistory(text)
                if try await perform(request) == .quit { return }
            }
        }
        if editor.isInteractive {
            // Ctrl-D leaves the cursor after the prompt; end the line so the user's shell
            // prompt starts on its own. An unfinished statement is dropped, as it was never
            // ended with `;`.
            Console.write("\n")
        } else if let (request, _) = collector.finish() {
            _ = try await perform(request)
        }
    }
}
