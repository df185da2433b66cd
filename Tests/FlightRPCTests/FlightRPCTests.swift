import ArrowCore
import Foundation
import Synchronization
import Testing

@testable import FlightRPC

enum FlightTestData {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let arrowTesting = root.deletingLastPathComponent().appendingPathComponent("shared/testdata/arrow-testing/data")
    static let gold = arrowTesting.appendingPathComponent("arrow-ipc-stream/integration/cpp-21.0.0")
    static let certificates = arrowTesting.appendingPathComponent("flight")
    static var goldCases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: gold.path)) ?? [])
            .filter { $0.hasSuffix(".json.gz") }.map { String($0.dropLast(8)) }.sorted()
    }
}

/// A service that serves the gold files by name and echoes uploads, for the tests below.
struct TestService: FlightService {
    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        guard case .path(let path) = descriptor, let name = path.first else { throw FlightError(.invalidArgument, "need a path") }
        let file = try IPCFileReader(try Buffer(mappingFile: FlightTestData.gold.appendingPathComponent("\(name).arrow_file").path))
        return FlightInfo(schema: file.schema, descriptor: descriptor, endpoints: [FlightEndpoint(ticket: Ticket(name))])
    }

    func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        try await getFlightInfo(descriptor, context: context).schema
    }

    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        let name = String(decoding: ticket.bytes, as: UTF8.self)
        if name == "slow" {
            try await Task.sleep(for: .seconds(5))
            return
        }
        if name == "big" {
            var values = MutableBuffer(capacity: 5_000_000 * 8)
            for i in 0..<5_000_000 { values.append(Int64(i)) }
            let column = ArrayData(type: .int64, length: 5_000_000, nullCount: 0, buffers: [Buffer(), values.finish()])
            try await writer.write(try RecordBatch(schema: Schema([Field("x", .int64)]), columns: [column]))
            return
        }
        let path = FlightTestData.gold.appendingPathComponent("\(name).arrow_file").path
        guard FileManager.default.fileExists(atPath: path) else { throw FlightError(.notFound, "no such flight: \(name)") }
        let file = try IPCFileReader(try Buffer(mappingFile: path))
        try await writer.begin(file.schema)
        for i in 0..<file.batchCount { try await writer.write(try file.batch(i), appMetadata: Array("batch \(i)".utf8)) }
    }

    func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        var rows = 0
        for try await batch in reader {
            rows += batch.length
            try await results.send(PutResult(appMetadata: Array("\(rows)".utf8)))
        }
    }

    func doExchange(_ reader: FlightRecordBatchReader, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        for try await batch in reader { try await writer.write(batch) }
    }

    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        switch action.type {
        case "echo": try await results.send(FlightResult(body: action.body))
        case "fail-with-details":
            // Binary metadata is base64 without padding, as gRPC sends it.
            let details = Data(action.body).base64EncodedString().replacingOccurrences(of: "=", with: "")
            throw FlightError(.failedPrecondition, "no", metadata: [(name: "grpc-status-details-bin", value: details)])
        case "whoami": try await results.send(FlightResult(body: Array((context.identity ?? "nobody").utf8)))
        case "watch-close":
            let connection = context.connectionID
            context.whenConnectionCloses { ClosedConnections.ids.withLock { $0.append(connection) } }
            try await results.send(FlightResult(body: Array("\(connection)".utf8)))
        case "binary-header": try await results.send(FlightResult(body: context.binaryHeader("x-trace-bin") ?? []))
        case FlightStandardAction.cancelFlightInfo:
            _ = try FlightStandardAction.cancelFlightInfoRequest(action)
            try await results.send(FlightStandardAction.result(CancelStatus.cancelled))
        case FlightStandardAction.renewFlightEndpoint:
            var endpoint = try FlightStandardAction.renewFlightEndpointRequest(action)
            endpoint.expirationTime = Date(timeIntervalSince1970: 2_000_000_000)
            try await results.send(FlightStandardAction.result(endpoint))
        case FlightStandardAction.setSessionOptions:
            let options = try FlightStandardAction.setSessionOptionsRequest(action)
            try await results.send(FlightStandardAction.result(options.keys.contains("bad") ? ["bad": SessionOptionError.invalidName] : [:]))
        case FlightStandardAction.getSessionOptions:
            try await results.send(FlightStandardAction.result(["catalog": SessionOptionValue.string("main"), "n": .int64(3)]))
        case FlightStandardAction.closeSession:
            try await results.send(FlightStandardAction.result(CloseSessionStatus.closed))
        default: throw FlightError(.invalidArgument, "unknown action \(action.type)")
        }
    }

    func listActions(context: FlightCallContext) async throws -> [ActionType] {
        [ActionType(type: "echo", description: "returns the body"), ActionType(type: "whoami", description: "the caller")]
    }

    func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws {
        for name in ["generated_primitive", "generated_nested"] {
            try await responses.send(try await getFlightInfo(.path([name]), context: context))
        }
    }
}

