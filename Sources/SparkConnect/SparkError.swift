import FlightRPC
import Foundation
import SwiftProtobuf

/// Spark's errors as gRPC statuses a Flight client understands.
///
/// Spark Connect sends most failures as INTERNAL with a `google.rpc.ErrorInfo` in the status
/// details: its `reason` is the JVM exception class, its metadata carries `errorClass`
/// (`TABLE_OR_VIEW_NOT_FOUND`, ...), `sqlState` and `classes` (the exception's class chain).
/// The status code is chosen from those; the message stays Spark's own.
package enum SparkError {
    /// What the status details of a Spark Connect failure say.
    package struct Details: Sendable, Equatable {
        /// The exception class, for example `org.apache.spark.sql.AnalysisException`.
        package var exceptionClass: String?
        /// Spark's error class, for example `TABLE_OR_VIEW_NOT_FOUND`.
        package var errorClass: String?
        package var sqlState: String?
        /// The exception's class and its superclasses, as Spark lists them.
        package var classes: [String] = []
    }

    /// Reads the ErrorInfo of a failure's status details, when there is one.
    package static func details(_ error: FlightError) -> Details? {
        guard let bytes = error.statusDetails, let status = try? Google_Rpc_Status(serializedBytes: bytes) else { return nil }
        for any in status.details where any.typeURL.hasSuffix("/google.rpc.ErrorInfo") {
            guard let info = try? Google_Rpc_ErrorInfo(serializedBytes: [UInt8](any.value)) else { continue }
            var details = Details()
            details.exceptionClass = info.reason.isEmpty ? nil : info.reason
            details.errorClass = info.metadata["errorClass"]
            details.sqlState = info.metadata["sqlState"]
            if let json = info.metadata["classes"], let data = json.data(using: .utf8),
               let classes = try? JSONSerialization.jsonObject(with: data) as? [String] {
                details.classes = classes
            }
            return details
        }
        return nil
    }

    /// The status a Flight client gets for a Spark Connect failure.
    package static func status(_ error: FlightError) -> FlightError {
        guard error.code == .internal || error.code == .unknown || error.code == .invalidArgument,
              let details = details(error) else { return error }
        let code = code(for: details) ?? error.code
        return FlightError(code, error.message)
    }

    static let notFoundClasses: Set<String> = [
        "TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "CATALOG_NOT_FOUND", "ROUTINE_NOT_FOUND",
        "UNRESOLVED_ROUTINE", "PATH_NOT_FOUND", "FIELD_NOT_FOUND", "NO_SUCH_CATALOG_EXCEPTION",
    ]
    static let alreadyExistsClasses: Set<String> = [
        "TABLE_OR_VIEW_ALREADY_EXISTS", "SCHEMA_ALREADY_EXISTS", "ROUTINE_ALREADY_EXISTS", "LOCATION_ALREADY_EXISTS",
    ]

    /// The code for what Spark said; nil: keep the call's own.
    package static func code(for details: Details) -> FlightError.Code? {
        if let errorClass = details.errorClass {
            let head = String(errorClass.prefix { $0 != "." })
            if notFoundClasses.contains(head) { return .notFound }
            if alreadyExistsClasses.contains(head) { return .alreadyExists }
            if head == "OPERATION_CANCELED" || head == "SPARK_JOB_CANCELLED" { return .cancelled }
        }
        let names = ([details.exceptionClass].compactMap { $0 } + details.classes).map { $0.split(separator: ".").last.map(String.init) ?? $0 }
        if names.contains(where: { $0 == "ParseException" || $0 == "AnalysisException" }) { return .invalidArgument }
        if let state = details.sqlState, state.hasPrefix("42") || state.hasPrefix("22") { return .invalidArgument }
        return nil
    }
}
