import FlightRPC
import Foundation
import SwiftProtobuf
import Testing

@testable import SparkConnect

@Suite struct SparkConnectAddressTests {
    @Test func connectionStringsParse() throws {
        let plain = try SparkConnectAddress("sc://localhost")
        #expect(plain.host == "localhost" && plain.port == 15002 && !plain.useTLS && plain.token == nil)
        #expect(plain.location == .grpc(host: "localhost", port: 15002))

        let full = try SparkConnectAddress("sc://spark.example.com:443/;token=abc%3D;user_id=ann;x-extra=1")
        #expect(full.host == "spark.example.com" && full.port == 443)
        #expect(full.token == "abc=" && full.userID == "ann" && full.useTLS)
        #expect(full.parameters == ["x-extra": "1"])
        #expect(!full.description.contains("abc"))

        let noTLS = try SparkConnectAddress("sc://[::1]:15003/;token=t;use_ssl=false")
        #expect(noTLS.host == "::1" && noTLS.port == 15003 && !noTLS.useTLS)
        let session = UUID()
        #expect(try SparkConnectAddress("sc://h/;session_id=\(session.uuidString)").sessionID == session)
    }

    @Test func malformedConnectionStringsAreErrors() {
        for text in ["http://host", "sc://", "sc://host:0", "sc://host:99999", "sc://host:x", "sc://host/;token",
                     "sc://host/;use_ssl=maybe", "sc://host/;session_id=nope", "sc://[::1", "sc://host:1x"] {
            #expect(throws: SparkConnectError.self, "\(text)") { try SparkConnectAddress(text) }
        }
    }

    /// A status as Spark Connect sends it: INTERNAL with an ErrorInfo in the details trailer.
    func sparkStatus(_ message: String, reason: String, metadata: [String: String]) throws -> FlightError {
        var info = Google_Rpc_ErrorInfo()
        info.reason = reason
        info.domain = "org.apache.spark"
        info.metadata = metadata
        var status = Google_Rpc_Status()
        status.code = 13
        status.message = message
        status.details = [try Google_Protobuf_Any(message: info)]
        let bytes: [UInt8] = try status.serializedBytes()
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
        return FlightError(.internal, message, metadata: [(name: "grpc-status-details-bin", value: text)])
    }

    @Test func sparkErrorsBecomeFlightStatuses() throws {
        let missing = try sparkStatus("[TABLE_OR_VIEW_NOT_FOUND] The table or view `nope` cannot be found.",
                                      reason: "org.apache.spark.sql.catalyst.ExtendedAnalysisException",
                                      metadata: ["errorClass": "TABLE_OR_VIEW_NOT_FOUND", "sqlState": "42P01",
                                                 "classes": #"["org.apache.spark.sql.catalyst.ExtendedAnalysisException","org.apache.spark.sql.AnalysisException"]"#])
        #expect(SparkError.details(missing)?.errorClass == "TABLE_OR_VIEW_NOT_FOUND")
        #expect(SparkError.status(missing).code == .notFound)
        #expect(SparkError.status(missing).message == missing.message)

        let parse = try sparkStatus("[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'.",
                                    reason: "org.apache.spark.sql.catalyst.parser.ParseException",
                                    metadata: ["errorClass": "PARSE_SYNTAX_ERROR", "sqlState": "42601"])
        #expect(SparkError.status(parse).code == .invalidArgument)

        let exists = try sparkStatus("[SCHEMA_ALREADY_EXISTS] ...", reason: "org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException",
                                     metadata: ["errorClass": "SCHEMA_ALREADY_EXISTS"])
        #expect(SparkError.status(exists).code == .alreadyExists)

        let other = try sparkStatus("boom", reason: "java.lang.RuntimeException", metadata: [:])
        #expect(SparkError.status(other).code == .internal)
        // Without details, or with details that do not parse, the status stays as it came.
        #expect(SparkError.status(FlightError(.internal, "x")).code == .internal)
        #expect(SparkError.status(FlightError(.internal, "x", metadata: [(name: "grpc-status-details-bin", value: "!!")])).code == .internal)
        #expect(SparkError.status(FlightError(.unavailable, "down")).code == .unavailable)
    }

    @Test func sqlPlansCarryTheirParameters() throws {
        var one = Spark_Connect_Expression.Literal()
        one.long = 1
        let plan = SparkConnectClient.sqlPlan("SELECT * FROM t WHERE id = ?", positional: [one])
        #expect(plan.root.sql.query == "SELECT * FROM t WHERE id = ?")
        #expect(plan.root.sql.posArguments.first?.literal.long == 1)
        let command = SparkConnectClient.sqlCommandPlan("CREATE TABLE t (id BIGINT)", named: ["x": one])
        #expect(command.command.sqlCommand.input.sql.query == "CREATE TABLE t (id BIGINT)")
        #expect(command.command.sqlCommand.input.sql.namedArguments["x"]?.literal.long == 1)
        #expect(command.command.sqlCommand.sql.isEmpty)
    }
}
