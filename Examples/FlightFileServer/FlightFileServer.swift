import ArgumentParser
import Dispatch
import FlightRPC
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An Arrow Flight server for a directory of Arrow IPC files: list them, fetch them, upload
/// new ones. It prints `listening on <location>` once it accepts calls, and shuts down cleanly
/// on SIGINT or SIGTERM.
@main
struct FlightFileServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flight-file-server",
        abstract: "Serve a directory of Arrow IPC files (.arrow, .arrows, .feather) over Arrow Flight.",
        discussion: """
            Each file is a flight with the path descriptor [name]; its ticket is the name. DoPut with \
            a path descriptor stores the upload under that name (.arrow and .feather in the file \
            format, .arrows in the stream format), replacing any old file only once the upload is \
            complete. The action `delete` removes the file its body names.
            """)

    @Option(help: "The directory to serve; uploads are stored in it.") var root: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port; 0 picks a free one (the location is printed).") var port = 0
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain: serve grpc+tls.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "Require Basic authentication (Handshake) as this user; calls then need the Bearer token.") var user: String?
    @Option(help: "The password of --user.") var password: String?
    @Option(help: "On SIGINT or SIGTERM, how long running calls may take to finish, in seconds.") var grace: Double = 5

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard (user == nil) == (password == nil) else { throw ValidationError("--user and --password go together") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        // Bounded so that the nanoseconds of the shutdown grace fit in an Int64.
        guard grace >= 0, grace <= 86_400 else { throw ValidationError("--grace must be 0 to 86400 seconds") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--root \(root) is not a directory")
        }
    }

    func run() async throws {
        var options = FlightServerOptions()
        if let tlsCert, let tlsKey { options.tls = (tlsCert, tlsKey, nil) }
        if let user, let password {
            // The secret only needs to outlive this process: tokens are not meant to survive a restart.
            options.authenticator = BasicAuthenticator(secret: BasicAuthenticator.randomSecret()) { givenUser, givenPassword in
                constantTimeEqual(givenUser, user) && constantTimeEqual(givenPassword, password)
            }
        }
        let location: Location = options.tls == nil ? .grpc(host: host, port: port) : .grpcTLS(host: host, port: port)
        // Installed before the server starts, so that a signal sent as soon as the location is
        // printed already finds its handler.
        let signals = TerminationSignals()
        let service = FileService(root: root)
        let server: FlightServer
        do {
            server = try FlightServer(service: service, location: location, options: options)
        } catch {
            FileHandle.standardError.write(Data("flight-file-server: cannot serve at \(location): \(error)\n".utf8))
            throw ExitCode.failure
        }
        print("listening on \(server.location)")
        fflush(nil)
        let number = await signals.wait()
        FileHandle.standardError.write(Data("flight-file-server: signal \(number), shutting down\n".utf8))
        await server.shutdown(grace: .nanoseconds(Int64(grace * 1e9)))
        // Calls cut off by the shutdown may not have run their cleanup before the process ends.
        service.uploads.removeAll()
    }
}

/// Compares two strings without stopping at the first difference, so that the time a wrong
/// password takes does not tell how much of it was right.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = x.count ^ y.count
    for index in 0..<max(x.count, y.count) {
        difference |= Int((index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0))
    }
    return difference == 0
}
