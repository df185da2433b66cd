import ArrowCore
import FlightManager
import FlightRPC
import FlightSQL
import FlightSQLSQLite
import Foundation
import Testing

/// Our Flight SQL client against our gateway over a real socket: every command and action.
func withGateway(readOnly: Bool = false, transactionIdleTimeout: Duration = .seconds(300),
                 stalledClientTimeout: Duration = .seconds(120), _ body: (FlightSQLClient, TemporaryDatabase) async throws -> Void) async throws {
    let database = try TemporaryDatabase()
    let setup = try database.open()
    try setup.execute("""
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
        INSERT INTO parent VALUES (1, 'one'), (2, 'two');
        INSERT INTO child VALUES (10, 1, 'a'), (11, 2, NULL);
        """)
    setup.close()
    let engine = try SQLiteEngine(path: database.path, readOnly: readOnly, transactionIdleTimeout: transactionIdleTimeout,
                                  stalledClientTimeout: stalledClientTimeout)
    let server = try FlightServer(service: FlightSQLAdapter(engine), location: .grpc(host: "127.0.0.1", port: 0))
    let client = try await FlightSQLClient(location: server.location)
    do {
        try await body(client, database)
    } catch {
        client.close()
        await server.shutdown(grace: .milliseconds(100))
        engine.close()
        throw error
    }
    client.close()
    await server.shutdown(grace: .milliseconds(100))
    engine.close()
}

func int64Column(_ values: [Int64?]) -> ArrayData {
    let builder = PrimitiveBuilder<Int64>()
    for value in values { builder.append(value) }
    return builder.finish()
}

func stringColumn(_ values: [String?]) throws -> ArrayData {
    let builder = StringBuilder()
    for value in values { try builder.append(value) }
    return builder.finish()
}

func strings(_ batches: [RecordBatch], column: Int) throws -> [String?] {
    try batches.flatMap { Array(try StringArray($0.columns[column])) }
}

func int64s(_ batches: [RecordBatch], column: Int) throws -> [Int64?] {
    try batches.flatMap { Array(try PrimitiveArray<Int64>($0.columns[column])) }
}

@Suite(.serialized) struct FlightSQLClientTests {
    @Test func queryResultsArriveWithTheirSchema() async throws {
        try await withGateway { client, _ in
            let info = try await client.execute("SELECT id, name FROM parent ORDER BY id")
            #expect(info.schema.fields.map(\.name) == ["id", "name"])
            #expect(info.schema.fields.map(\.type) == [.int64, .utf8])
            let batches = try await client.readAll(info)
            #expect(try int64s(batches, column: 0) == [1, 2])
            #expect(try strings(batches, column: 1) == ["one", "two"])
            var streamed = 0
            for try await batch in client.stream(try await client.execute("SELECT * FROM child")) { streamed += batch.length }
            #expect(streamed == 2)
        }
    }

    @Test func resultsReadAtPlanningMatchResultsStreamedLater() async throws {
        try await withGateway { client, _ in
            // Mixed classes in an untyped column: numbers read as SQLite's own text of them.
            let mixed = "SELECT CASE WHEN i % 2 = 0 THEN i * 1.5 ELSE 'x' || i END AS v FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) SELECT i FROM n)"
            let small = try await client.readAll(try await client.execute(mixed.replacingOccurrences(of: "%d", with: "10")))
            #expect(small.first?.schema.fields.map(\.type) == [.utf8])
            #expect(try strings(small, column: 0).prefix(4) == ["x1", "3.0", "x3", "6.0"])
            // Past the planning sample the query runs again and streams: the same values.
            let large = try await client.readAll(try await client.execute(mixed.replacingOccurrences(of: "%d", with: "5000")))
            #expect(try strings(large, column: 0).prefix(10) == strings(small, column: 0).prefix(10))
            #expect(large.reduce(0) { $0 + $1.length } == 5000)
            let count = try await client.readAll(try await client.execute("SELECT count(*) AS n, max(name) FROM parent"))
            #expect(count.first?.schema.fields.map(\.type) == [.int64, .utf8])
            #expect(try int64s(count, column: 0) == [2])
        }
    }