/// Connections whose close a `watch-close` action saw.
enum ClosedConnections {
    static let ids = Mutex<[UInt64]>([])
}

func withServer(options: FlightServerOptions = FlightServerOptions(), location: Location = .grpc(host: "127.0.0.1", port: 0),
                _ body: (FlightServer) async throws -> Void) async throws {
    let server = try FlightServer(service: TestService(), location: location, options: options)
    do {
        try await body(server)
    } catch {
        await server.shutdown(grace: .milliseconds(100))
        throw error
    }
    await server.shutdown(grace: .milliseconds(100))
}

@Suite(.serialized) struct FlightRPCTests {
    @Test func idleConnectionsAreClosedAndOurClientConnectsAgainForItsNextCall() async throws {
        try await withServer(options: FlightServerOptions(idleTimeout: .milliseconds(200))) { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let first = try #require(UInt64(String(decoding: try await client.doAction(Action(type: "watch-close")).first?.body ?? [], as: UTF8.self)))
            // Calls keep a connection busy; idle, it goes.
            let deadline = ContinuousClock.now + .seconds(5)
            while !ClosedConnections.ids.withLock({ $0.contains(first) }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ClosedConnections.ids.withLock { $0.contains(first) }, "the idle connection was not closed")
            let second = try #require(UInt64(String(decoding: try await client.doAction(Action(type: "watch-close")).first?.body ?? [], as: UTF8.self)))
            #expect(second != first)
            #expect(try await client.listActions().count == 2)
        }
    }

