import ArrowCore
import FlightRPC
import Foundation
import SwiftProtobuf

/// A client of one Spark Connect server (`spark.connect.SparkConnectService`), on our own gRPC
/// transport. One client is one Spark session: `sessionID` is a UUID chosen here, sent with
/// every call, and `userContext` names the user the calls run as.
///
/// Executions are reattachable: a result stream that ends without `ResultComplete` (a broken
/// connection, a server that cut a long stream) is reattached from the last response it
/// delivered, and the operation is released on the server once its results are read.
package final class SparkConnectClient: Sendable {
    static let service = "/spark.connect.SparkConnectService/"
    /// How often in a row a broken result stream is reattached without getting a response
    /// before the error is given up to the caller.
    static let maximumReattaches = 8

    package let address: SparkConnectAddress
    /// The Spark session of this client.
    package let sessionID: UUID
    /// The user the calls run as.
    package let userName: String
    private let channel: GRPCChannel
    private let metadata: [(name: String, value: String)]

    /// Connects to `address` and starts a session for `userName` (nil: the address's `user_id`,
    /// else `swift-arrow-flight`). TLS settings come from `options`.
    package init(address: SparkConnectAddress, userName: String? = nil,
                 options: FlightClientOptions = FlightClientOptions()) async throws {
        self.address = address
        sessionID = address.sessionID ?? UUID()
        self.userName = userName ?? address.userID ?? "swift-arrow-flight"
        var metadata: [(name: String, value: String)] = address.parameters.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        if let token = address.token { metadata.append((name: "authorization", value: "Bearer \(token)")) }
        self.metadata = metadata
        channel = try await GRPCChannel(location: address.location, options: options)
    }

    /// Closes the connection (the session stays on the server until ``releaseSession()`` or its
    /// idle timeout).
    package func close() {
        channel.close()
    }

    var userContext: Spark_Connect_UserContext {
        var context = Spark_Connect_UserContext()
        context.userID = userName
        context.userName = userName
        return context
    }

    var clientType: String { address.userAgent ?? "swift-arrow-flight" }

    /// `request` with this client's session, user and client type filled in.
    func stamped<Request: SparkSessionRequest>(_ request: Request) -> Request {
        var request = request
        request.sessionID = sessionID.uuidString.lowercased()
        request.userContext = userContext
        request.clientType = clientType
        return request
    }

    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, as response: Response.Type
    ) async throws -> Response {
        do {
            return try await channel.unary(Self.service + method, request, as: response, metadata: metadata)
        } catch let error as FlightError {
            throw SparkError.status(error)
        }
    }

    // MARK: - Execution

    /// Runs `plan` and returns its responses as they arrive, reattaching when the stream breaks.
    /// `operationID` (a UUID) lets the caller interrupt the operation; `tags` label it.
    package func execute(_ plan: Spark_Connect_Plan, operationID: UUID = UUID(), tags: [String] = []) -> SparkExecution {
        SparkExecution(client: self, plan: plan, operationID: operationID, tags: tags)
    }

    func openExecution(_ plan: Spark_Connect_Plan, operationID: UUID, tags: [String])
        async throws -> GRPCResponseStream<Spark_Connect_ExecutePlanResponse> {
        var request = Spark_Connect_ExecutePlanRequest()
        request.plan = plan
        request.operationID = operationID.uuidString.lowercased()
        request.tags = tags
        var reattach = Spark_Connect_ExecutePlanRequest.RequestOption()
        var options = Spark_Connect_ReattachOptions()
        options.reattachable = true
        reattach.reattachOptions = options
        request.requestOptions = [reattach]
        return try await channel.serverStreaming(Self.service + "ExecutePlan", stamped(request), as: Spark_Connect_ExecutePlanResponse.self,
                                                 metadata: metadata)
    }

    func reattach(operationID: UUID, after responseID: String?) async throws -> GRPCResponseStream<Spark_Connect_ExecutePlanResponse> {
        var request = Spark_Connect_ReattachExecuteRequest()
        request.operationID = operationID.uuidString.lowercased()
        if let responseID { request.lastResponseID = responseID }
        return try await channel.serverStreaming(Self.service + "ReattachExecute", stamped(request), as: Spark_Connect_ExecutePlanResponse.self,
                                                 metadata: metadata)
    }

    /// Drops what the server keeps of an operation (its buffered responses; a running one is
    /// stopped).
    package func release(operationID: UUID) async throws {
        var request = Spark_Connect_ReleaseExecuteRequest()
        request.operationID = operationID.uuidString.lowercased()
        request.releaseAll = Spark_Connect_ReleaseExecuteRequest.ReleaseAll()
        _ = try await unary("ReleaseExecute", stamped(request), as: Spark_Connect_ReleaseExecuteResponse.self)
    }

    /// Interrupts one operation; returns the ids Spark interrupted.
    @discardableResult
    package func interrupt(operationID: UUID) async throws -> [String] {
        var request = Spark_Connect_InterruptRequest()
        request.interruptType = .operationID
        request.operationID = operationID.uuidString.lowercased()
        return try await unary("Interrupt", stamped(request), as: Spark_Connect_InterruptResponse.self).interruptedIds
    }

    /// Interrupts every operation of the session.
    @discardableResult
    package func interruptAll() async throws -> [String] {
        var request = Spark_Connect_InterruptRequest()
        request.interruptType = .all
        return try await unary("Interrupt", stamped(request), as: Spark_Connect_InterruptResponse.self).interruptedIds
    }

    /// Ends the session on the server.
    package func releaseSession() async throws {
        _ = try await unary("ReleaseSession", stamped(Spark_Connect_ReleaseSessionRequest()), as: Spark_Connect_ReleaseSessionResponse.self)
    }

    // MARK: - Analysis and configuration

    func analyze(_ request: Spark_Connect_AnalyzePlanRequest) async throws -> Spark_Connect_AnalyzePlanResponse {
        try await unary("AnalyzePlan", stamped(request), as: Spark_Connect_AnalyzePlanResponse.self)
    }

    /// The Spark type of what `plan` returns, without running it.
    package func schema(of plan: Spark_Connect_Plan) async throws -> Spark_Connect_DataType {
        var request = Spark_Connect_AnalyzePlanRequest()
        var schema = Spark_Connect_AnalyzePlanRequest.Schema()
        schema.plan = plan
        request.schema = schema
        return try await analyze(request).schema.schema
    }

    /// Spark's explanation of `plan` (`mode` cost gives the optimized plan with its size
    /// estimates).
    package func explain(_ plan: Spark_Connect_Plan,
                         mode: Spark_Connect_AnalyzePlanRequest.Explain.ExplainMode = .simple) async throws -> String {
        var request = Spark_Connect_AnalyzePlanRequest()
        var explain = Spark_Connect_AnalyzePlanRequest.Explain()
        explain.plan = plan
        explain.explainMode = mode
        request.explain = explain
        return try await analyze(request).explain.explainString
    }

    /// The files `plan` reads, as Spark lists them (URIs such as `file:///...`); empty when it
    /// reads none.
    package func inputFiles(_ plan: Spark_Connect_Plan) async throws -> [String] {
        var request = Spark_Connect_AnalyzePlanRequest()
        var files = Spark_Connect_AnalyzePlanRequest.InputFiles()
        files.plan = plan
        request.inputFiles = files
        return try await analyze(request).inputFiles.files
    }

    /// The server's Spark version.
    package func sparkVersion() async throws -> String {
        var request = Spark_Connect_AnalyzePlanRequest()
        request.sparkVersion = Spark_Connect_AnalyzePlanRequest.SparkVersion()
        return try await analyze(request).sparkVersion.version
    }

    func config(_ operation: Spark_Connect_ConfigRequest.Operation) async throws -> Spark_Connect_ConfigResponse {
        var request = Spark_Connect_ConfigRequest()
        request.operation = operation
        return try await unary("Config", stamped(request), as: Spark_Connect_ConfigResponse.self)
    }

    /// Sets session configuration (`spark.sql.session.timeZone`, ...).
    package func setConfig(_ pairs: [(key: String, value: String)]) async throws {
        var set = Spark_Connect_ConfigRequest.Set()
        set.pairs = pairs.map { pair in
            var kv = Spark_Connect_KeyValue()
            kv.key = pair.key
            kv.value = pair.value
            return kv
        }
        var operation = Spark_Connect_ConfigRequest.Operation()
        operation.set = set
        _ = try await config(operation)
    }

    /// Returns session configuration to its defaults.
    package func unsetConfig(_ keys: [String]) async throws {
        var unset = Spark_Connect_ConfigRequest.Unset()
        unset.keys = keys
        var operation = Spark_Connect_ConfigRequest.Operation()
        operation.unset = unset
        _ = try await config(operation)
    }

    /// Reads session configuration; keys Spark does not know are nil.
    package func getConfig(_ keys: [String]) async throws -> [String: String?] {
        var get = Spark_Connect_ConfigRequest.GetOption()
        get.keys = keys
        var operation = Spark_Connect_ConfigRequest.Operation()
        operation.getOption = get
        var out: [String: String?] = [:]
        for pair in try await config(operation).pairs { out[pair.key] = pair.hasValue ? pair.value : nil }
        return out
    }

    // MARK: - SQL

    /// A literal as an expression: what parameters of SQL plans are.
    static func expression(_ literal: Spark_Connect_Expression.Literal) -> Spark_Connect_Expression {
        var expression = Spark_Connect_Expression()
        expression.literal = literal
        return expression
    }

    /// The plan of a SQL query, with positional (`?`) or named (`:name`) parameters.
    package static func sqlPlan(_ query: String, positional: [Spark_Connect_Expression.Literal] = [],
                                named: [String: Spark_Connect_Expression.Literal] = [:]) -> Spark_Connect_Plan {
        var sql = Spark_Connect_SQL()
        sql.query = query
        sql.posArguments = positional.map(expression)
        sql.namedArguments = named.mapValues(expression)
        var relation = Spark_Connect_Relation()
        relation.sql = sql
        var plan = Spark_Connect_Plan()
        plan.root = relation
        return plan
    }

    /// The plan of a SQL statement run as a command: Spark runs DDL and DML eagerly and answers
    /// a query with its relation, not run. The statement travels as the SQL relation of
    /// ``sqlPlan(_:positional:named:)`` in `input`, the current form of SqlCommand.
    package static func sqlCommandPlan(_ statement: String, positional: [Spark_Connect_Expression.Literal] = [],
                                       named: [String: Spark_Connect_Expression.Literal] = [:]) -> Spark_Connect_Plan {
        var command = Spark_Connect_SqlCommand()
        command.input = sqlPlan(statement, positional: positional, named: named).root
        var wrapper = Spark_Connect_Command()
        wrapper.sqlCommand = command
        var plan = Spark_Connect_Plan()
        plan.command = wrapper
        return plan
    }

    /// Runs `plan` and returns its record batches as they arrive.
    package func batches(_ plan: Spark_Connect_Plan, operationID: UUID = UUID()) -> SparkBatches {
        SparkBatches(execution: execute(plan, operationID: operationID))
    }

    /// Runs a SQL query and returns its record batches as they arrive.
    package func sql(_ query: String, positional: [Spark_Connect_Expression.Literal] = [],
                     operationID: UUID = UUID()) -> SparkBatches {
        batches(Self.sqlPlan(query, positional: positional), operationID: operationID)
    }
}