    /// 5,000 rows in `big`, more than a plan reads: a query of them keeps its cursor open.
    static let bigTable = """
        CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO big SELECT i, 'n' || i FROM n;
        """

    @Test func aQueryRunsOnceAndItsReadSeesWhatItsPlanSaw() async throws {
        try await withGateway { client, _ in
            _ = try await client.executeUpdate(Self.bigTable)
            let info = try await client.execute("SELECT id, name FROM big ORDER BY id")
            // A change after the plan: the read goes on with the plan's cursor and snapshot.
            #expect(try await client.executeUpdate("DELETE FROM big WHERE id > 10") == 4990)
            let batches = try await client.readAll(info)
            #expect(try int64s(batches, column: 0) == (1...5000).map { Int64($0) })
            #expect(batches.first?.length == 1024)
            #expect(try await client.readAll(try await client.execute("SELECT id FROM big")).reduce(0) { $0 + $1.length } == 10)
        }
    }

    @Test func aPreparedQueryGoesOnFromItsPreparationUnlessTheDatabaseChanged() async throws {
        try await withGateway { client, database in
            _ = try await client.executeUpdate(Self.bigTable)
            func count(_ statement: FlightSQLPreparedStatement) async throws -> Int {
                try await client.readAll(try await statement.execute()).reduce(0) { $0 + $1.length }
            }
            // Executed as prepared: from the preparation's cursor, the schema it published.
            let whole = try await client.prepare("SELECT id, 'x' || id AS label FROM big")
            #expect(whole.datasetSchema.fields.map(\.type) == [.int64, .utf8])
            let info = try await whole.execute()
            #expect(info.schema == whole.datasetSchema)
            #expect(try await client.readAll(info).reduce(0) { $0 + $1.length } == 5000)
            #expect(try await count(whole) == 5000)
            // A write through the gateway after the preparation is seen by the execution.
            let later = try await client.prepare("SELECT id FROM big")
            let small = try await client.prepare("SELECT count(*) AS n FROM big")
            _ = try await client.executeUpdate("DELETE FROM big WHERE id > 4000")
            #expect(try await count(later) == 4000)
            #expect(try int64s(try await client.readAll(try await small.execute()), column: 0) == [4000])
            // And so is a write by another process's connection to the file.
            let external = try await client.prepare("SELECT id FROM big")
            let writer = try database.open()
            try writer.execute("DELETE FROM big WHERE id > 3000")
            writer.close()
            #expect(try await count(external) == 3000)
            for statement in [whole, later, small, external] { try await statement.close() }
        }
    }

    @Test func queriesPlannedBeyondTheOpenCursorsRunAgainWhenRead() async throws {
        try await withGateway { client, _ in
            _ = try await client.executeUpdate(Self.bigTable)
            // Half the 64 connections keep cursors; the rest of the plans run again when read.
            var infos: [FlightInfo] = []
            for _ in 0..<40 { infos.append(try await client.execute("SELECT id FROM big")) }
            _ = try await client.executeUpdate("DELETE FROM big WHERE id > 2000")
            var counts: [Int] = []
            for info in infos { counts.append(try await client.readAll(info).reduce(0) { $0 + $1.length }) }
            #expect(counts == Array(repeating: 5000, count: 32) + Array(repeating: 2000, count: 8))
        }
    }

    @Test func aCursorUnreadForTooLongIsClosedAndItsTicketRunsTheQueryAgain() async throws {
        try await withGateway(transactionIdleTimeout: .seconds(1), stalledClientTimeout: .milliseconds(200)) { client, _ in
            _ = try await client.executeUpdate(Self.bigTable)
            let info = try await client.execute("SELECT id FROM big")
            _ = try await client.executeUpdate("DELETE FROM big WHERE id > 3000")
            try await Task.sleep(for: .milliseconds(1000))
            #expect(try await client.readAll(info).reduce(0) { $0 + $1.length } == 3000)
        }
    }

