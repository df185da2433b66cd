import Foundation

/// An RPC failure: a gRPC status code with a message, as servers send it in `grpc-status` and
/// `grpc-message` and clients receive it. Services throw it to choose the status of a call;
/// any other error thrown by a service becomes `unknown` with the error's description.
public struct FlightError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The gRPC status codes.
    public enum Code: Int, Sendable, Equatable, CaseIterable {
        case ok = 0
        case cancelled = 1
        case unknown = 2
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case resourceExhausted = 8
        case failedPrecondition = 9
        case aborted = 10
        case outOfRange = 11
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case dataLoss = 15
        case unauthenticated = 16
    }

    /// The status code.
    public var code: Code
    /// The human-readable message.
    public var message: String
    /// Trailing metadata that came with the status (lower-case names).
    public var metadata: [(name: String, value: String)]

    /// Creates an error.
    public init(_ code: Code, _ message: String, metadata: [(name: String, value: String)] = []) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public static func == (lhs: FlightError, rhs: FlightError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    public var description: String { "\(code) (\(code.rawValue)): \(message)" }

    /// The bytes of the `grpc-status-details-bin` trailer (a serialised `google.rpc.Status`),
    /// when the server sent one.
    package var statusDetails: [UInt8]? {
        guard var text = metadata.first(where: { $0.name == "grpc-status-details-bin" })?.value else { return nil }
        // gRPC sends binary metadata as base64, padding optional.
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }

    /// The status for any error a service throws.
    static func from(_ error: any Error) -> FlightError {
        if let error = error as? FlightError { return error }
        if error is CancellationError { return FlightError(.cancelled, "cancelled") }
        return FlightError(.unknown, String(describing: error))
    }
}
