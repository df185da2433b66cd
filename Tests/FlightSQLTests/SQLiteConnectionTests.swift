import Dispatch
import Foundation
import FlightSQL
import FlightSQLSQLite
import Synchronization
import Testing

@Suite("SQLite connection and statement")
struct SQLiteConnectionTests {
    @Test("a writable connection switches the file to WAL and enforces foreign keys")
    func writableConnectionUsesWALAndForeignKeys() throws {
        let db = try TemporaryDatabase()
        let connection = try db.open()
        #expect(try connection.rows("PRAGMA journal_mode") == [["wal"]])
        #expect(try connection.rows("PRAGMA foreign_keys") == [["1"]])
        try connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id))")
        #expect {
            try connection.execute("INSERT INTO child VALUES (42)")
        } throws: { ($0 as? SQLiteError)?.isConstraint == true }
    }

    @Test("a read-only connection refuses writes with isReadOnly and never creates a file")
    func readOnlyConnectionRefusesWrites() throws {
        let db = try TemporaryDatabase()
        #expect(throws: SQLiteError.self) { try db.open(readOnly: true) }
        try db.open().execute("CREATE TABLE t (x)")
        let reader = try db.open(readOnly: true)
        #expect {
            try reader.execute("INSERT INTO t VALUES (1)")
        } throws: { ($0 as? SQLiteError)?.isReadOnly == true }
    }

    @Test("opening a missing file without create fails and names the path")
    func openWithoutCreateFails() throws {
        let db = try TemporaryDatabase()
        #expect {
            try SQLiteConnection(path: db.path, readOnly: false, create: false)
        } throws: { ($0 as? SQLiteError)?.message.contains(db.path) == true }
    }

    @Test("prepare accepts one statement surrounded by whitespace, semicolons and comments")
    func prepareAcceptsOneStatementWithTrimmings() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("  -- leading\n /* block */ SELECT 1 AS one ;; -- trailing\n /* unterminated")
        #expect(statement.sql.hasSuffix("SELECT 1 AS one ;"))
        #expect(try statement.step())
        #expect(statement.int64(0) == 1)
    }

    @Test("prepare rejects a second statement and says where it starts")
    func prepareRejectsSecondStatement() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        #expect {
            try connection.prepare("SELECT 1; DROP TABLE users")
        } throws: { error in
            let message = (error as? SQLiteError)?.message ?? ""
            return message.contains("second") && message.contains("DROP TABLE users")
        }
        // A second statement that would not even compile is still a second statement.
        #expect(throws: SQLiteError.self) { try connection.prepare("SELECT 1; no such thing") }
    }

    @Test("prepare rejects SQL without a statement", arguments: ["", "   ", ";", "-- only a comment", "/* c */ ;"])
    func prepareRejectsEmptySQL(sql: String) throws {
        let connection = try SQLiteConnection(path: ":memory:")
        #expect {
            try connection.prepare(sql)
        } throws: { ($0 as? SQLiteError)?.message.contains("no statement") == true }
    }

    @Test("SQL with a NUL character is refused rather than cut short")
    func nulInSQL() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (x)")
        #expect(throws: SQLiteError.self) { try connection.execute("SELECT 1;\u{0} DROP TABLE t") }
        #expect(throws: SQLiteError.self) { try connection.prepare("SELECT 1\u{0}; DROP TABLE t") }
        #expect(try connection.rows("SELECT count(*) FROM t") == [["0"]])
    }

    @Test("a syntax error carries SQLite's message and where it is in the SQL")
    func syntaxErrorHasMessageAndOffset() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        #expect {
            try connection.prepare("SELECT * FROM WHERE")
        } throws: { error in
            guard let error = error as? SQLiteError else { return false }
            return error.code == 1 && error.message.contains("syntax error") && error.message.contains("at byte")
                && error.description.contains("SQLite error")
        }
    }

    @Test("a statement reports column names, declared types, origins and parameters")
    func statementMetadata() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(20), data)")
        let statement = try connection.prepare("SELECT id AS key, name, data, 1 + 1 FROM people WHERE id = :id AND name = ? AND data = ?5")
        #expect(statement.columnCount == 4)
        #expect((0..<4).map { statement.columnName($0) } == ["key", "name", "data", "1 + 1"])
        #expect((0..<4).map { statement.declaredType($0) } == ["INTEGER", "VARCHAR(20)", nil, nil])
        #expect(statement.columnOriginName(0) == "id")
        #expect(statement.columnTableName(1) == "people")
        #expect(statement.columnDatabaseName(2) == "main")
        #expect(statement.columnTableName(3) == nil)
        #expect(statement.parameterCount == 5)
        #expect(statement.parameterName(0) == ":id")
        #expect(statement.parameterName(1) == nil)
        #expect(statement.parameterName(4) == "?5")
        #expect(statement.isReadOnly)
        #expect(try !connection.prepare("DELETE FROM people").isReadOnly)
    }

    @Test("changes, totalChanges and isAutocommit follow the statements run")
    func changeCountsAndAutocommit() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (x INTEGER)")
        try connection.execute("INSERT INTO t VALUES (1), (2), (3)")
        #expect(connection.changes == 3)
        try connection.execute("UPDATE t SET x = x + 1 WHERE x > 1")
        #expect(connection.changes == 2)
        #expect(connection.totalChanges == 5)
        #expect(connection.isAutocommit)
        try connection.execute("BEGIN")
        #expect(!connection.isAutocommit)
        try connection.execute("COMMIT")
        #expect(connection.isAutocommit)
    }

    @Test("a second writer gives up after the busy timeout with isBusy")
    func busyTimeout() throws {
        let db = try TemporaryDatabase()
        let first = try db.open()
        let second = try db.open(busyTimeout: .milliseconds(50))
        try first.execute("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
        let start = ContinuousClock.now
        #expect {
            try second.execute("INSERT INTO t VALUES (2)")
        } throws: { ($0 as? SQLiteError)?.isBusy == true }
        #expect(ContinuousClock.now - start < .seconds(3))
        try first.execute("COMMIT")
        try second.execute("INSERT INTO t VALUES (2)")
    }

    @Test("interrupt() from another thread stops a long query quickly with isInterrupt")
    func interruptStopsLongQuery() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        // Counting to 1e9 takes SQLite tens of seconds.
        let statement = try connection.prepare(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c")
        let done = Atomic(false)
        let start = ContinuousClock.now
        // Repeated, because an interrupt that lands before step() starts does nothing. A thread
        // of its own: the global queue's may all be busy with other tests on these two cores.
        Thread.detachNewThread {
            while !done.load(ordering: .acquiring) {
                usleep(20_000)
                connection.interrupt()
            }
        }
        defer { done.store(true, ordering: .releasing) }
        #expect {
            try statement.step()
        } throws: { ($0 as? SQLiteError)?.isInterrupt == true }
        #expect(ContinuousClock.now - start < .seconds(5))
        // The connection stays usable.
        statement.reset()
        #expect(try connection.rows("SELECT 2") == [["2"]])
    }

    @Test("a statement keeps its connection open after every other reference is gone")
    func statementKeepsConnectionAlive() throws {
        let db = try TemporaryDatabase()
        var connection: SQLiteConnection? = try db.open()
        try connection?.execute("CREATE TABLE t (x); INSERT INTO t VALUES (7)")
        let statement = try #require(try connection?.prepare("SELECT x FROM t"))
        connection = nil
        #expect(try statement.step())
        #expect(statement.int64(0) == 7)
    }

    @Test("after close() statements fail at their next step and interrupt() does nothing")
    func closeMakesStatementsFail() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT 1")
        connection.close()
        connection.close()
        connection.interrupt()
        #expect(connection.changes == 0)
        #expect(connection.isAutocommit)
        #expect {
            try statement.step()
        } throws: { ($0 as? SQLiteError)?.message.contains("closed") == true }
        #expect(throws: SQLiteError.self) { try connection.prepare("SELECT 1") }
        #expect(throws: SQLiteError.self) { try connection.execute("SELECT 1") }
    }

    @Test("empty text and empty blobs bind as values, not NULL; strings and parameters out of range")
    func bindingEmptyValues() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT quote(?), quote(?), quote(?)")
        try statement.bind(0, utf8: UnsafeRawBufferPointer(start: nil, count: 0))
        try statement.bind(1, blob: UnsafeRawBufferPointer(start: nil, count: 0))
        try statement.bind(2, text: "it's")
        #expect(try statement.step())
        #expect((0..<3).map { statement.string($0) } == ["''", "X''", "'it''s'"])
        statement.reset()
        statement.clearBindings()
        #expect(try statement.step())
        #expect(statement.string(0) == "NULL")
        #expect(throws: SQLiteError.self) { try statement.bind(3, int64: 1) }
        #expect(throws: SQLiteError.self) { try statement.bind(-1, int64: 1) }
    }

    @Test("typed readers give each storage class, and text and blob bytes in place")
    func typedReaders() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT 42, 2.5, 'héllo', x'00ff', NULL")
        #expect(try statement.step())
        #expect((0..<5).map { statement.storageClass($0) } == [.integer, .real, .text, .blob, .null])
        #expect(statement.int64(0) == 42)
        #expect(statement.double(1) == 2.5)
        #expect(Array(statement.text(2)) == Array("héllo".utf8))
        #expect(Array(statement.blob(3)) == [0x00, 0xFF])
        #expect(statement.text(4).isEmpty)
        #expect(statement.string(4) == nil)
        #expect(try !statement.step())
    }
}