    @Test func aWriteInATransactionClosesItsOpenCursors() async throws {
        try await withGateway { client, database in
            _ = try await client.executeUpdate(Self.bigTable)
            let transaction = try await client.beginTransaction()
            let kept = try await client.execute("SELECT id FROM big", transaction: transaction)
            #expect(try await client.readAll(kept).reduce(0) { $0 + $1.length } == 5000)
            // A commit with a cursor open: the cursor is closed and its read refused.
            let unread = try await client.execute("SELECT id FROM big", transaction: transaction)
            try await client.commit(transaction)
            await #expect(throws: FlightError.self) { try await client.readAll(unread) }
            // After a write of its transaction, a planned query reads what the write left.
            let writing = try await client.beginTransaction()
            let planned = try await client.execute("SELECT id FROM big", transaction: writing)
            #expect(try await client.executeUpdate("DELETE FROM big WHERE id > 1100", transaction: writing) == 3900)
            #expect(try await client.readAll(planned).reduce(0) { $0 + $1.length } == 1100)
            try await client.commit(writing)
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM big") == [["1100"]])
        }
    }

    @Test func updatesReturnRowCounts() async throws {
        try await withGateway { client, _ in
            #expect(try await client.executeUpdate("INSERT INTO parent VALUES (3, 'three'), (4, 'four')") == 2)
            #expect(try await client.executeUpdate("UPDATE parent SET name = upper(name)") == 4)
            #expect(try await client.executeUpdate("CREATE TABLE empty (x)") == 0)
            let schema = try await client.executeSchema("SELECT id, name FROM parent")
            #expect(schema.fields.map(\.type) == [.int64, .utf8])
        }
    }

    @Test func preparedStatementsBindParameterRows() async throws {
        try await withGateway { client, _ in
            let insert = try await client.prepare("INSERT INTO parent VALUES (?, ?)")
            #expect(insert.isUpdate == true)
            #expect(insert.parameterSchema.fields.count == 2)
            let schema = Schema([Field("id", .int64), Field("name", .utf8)])
            insert.bind([try RecordBatch(schema: schema, columns: [int64Column([5, 6, 7]), try stringColumn(["five", "six", "seven"])])],
                        schema: schema)
            #expect(try await insert.executeUpdate() == 3)
            try await insert.close()

            let query = try await client.prepare("SELECT name FROM parent WHERE id = ?")
            #expect(query.isUpdate == false)
            #expect(query.datasetSchema.fields.map(\.type) == [.utf8])
            let parameter = Schema([Field("id", .int64)])
            query.bind([try RecordBatch(schema: parameter, columns: [int64Column([7])])], schema: parameter)
            #expect(try strings(try await client.readAll(try await query.execute()), column: 0) == ["seven"])
            try await query.close()
            await #expect(throws: FlightError.self) { try await query.close() }
        }
    }

    @Test func transactionsCommitRollBackAndKeepSavepoints() async throws {
        try await withGateway { client, database in
            let transaction = try await client.beginTransaction()
            #expect(try await client.executeUpdate("INSERT INTO parent VALUES (20, 'kept')", transaction: transaction) == 1)
            let savepoint = try await client.beginSavepoint("before_drop", in: transaction)
            #expect(try await client.executeUpdate("DELETE FROM parent WHERE id = 20", transaction: transaction) == 1)
            try await client.rollback(to: savepoint)
            let inside = try await client.readAll(try await client.execute("SELECT count(*) FROM parent", transaction: transaction))
            #expect(try int64s(inside, column: 0) == [3])
            // Others do not see it before the commit.
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM parent") == [["2"]])
            try await client.commit(transaction)
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM parent") == [["3"]])

            let discarded = try await client.beginTransaction()
            #expect(try await client.executeUpdate("DELETE FROM child", transaction: discarded) == 2)
            try await client.rollback(discarded)
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM child") == [["2"]])
            await #expect(throws: FlightError.self) { try await client.commit(discarded) }
        }
    }

    @Test func anIdleTransactionIsRolledBackAndFreesItsLock() async throws {
        try await withGateway(transactionIdleTimeout: .milliseconds(400)) { client, database in
            let abandoned = try await client.beginTransaction()
            #expect(try await client.executeUpdate("INSERT INTO parent VALUES (30, 'abandoned')", transaction: abandoned) == 1)
            try await Task.sleep(for: .milliseconds(1200))
            await #expect(throws: FlightError.self) { try await client.commit(abandoned) }
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM parent WHERE id = 30") == [["0"]])
            // The write lock it held is free again.
            #expect(try await client.executeUpdate("INSERT INTO parent VALUES (31, 'later')") == 1)
        }
    }

