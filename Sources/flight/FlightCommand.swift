import ArgumentParser
import ArrowCore
import FlightRPC
import Foundation

/// `flight`: a client for any Arrow Flight service, one subcommand per kind of call.
@main
struct FlightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flight",
        abstract: "A command-line client for Arrow Flight services.",
        discussion: """
            URI is a Flight location: grpc://host:port, grpc+tls://host:port or grpc+unix:///path \
            (host:port alone means grpc://). Errors are printed as `flight: <code>: <message>` on \
            standard error, with exit status 1.
            """,
        subcommands: [List.self, Info.self, SchemaCommand.self, Get.self, Partitions.self, Put.self, ActionCommand.self, Actions.self])
}

/// The options every subcommand shares: how to reach and authenticate to the service.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Authenticate with Basic credentials first (Handshake); later calls carry the Bearer token.")
    var user: String?
    @Option(help: "The password of --user.")
    var password: String?
    @Option(name: .customLong("tls-ca"), help: "A PEM file of CA certificates to trust for grpc+tls (default: the system's).")
    var tlsCA: String?
    @Option(help: "A deadline for each call, in seconds.")
    var timeout: Double?
    @Option(name: .customLong("header"), help: "A request header name=value (repeatable).")
    var headers: [String] = []

    func validate() throws {
        guard (user == nil) == (password == nil) else { throw ValidationError("--user and --password go together") }
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        for header in headers {
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw ValidationError("--header \(header): expected name=value")
            }
        }
    }

    /// The call options from --timeout and --header (header names lower-cased, as gRPC sends them).
    var callOptions: FlightCallOptions {
        var options = FlightCallOptions()
        options.headers = headers.compactMap { header in
            guard let equals = header.firstIndex(of: "=") else { return nil }
            return (name: header[..<equals].lowercased(), value: String(header[header.index(after: equals)...]))
        }
        if let timeout { options.timeout = .nanoseconds(Int64(timeout * 1e9)) }
        return options
    }

    var clientOptions: FlightClientOptions { FlightClientOptions(trustedCertificates: tlsCA) }

    /// A connected (and, with --user, authenticated) client.
    func connect(_ uri: String) async throws -> Connection {
        let client = try await FlightClient(location: location(uri), options: clientOptions)
        if let user, let password {
            do {
                // The client sends the Bearer token with every later call; a connection pool
                // passes it on to the other nodes of the service.
                try await client.authenticateBasicToken(username: user, password: password, options: callOptions)
            } catch {
                client.close()
                throw error
            }
        }
        return Connection(client: client, options: callOptions)
    }
}

/// The location a URI argument names; `host:port` alone means plaintext gRPC.
func location(_ uri: String) -> Location {
    uri.contains("://") ? Location(uri: uri) : Location(uri: "grpc://\(uri)")
}

/// A client with the options each call needs.
struct Connection: Sendable {
    let client: FlightClient
    let options: FlightCallOptions
}

/// What a descriptor option group names: `--path` (repeatable, one element each) or `--cmd`.
struct DescriptorOptions: ParsableArguments {
    @Option(name: .customLong("path"), help: "A path element of the descriptor (repeat for longer paths).")
    var path: [String] = []
    @Option(name: .customLong("cmd"), help: "A command descriptor (its UTF-8 bytes).")
    var command: String?

    /// Whether either option was given.
    var isGiven: Bool { !path.isEmpty || command != nil }

    func validate() throws {
        guard path.isEmpty || command == nil else { throw ValidationError("give --path or --cmd, not both") }
    }

    /// The descriptor; call only when `isGiven`.
    var descriptor: FlightDescriptor {
        if let command { return .command(Array(command.utf8)) }
        return .path(path)
    }
}

/// Runs a subcommand's work, turning any error into `flight: <code>: <message>` on standard
/// error and exit status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let (code, message) = describe(error)
        FileHandle.standardError.write(Data("flight: \(code): \(message)\n".utf8))
        throw ExitCode.failure
    }
}

/// The gRPC status name and message for an error. Local failures (an unreadable input file,
/// Arrow data that does not validate) are reported as INVALID_ARGUMENT: the input was wrong.
func describe(_ error: any Error) -> (code: String, message: String) {
    switch error {
    case let error as FlightError: return (error.code.statusName, error.message)
    case let error as ArrowError: return (FlightError.Code.invalidArgument.statusName, error.description)
    case is CancellationError: return (FlightError.Code.cancelled.statusName, "cancelled")
    default: return (FlightError.Code.unknown.statusName, String(describing: error))
    }
}

extension FlightError.Code {
    /// The status name as gRPC spells it (`NOT_FOUND`).
    var statusName: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}