/// The fields every session-scoped request of Spark Connect carries.
protocol SparkSessionRequest {
    var sessionID: String { get set }
    var userContext: Spark_Connect_UserContext { get set }
    var clientType: String { get set }
}

extension Spark_Connect_ExecutePlanRequest: SparkSessionRequest {}
extension Spark_Connect_ReattachExecuteRequest: SparkSessionRequest {}
extension Spark_Connect_ReleaseExecuteRequest: SparkSessionRequest {}
extension Spark_Connect_ReleaseSessionRequest: SparkSessionRequest {}
extension Spark_Connect_InterruptRequest: SparkSessionRequest {}
extension Spark_Connect_AnalyzePlanRequest: SparkSessionRequest {}
extension Spark_Connect_ConfigRequest: SparkSessionRequest {}

/// The responses of one execution, reattached across broken streams until `ResultComplete`,
/// then released. Iterate it once.
package struct SparkExecution: AsyncSequence, Sendable {
    package typealias Element = Spark_Connect_ExecutePlanResponse
    let client: SparkConnectClient
    let plan: Spark_Connect_Plan
    /// The operation's id, for ``SparkConnectClient/interrupt(operationID:)``.
    package let operationID: UUID
    let tags: [String]

    package struct AsyncIterator: AsyncIteratorProtocol {
        let execution: SparkExecution
        var stream: GRPCResponseStream<Spark_Connect_ExecutePlanResponse>.AsyncIterator?
        var lastResponseID: String?
        /// Reattaches in a row that delivered nothing: Spark cuts long streams on purpose
        /// (by time and size), so only fruitless ones count against the limit.
        var reattaches = 0
        var complete = false
        var started = false

        package mutating func next() async throws -> Spark_Connect_ExecutePlanResponse? {
            let client = execution.client
            while !complete {
                if stream == nil {
                    do {
                        stream = started
                            ? try await client.reattach(operationID: execution.operationID, after: lastResponseID).makeAsyncIterator()
                            : try await client.openExecution(execution.plan, operationID: execution.operationID, tags: execution.tags)
                                .makeAsyncIterator()
                        started = true
                    } catch let error as FlightError {
                        throw SparkError.status(error)
                    }
                }
                do {
                    guard let response = try await stream?.next() else {
                        // The stream ended without ResultComplete: the server cut it; reattach.
                        stream = nil
                        try countReattach()
                        continue
                    }
                    reattaches = 0
                    if !response.responseID.isEmpty { lastResponseID = response.responseID }
                    if case .resultComplete = response.responseType {
                        complete = true
                        let client = execution.client, id = execution.operationID
                        // The results are read: the server may drop them. Nobody waits for it.
                        Task { try? await client.release(operationID: id) }
                        return nil
                    }
                    return response
                } catch let error as FlightError where error.code == .unavailable {
                    // A broken connection or a server going away: the operation lives on.
                    stream = nil
                    try countReattach(error)
                } catch let error as FlightError {
                    throw SparkError.status(error)
                }
            }
            return nil
        }

        private mutating func countReattach(_ cause: FlightError? = nil) throws {
            reattaches += 1
            guard reattaches <= SparkConnectClient.maximumReattaches else {
                if let cause { throw SparkError.status(cause) }
                throw SparkConnectError.protocolViolation("the result stream ended \(reattaches) times without ResultComplete")
            }
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(execution: self)
    }
}

/// The record batches of a query, decoded from the Arrow IPC streams of its `arrow_batch`
/// responses. Iterate it once.
package struct SparkBatches: AsyncSequence, Sendable {
    package typealias Element = RecordBatch
    let execution: SparkExecution
    /// The operation's id, for ``SparkConnectClient/interrupt(operationID:)``.
    package var operationID: UUID { execution.operationID }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var responses: SparkExecution.AsyncIterator
        var pending: [RecordBatch] = []
        /// The schema of the first IPC stream: an empty result still has one.
        package private(set) var schema: Schema?

        package mutating func next() async throws -> RecordBatch? {
            while pending.isEmpty {
                guard let response = try await responses.next() else { return nil }
                guard case .arrowBatch(let batch) = response.responseType else { continue }
                var reader = try batch.data.withUnsafeBytes { try IPCStreamReader(Buffer(copying: $0)) }
                if schema == nil { schema = reader.schema }
                while let next = reader.next() { pending.append(next) }
                if let error = reader.error { throw error }
                pending.reverse()
            }
            return pending.popLast()
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(responses: execution.makeAsyncIterator())
    }
}