    @Test func sessionOptionsNameTheDefaultSchemaAndEndWithTheSession() async throws {
        try await withGateway { client, _ in
            let errors = try await client.flight.setSessionOptions(["schema": .string("nowhere"), "colour": .string("blue")])
            #expect(errors == ["schema": .invalidValue, "colour": .invalidName])
            #expect(try await client.flight.setSessionOptions(["schema": .string("main"), "catalog": .string("")]) == [:])
            #expect(try await client.flight.getSessionOptions() == ["schema": .string("main"), "catalog": .string("")])
            let keys = try await client.readAll(try await client.getPrimaryKeys(table: "parent"))
            #expect(try strings(keys, column: 1) == ["main"])
            #expect(try await client.flight.closeSession() == .closed)
            #expect(try await client.flight.getSessionOptions() == [:])
        }
    }

    @Test func cancellingARunningQueryStopsItsStream() async throws {
        try await withGateway { client, _ in
            let info = try await client.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n
                """)
            let reader = Task { try await client.readAll(info) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.cancel(info) == .cancelled)
            do {
                _ = try await reader.value
                Issue.record("the stream did not stop")
            } catch let error as FlightError {
                #expect(error.code == .cancelled)
            }
            #expect(try await client.cancel(info) == .notCancellable)
        }
    }

    @Test func aStalledUploadIsEndedAndFreesTheWriteLock() async throws {
        try await withGateway(stalledClientTimeout: .milliseconds(300)) { client, database in
            let schema = Schema([Field("k", .int64)])
            var command = CommandStatementIngest()
            command.table = "slow"
            command.tableDefinitionOptions.ifNotExist = .create
            command.tableDefinitionOptions.ifExists = .append
            let call = try await client.flight.doPut(.command(FlightSQLAny.pack(command)))
            try await call.writer.write(try RecordBatch(schema: schema, columns: [int64Column([1, 2])]))
            // Well past the 300 ms: on two busy cores the server may start reading late.
            try await Task.sleep(for: .milliseconds(2000))
            await #expect(throws: FlightError.self) { try await call.finish() }
            // Nothing of it stayed, and others can write again.
            #expect(try await client.executeUpdate("INSERT INTO parent VALUES (40, 'after')") == 1)
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM sqlite_schema WHERE name = 'slow'") == [["0"]])
        }
    }

    @Test func aReaderThatStallsIsCutOff() async throws {
        try await withGateway(stalledClientTimeout: .milliseconds(300)) { client, _ in
            // Far more than the flow-control windows and send queue hold, so the server's
            // writes wait for this reader.
            let info = try await client.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)
                SELECT i, 'padding to fill the windows faster ' || i AS label FROM n
                """)
            let stream = try await client.flight.doGet(try #require(info.endpoints.first).ticket)
            #expect(try await stream.next() != nil)
            try await Task.sleep(for: .milliseconds(1500))
            do {
                while try await stream.next() != nil {}
                Issue.record("the stalled stream was not ended")
            } catch let error as FlightError {
                #expect(error.code == .aborted)
            }
        }
    }

    @Test func ingestCreatesAppendsAndReplacesAtomically() async throws {
        try await withGateway { client, database in
            let schema = Schema([Field("k", .int64, nullable: false), Field("v", .utf8)])
            let batch = try RecordBatch(schema: schema, columns: [int64Column([1, 2]), try stringColumn(["a", nil])])
            #expect(try await client.ingest([batch], schema: schema, table: "loaded", mode: .create) == 2)
            #expect(try await client.ingest([batch, batch], schema: schema, table: "loaded", mode: .append) == 4)
            await #expect(throws: FlightError.self) {
                try await client.ingest([batch], schema: schema, table: "loaded", mode: .create)
            }
            #expect(try await client.ingest([batch], schema: schema, table: "loaded", mode: .replace) == 2)
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM loaded") == [["2"]])
            // A NOT NULL violation part-way leaves nothing of the upload.
            let bad = try RecordBatch(schema: Schema([Field("k", .int64), Field("v", .utf8)]),
                                      columns: [int64Column([3, nil]), try stringColumn(["x", "y"])])
            await #expect(throws: FlightError.self) {
                try await client.ingest([bad], schema: bad.schema, table: "loaded", mode: .append)
            }
            #expect(try database.open(readOnly: true).rows("SELECT count(*) FROM loaded") == [["2"]])