    @Test func servicesHearWhenAClientsConnectionCloses() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            let answer = try await client.doAction(Action(type: "watch-close"))
            let connection = try #require(UInt64(String(decoding: answer.first?.body ?? [], as: UTF8.self)))
            #expect(!ClosedConnections.ids.withLock { $0.contains(connection) })
            client.close()
            let deadline = ContinuousClock.now + .seconds(5)
            while !ClosedConnections.ids.withLock({ $0.contains(connection) }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ClosedConnections.ids.withLock { $0.contains(connection) })
        }
    }

    @Test func everyGoldCaseTravelsByDoGetValueForValue() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            for name in FlightTestData.goldCases {
                let expected = try IPCFileReader(try Buffer(mappingFile: FlightTestData.gold.appendingPathComponent("\(name).arrow_file").path))
                let stream = try await client.doGet(Ticket(name))
                let batches = try await stream.readAll()
                let difference = IntegrationComparison.firstDifference(expected: (expected.schema, try expected.batches()),
                                                                       actual: (try await stream.schema() ?? Schema([]), batches))
                #expect(difference == nil, "\(name): \(difference ?? "")")
            }
        }
    }

    @Test func unaryAndListCallsWork() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let info = try await client.getFlightInfo(.path(["generated_primitive"]))
            #expect(info.endpoints.first?.ticket == Ticket("generated_primitive"))
            let schema = try await client.getSchema(.path(["generated_primitive"]))
            #expect(schema == info.schema)
            #expect(try await client.listFlights().count == 2)
            #expect(try await client.listActions().map(\.type) == ["echo", "whoami"])
            #expect(try await client.doAction(Action(type: "echo", body: [1, 2, 3])).first?.body == [1, 2, 3])
        }
    }

    @Test func standardActionsAndBinaryHeadersRoundTrip() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let info = try await client.getFlightInfo(.path(["generated_primitive"]))
            #expect(try await client.cancelFlightInfo(info) == .cancelled)
            let renewed = try await client.renewFlightEndpoint(info.endpoints[0])
            #expect(renewed.expirationTime == Date(timeIntervalSince1970: 2_000_000_000))
            #expect(try await client.setSessionOptions(["catalog": .string("x")]).isEmpty)
            #expect(try await client.setSessionOptions(["bad": .bool(true)]) == ["bad": .invalidName])
            #expect(try await client.getSessionOptions() == ["catalog": .string("main"), "n": .int64(3)])
            #expect(try await client.closeSession() == .closed)
            var options = FlightCallOptions()
            options.addBinaryHeader("x-trace-bin", [0, 255, 7, 128])
            #expect(try await client.doAction(Action(type: "binary-header"), options: options).first?.body == [0, 255, 7, 128])
        }
    }

    final class Recorder: FlightServerMiddleware, @unchecked Sendable {
        let lock = NSLock()
        var ended: [(String, FlightError.Code)] = []
        func callStarted(method: String, context: FlightCallContext) async throws {
            if context.header("x-block") != nil { throw FlightError(.permissionDenied, "blocked by middleware") }
            context.addResponseHeader("x-seen-by", "recorder")
        }
        func callEnded(method: String, context: FlightCallContext, status: FlightError) async {
            lock.withLock { ended.append((method, status.code)) }
        }
    }

    @Test func middlewareSeesEveryCallAndCanRefuseOne() async throws {
        let recorder = Recorder()
        try await withServer(options: FlightServerOptions(middleware: [recorder], streamWindow: 1 << 20)) { server in
            let client = try await FlightClient(location: server.location, options: FlightClientOptions(streamWindow: 256 << 10))
            defer { client.close() }
            #expect(try await client.listActions().count == 2)
            #expect(try await client.doGet(Ticket("big")).readAll().count > 1)
            do {
                _ = try await client.listActions(options: FlightCallOptions(headers: [(name: "x-block", value: "1")]))
                Issue.record("expected PERMISSION_DENIED")
            } catch let error as FlightError {
                #expect(error.code == .permissionDenied)
            }
            let ended = recorder.lock.withLock { recorder.ended }
            #expect(ended.map(\.0) == ["ListActions", "DoGet"])
            #expect(ended.allSatisfy { $0.1 == .ok })
        }
    }

    @Test func errorsArriveWithTheirStatusCode() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            await #expect(throws: FlightError(.notFound, "no such flight: missing")) {
                _ = try await client.doGet(Ticket("missing")).readAll()
            }
            do {
                _ = try await client.pollFlightInfo(.path(["x"]))
                Issue.record("expected UNIMPLEMENTED")
            } catch let error as FlightError {
                #expect(error.code == .unimplemented)
            }
            do {
                _ = try await client.doAction(Action(type: "nope"))
                Issue.record("expected INVALID_ARGUMENT")
            } catch let error as FlightError {
                #expect(error.code == .invalidArgument)
                #expect(error.message == "unknown action nope")
            }
        }
    }

    @Test func doPutAndDoExchangeStreamBothWays() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let source = try IPCFileReader(try Buffer(mappingFile: FlightTestData.gold.appendingPathComponent("generated_nested.arrow_file").path))
            let put = try await client.doPut(.path(["upload"]))
            var rows = 0
            for i in 0..<source.batchCount {
                let batch = try source.batch(i)
                rows += batch.length
                try await put.writer.write(batch)
            }
            let results = try await put.finish()
            #expect(results.last.map { String(decoding: $0.appMetadata, as: UTF8.self) } == "\(rows)")

            let exchange = try await client.doExchange(.command([9]))
            let batches = try source.batches()
            for batch in batches { try await exchange.writer.write(batch) }
            exchange.finish()
            let back = try await exchange.reader.readAll()
            #expect(back.count == batches.count)
            for (a, b) in zip(back, batches) { #expect(a.firstDifference(from: b) == nil) }
        }
    }

    @Test func largeMessagesOnConcurrentStreamsArriveWholeAndAligned() async throws {
        // Frames up to 1 MiB, several streams of one connection interleaved, messages of odd
        // sizes: their bodies are read from the socket straight into place, both ways.
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let schema = Schema([Field("x", .int64), Field("s", .utf8)])
            func batch(_ stream: Int, _ index: Int, rows: Int) throws -> RecordBatch {
                var values = MutableBuffer(capacity: rows * 8)
                for i in 0..<rows { values.append(Int64(stream << 40 | index << 24 | i)) }
                let strings = StringBuilder()
                for i in 0..<rows { try strings.append(i % 7 == 0 ? "" : "s\(stream)-\(i)") }
                return try RecordBatch(schema: schema, columns: [
                    ArrayData(type: .int64, length: rows, nullCount: 0, buffers: [Buffer(), values.finish()]), strings.finish(),
                ])
            }
            let sizes = [131_071, 3, 400_013, 65_537, 1, 250_000]
            let directBefore = HTTP2Connection.directReadBytes.load(ordering: .relaxed)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in 0..<4 {
                    group.addTask {
                        let sent = try sizes.enumerated().map { try batch(stream, $0.offset, rows: $0.element) }
                        let exchange = try await client.doExchange(.command([UInt8(stream)]))
                        async let back = exchange.reader.readAll()
                        for batch in sent { try await exchange.writer.write(batch) }
                        exchange.finish()
                        // Large batches may come back split: compare the values, row by row.
                        let received = try await back
                        func values(_ batches: [RecordBatch]) throws -> ([Int64?], [String?]) {
                            (try batches.flatMap { Array(try PrimitiveArray<Int64>($0.columns[0])) },
                             try batches.flatMap { Array(try StringArray($0.columns[1])) })
                        }
                        let (gotNumbers, gotStrings) = try values(received)
                        let (sentNumbers, sentStrings) = try values(sent)
                        #expect(gotNumbers == sentNumbers)
                        #expect(gotStrings == sentStrings)
                        for a in received {
                            let address = a.columns[0].buffers[1].baseAddress.map { Int(bitPattern: $0) } ?? 0
                            #expect(a.length < 1000 || address % 64 == 0)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(HTTP2Connection.directReadBytes.load(ordering: .relaxed) > directBefore + (1 << 20))
        }
    }

    @Test func batchesLargerThanTheMessageLimitAreSplit() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location, options: FlightClientOptions(maximumReceiveMessageSize: 16 << 20))
            defer { client.close() }
            let batches = try await client.doGet(Ticket("big")).readAll()
            #expect(batches.count > 1)
            #expect(batches.reduce(0) { $0 + $1.length } == 5_000_000)
            #expect(batches.last.map { $0.columns[0].value($0.length - 1, as: Int64.self) } == 4_999_999)
            // Received bodies are placed so that Arrow buffers sliced from them are 64-byte aligned.
            for batch in batches {
                let address = batch.columns[0].buffers[1].baseAddress.map { Int(bitPattern: $0) } ?? 0
                #expect(address % 64 == 0)
            }
        }
    }

    @Test func aResponseOverTheClientsLimitEndsDoGetWithResourceExhausted() async throws {
        try await withServer { server in
            // The server splits at 4 MiB; a client that accepts 1 MiB must say why it stopped.
            let client = try await FlightClient(location: server.location, options: FlightClientOptions(maximumReceiveMessageSize: 1 << 20))
            defer { client.close() }
            do {
                _ = try await client.doGet(Ticket("big")).readAll()
                Issue.record("expected RESOURCE_EXHAUSTED")
            } catch let error as FlightError {
                #expect(error.code == .resourceExhausted, "\(error)")
            }
            #expect(try await client.listActions().count == 2)
        }
    }

    @Test func basicAuthIssuesABearerTokenCheckedOnEveryCall() async throws {
        let auth = BasicAuthenticator(secret: BasicAuthenticator.randomSecret()) { user, password in user == "alice" && password == "secret" }
        try await withServer(options: FlightServerOptions(authenticator: auth)) { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            do {
                _ = try await client.listActions()
                Issue.record("expected UNAUTHENTICATED")
            } catch let error as FlightError {
                #expect(error.code == .unauthenticated, "\(error)")
            }
            do {
                try await client.authenticateBasicToken(username: "alice", password: "wrong")
                Issue.record("expected UNAUTHENTICATED")
            } catch let error as FlightError {
                #expect(error.code == .unauthenticated, "\(error)")
            }
            try await client.authenticateBasicToken(username: "alice", password: "secret")
            #expect(try await client.doAction(Action(type: "whoami")).first?.body == Array("alice".utf8))
        }
    }

    @Test func tlsWithTheTestCertificates() async throws {
        let certs = FlightTestData.certificates
        let options = FlightServerOptions(tls: (certs.appendingPathComponent("cert0.pem").path, certs.appendingPathComponent("cert0.key").path, nil))
        try await withServer(options: options, location: .grpcTLS(host: "localhost", port: 0)) { server in
            let client = try await FlightClient(location: .grpcTLS(host: "localhost", port: server.port),
                                                options: FlightClientOptions(trustedCertificates: certs.appendingPathComponent("root-ca.pem").path))
            defer { client.close() }
            let batches = try await client.doGet(Ticket("generated_primitive")).readAll()
            #expect(!batches.isEmpty)
            // An untrusted server certificate is refused.
            await #expect(throws: FlightError.self) {
                _ = try await FlightClient(location: .grpcTLS(host: "localhost", port: server.port),
                                           options: FlightClientOptions(trustedCertificates: certs.appendingPathComponent("cert1.pem").path))
            }
        }
    }

    @Test func mutualTLSRequiresAClientCertificate() async throws {
        let certs = FlightTestData.certificates
        func path(_ name: String) -> String { certs.appendingPathComponent(name).path }
        let options = FlightServerOptions(tls: (path("cert0.pem"), path("cert0.key"), path("root-ca.pem")))
        try await withServer(options: options, location: .grpcTLS(host: "localhost", port: 0)) { server in
            let location = Location.grpcTLS(host: "localhost", port: server.port)
            let client = try await FlightClient(location: location, options: FlightClientOptions(
                trustedCertificates: path("root-ca.pem"), clientCertificate: (path("cert1.pem"), path("cert1.key"))))
            defer { client.close() }
            #expect(try await client.listActions().count == 2)
            // Without a certificate the server ends the handshake or the first call.
            do {
                let anonymous = try await FlightClient(location: location, options: FlightClientOptions(trustedCertificates: path("root-ca.pem")))
                defer { anonymous.close() }
                _ = try await anonymous.listActions()
                Issue.record("a client without a certificate was served")
            } catch {
                #expect(error is FlightError)
            }
        }
    }

    @Test func aClientThatStopsReadingMidStreamReleasesTheCall() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            for _ in 0..<5 {
                let stream = try await client.doGet(Ticket("big"))
                _ = try await stream.nextChunk()
            }
            // Each abandoned reader's call is cancelled when the reader goes away; the server keeps serving.
            #expect(try await client.doGet(Ticket("generated_primitive")).readAll().count > 0)
        }
    }

    @Test func unixDomainSockets() async throws {
        let path = "/tmp/swift-arrow-flight-test-\(getpid()).sock"
        try await withServer(location: .grpcUnix(path: path)) { server in
            let client = try await FlightClient(location: .grpcUnix(path: path))
            defer { client.close() }
            #expect(try await client.listActions().count == 2)
        }
    }

    @Test func deadlinesEndSlowCalls() async throws {
        try await withServer { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            let start = ContinuousClock.now
            do {
                _ = try await client.doGet(Ticket("slow"), options: FlightCallOptions(timeout: .milliseconds(200))).readAll()
                Issue.record("expected DEADLINE_EXCEEDED")
            } catch let error as FlightError {
                #expect(error.code == .deadlineExceeded)
            }
            #expect(ContinuousClock.now - start < .seconds(3))
            // The connection still serves other calls.
            #expect(try await client.listActions().count == 2)
        }
    }

    @Test func oversizedRequestsGetResourceExhausted() async throws {
        try await withServer(options: FlightServerOptions(maximumReceiveMessageSize: 1 << 20)) { server in
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            do {
                _ = try await client.doAction(Action(type: "echo", body: [UInt8](repeating: 7, count: 2 << 20)))
                Issue.record("expected RESOURCE_EXHAUSTED")
            } catch let error as FlightError {
                #expect(error.code == .resourceExhausted)
            }
            #expect(try await client.doAction(Action(type: "echo", body: [1])).first?.body == [1])
        }
    }

    @Test func loopTimersRunInOrderAndCancelledOnesDoNot() async throws {
        let loop = try EventLoop(name: "timer-test")
        defer { loop.shutdown() }
        let fired = Mutex<[Int]>([])
        let done = Promise<Void>()
        loop.schedule(after: .milliseconds(60)) { fired.withLock { $0.append(3) }; done.fulfill(()) }
        loop.schedule(after: .milliseconds(20)) { fired.withLock { $0.append(1) } }
        let dropped = loop.schedule(after: .milliseconds(40)) { fired.withLock { $0.append(2) } }
        loop.cancelTimer(dropped)
        await done.wait()
        #expect(fired.withLock { $0 } == [1, 3])
    }

    @Test func aChannelCallsAnyProtobufService() async throws {
        try await withServer { server in
            let channel = try await GRPCChannel(location: server.location)
            defer { channel.close() }
            var action = Arrow_Flight_Protocol_Action()
            action.type = "echo"
            action.body = Data([4, 5, 6])
            let result = try await channel.unary("/arrow.flight.protocol.FlightService/DoAction", action,
                                                 as: Arrow_Flight_Protocol_Result.self)
            #expect([UInt8](result.body) == [4, 5, 6])
            let stream = try await channel.serverStreaming("/arrow.flight.protocol.FlightService/ListActions",
                                                           Arrow_Flight_Protocol_Empty(), as: Arrow_Flight_Protocol_ActionType.self)
            var types: [String] = []
            for try await type in stream { types.append(type.type) }
            #expect(types.prefix(2) == ["echo", "whoami"])
            // The status details trailer reaches the caller, decoded.
            action.type = "fail-with-details"
            action.body = Data([1, 2, 3, 4, 5])
            do {
                _ = try await channel.unary("/arrow.flight.protocol.FlightService/DoAction", action, as: Arrow_Flight_Protocol_Result.self)
                Issue.record("expected FAILED_PRECONDITION")
            } catch let error as FlightError {
                #expect(error.code == .failedPrecondition)
                #expect(error.statusDetails == [1, 2, 3, 4, 5])
            }
            // A method the server does not have.
            await #expect(throws: FlightError.self) {
                _ = try await channel.unary("/no.Such/Method", Arrow_Flight_Protocol_Empty(), as: Arrow_Flight_Protocol_Empty.self)
            }
        }
    }

    @Test func connectionsThatStallBeforeTheirPrefaceAreClosed() async throws {
        let certs = FlightTestData.certificates
        let tls = FlightServerOptions(tls: (certs.appendingPathComponent("cert0.pem").path, certs.appendingPathComponent("cert0.key").path, nil),
                                      handshakeTimeout: .milliseconds(300))
        for (options, location) in [(FlightServerOptions(handshakeTimeout: .milliseconds(300)), Location.grpc(host: "127.0.0.1", port: 0)),
                                    (tls, Location.grpcTLS(host: "localhost", port: 0))] {
            try await withServer(options: options, location: location) { server in
                // Connect and send nothing: the server must hang up by itself.
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(server.port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                var wait = timeval(tv_sec: 5, tv_usec: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
                let started = ContinuousClock.now
                var buffer = [UInt8](repeating: 0, count: 256)
                var total = 0
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 {
                        #expect(n == 0, "the server did not close the connection")
                        break
                    }
                    total += n
                }
                close(fd)
                #expect(ContinuousClock.now - started < .seconds(4))
                // A client that completes its preface is served as usual.
                let client = try await FlightClient(location: server.location,
                                                    options: FlightClientOptions(trustedCertificates: certs.appendingPathComponent("root-ca.pem").path))
                defer { client.close() }
                #expect(try await client.listActions().count == 2)
            }
        }
    }

    @Test func garbageOnTheSocketDoesNotStopTheServer() async throws {
        try await withServer { server in
            for garbage in [[UInt8](repeating: 0x41, count: 100), Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 4, 9, 9, 9, 9, 9, 9, 1, 2, 3, 4]] {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(server.port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                _ = garbage.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                var byte: UInt8 = 0
                _ = read(fd, &byte, 1)
                close(fd)
            }
            let client = try await FlightClient(location: server.location)
            defer { client.close() }
            #expect(try await client.listActions().count == 2)
        }
    }
}