            // Temporary tables belong to one connection: only inside a transaction.
            await #expect(throws: FlightError.self) {
                try await client.ingest([batch], schema: schema, table: "scratch", mode: .create, temporary: true)
            }
            let transaction = try await client.beginTransaction()
            #expect(try await client.ingest([batch], schema: schema, table: "scratch", mode: .create, temporary: true,
                                            transaction: transaction) == 2)
            let counted = try await client.readAll(try await client.execute("SELECT count(*) FROM temp.scratch", transaction: transaction))
            #expect(try int64s(counted, column: 0) == [2])
            try await client.rollback(transaction)
        }
    }

    @Test func metadataDecodesIntoRows() async throws {
        try await withGateway { client, _ in
            #expect(try await client.catalogs() == [])
            #expect(try await client.dbSchemas() == [DbSchemaRow(catalog: nil, name: "main")])
            let tables = try await client.tables(includeSchema: true)
            #expect(tables.map(\.name) == ["child", "parent"])
            #expect(tables.first { $0.name == "parent" }?.schema?.fields.map(\.nullable) == [false, false])
            #expect(try await client.tableTypes() == ["TABLE", "VIEW"])
            let info = try await client.sqlInfo([0, 8, 508, 9999])
            #expect(info[0] == .string("swift-arrow-flight SQLite"))
            #expect(info[8] == .int32Bitmask(2))
            if case .stringList(let keywords) = info[508] { #expect(keywords.contains("SELECT")) } else { Issue.record("no keywords") }
            #expect(info[9999] == nil)
            let keys = try await client.readAll(try await client.getImportedKeys(table: "child"))
            #expect(try strings(keys, column: 2) == ["parent"])
        }
    }

    @Test func errorsAreStatusesAndTheServerGoesOn() async throws {
        try await withGateway { client, _ in
            do {
                _ = try await client.execute("SELEC 1")
                Issue.record("no error")
            } catch let error as FlightError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("syntax error"))
            }
            do {
                _ = try await client.execute("SELECT 1; SELECT 2")
                Issue.record("no error")
            } catch let error as FlightError {
                #expect(error.code == .invalidArgument)
            }
            #expect(try int64s(try await client.readAll(try await client.execute("SELECT 41 + 1")), column: 0) == [42])
        }
    }

    @Test func clientsCannotReachOtherFilesOrChangeSharedConnections() async throws {
        try await withGateway { client, database in
            let elsewhere = database.directory.appendingPathComponent("elsewhere.sqlite").path
            for sql in ["ATTACH '\(elsewhere)' AS other", "VACUUM INTO '\(elsewhere)'", "PRAGMA foreign_keys = OFF"] {
                do {
                    _ = try await client.executeUpdate(sql)
                    Issue.record("\(sql) was allowed")
                } catch let error as FlightError {
                    #expect(error.message.contains("authoriz"), "\(sql): \(error)")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: elsewhere))
            // A temporary table made outside a transaction does not outlive its call.
            _ = try await client.executeUpdate("CREATE TEMP TABLE mine (x)")
            await #expect(throws: FlightError.self) { try await client.readAll(try await client.execute("SELECT * FROM temp.mine")) }
            #expect(try int64s(try await client.readAll(try await client.execute("PRAGMA foreign_keys")), column: 0) == [1])
            _ = try await client.executeUpdate("VACUUM")
        }
    }

    @Test func aReadOnlyGatewayRefusesWrites() async throws {
        try await withGateway(readOnly: true) { client, _ in
            do {
                _ = try await client.executeUpdate("DELETE FROM parent")
                Issue.record("no error")
            } catch let error as FlightError {
                #expect(error.code == .permissionDenied)
            }
        }
    }
}

@Suite struct FlightManagerTests {
    struct Numbers: DistributedQuery {
        let schema = Schema([Field("n", .int64)])
        func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] {
            (0..<3).map { part in
                .local { sink in
                    try await sink.write(try RecordBatch(schema: Schema([Field("n", .int64)]), columns: [int64Column([Int64(part)])]))
                }
            }
        }
    }

    @Test func ticketsAreSignedAndExpire() throws {
        let secret = [UInt8](repeating: 7, count: 32)
        let ticket = ManagerTicket(queryID: [UInt8](repeating: 1, count: 16), partition: 2, expiry: 2_000_000_000, body: .held)
        var bytes = ticket.encoded(secret: secret)
        #expect(try ManagerTicket(decoding: bytes, secret: secret, now: 1_000) == ticket)
        #expect(throws: FlightError.self) { try ManagerTicket(decoding: bytes, secret: [UInt8](repeating: 8, count: 32), now: 1_000) }
        #expect(throws: FlightError.self) { try ManagerTicket(decoding: bytes, secret: secret, now: 2_000_000_001) }
        bytes[10] ^= 1
        #expect(throws: FlightError.self) { try ManagerTicket(decoding: bytes, secret: secret, now: 1_000) }
        #expect(throws: FlightError.self) { try ManagerTicket(decoding: Array(bytes.prefix(20)), secret: secret) }
    }

    @Test func localManagerGivesOneEndpointPerPartitionAndCancels() async throws {
        let manager = LocalFlightManager()
        let info = try await manager.distribute(Numbers(), for: .path(["numbers"]))
        #expect(info.endpoints.count == 3)
        #expect(info.endpoints.allSatisfy { $0.locations.isEmpty && $0.expirationTime == nil })
        #expect(manager.heldQueryCount == 1)
        #expect(await manager.cancel(info) == .cancelled)
        #expect(manager.heldQueryCount == 0)
        #expect(await manager.cancel(info) == .notCancellable)
    }
}

@Suite struct PasswordFileTests {
    @Test func hashedAndPlaintextLinesVerify() throws {
        let line = try PasswordFile.hashLine(user: "alice", password: "pa:ss word", iterations: 1000)
        let file = try PasswordFile(text: "# users\n\n\(line)\nbob:plain\n")
        #expect(file.count == 2)
        #expect(file.verify(user: "alice", password: "pa:ss word"))
        #expect(!file.verify(user: "alice", password: "pa:ss wore"))
        #expect(file.verify(user: "bob", password: "plain"))
        #expect(!file.verify(user: "carol", password: "plain"))
        #expect(file.warnings.count == 1)
    }

    @Test func malformedLinesNameTheirLine() {
        for text in ["no-colon", ":nameless", "a:x\na:y", "a:pbkdf2-sha256$0$AA==$AAAAAAAAAAAAAAAAAAAAAA==", "a:pbkdf2-sha256$10$$"] {
            #expect(throws: FlightError.self) { try PasswordFile(text: text) }
        }
    }
}

@Suite struct SQLPatternTests {
    @Test func likePatternsMatchAsSQLDoes() {
        let cases: [(String?, String, Bool)] = [
            (nil, "anything", true), ("", "x", true), ("%", "", true), ("a%", "abc", true), ("a%", "bac", false),
            ("%c", "abc", true), ("a_c", "abc", true), ("a_c", "ac", false), ("%b%", "abc", true), ("a\\%", "a%", true),
            ("a\\%", "ab", false), ("a\\_b", "a_b", true), ("a\\_b", "axb", false), ("%a%b%c", "xaybzc", true), ("abc", "abcd", false),
        ]
        for (pattern, value, expected) in cases {
            #expect(SQLPattern.matches(pattern, value) == expected, "\(pattern ?? "nil") ~ \(value)")
        }
    }

    @Test func aPathologicalPatternStaysFast() {
        let pattern = String(repeating: "%a", count: 40) + "%b"
        let value = String(repeating: "a", count: 5000)
        let start = ContinuousClock.now
        #expect(!SQLPattern.matches(pattern, value))
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}
