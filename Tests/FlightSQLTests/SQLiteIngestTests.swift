import ArrowCore
import FlightRPC
import FlightSQL
import FlightSQLSQLite
import Testing

@Suite("Bulk ingest into SQLite")
struct SQLiteIngestTests {
    @Test("CREATE TABLE quotes identifiers, maps every type and marks non-nullable fields NOT NULL")
    func createTableText() throws {
        let schema = Schema([
            Field("id", .int64, nullable: false), Field("flag", .bool), Field("ratio", .float32),
            Field("name", .largeUtf8), Field("raw", .fixedSizeBinary(4)), Field("day", .date64),
            Field("at", .timestamp(.microsecond, timeZone: "UTC")), Field("amount", .decimal(bitWidth: 128, precision: 10, scale: 2)),
            Field("nothing", .null, nullable: false), Field("tag", .dictionary(index: .int16, value: .utf8View, ordered: false)),
        ])
        #expect(try SQLiteIngest.createTableSQL(table: "t", schema: schema, temporary: false, schemaName: "main") ==
            #"CREATE TABLE "main"."t" ("id" INTEGER NOT NULL, "flag" BOOLEAN, "ratio" REAL, "name" TEXT, "raw" BLOB, "#
            + #""day" DATE, "at" TIMESTAMP, "amount" NUMERIC, "nothing", "tag" TEXT)"#)
        #expect(try SQLiteIngest.createTableSQL(table: "t", schema: Schema([Field("x", .int8)]), temporary: true, schemaName: nil) ==
            #"CREATE TEMP TABLE "t" ("x" INTEGER)"#)
        #expect(try SQLiteIngest.insertSQL(table: "t", schemaName: "temp", columnCount: 3) ==
            #"INSERT INTO "temp"."t" VALUES (?, ?, ?)"#)
    }

    @Test("odd table and column names (quotes, spaces, keywords) survive creation, insert and read")
    func oddIdentifiers() throws {
        let db = try TemporaryDatabase()
        let connection = try db.open()
        let names = [#"say "hi""#, "two words", "select", #"""#, "ünï"]
        let columns = try names.map { name -> ArrayData in
            let builder = StringBuilder()
            try builder.append(name)
            return builder.finish()
        }
        let batch = try RecordBatch(schema: Schema(names.map { Field($0, .utf8) }), columns: columns)
        let table = #"my "odd" table; DROP TABLE x"#
        try connection.execute(SQLiteIngest.createTableSQL(table: table, schema: batch.schema, temporary: false, schemaName: nil))
        let insert = try connection.prepare(SQLiteIngest.insertSQL(table: table, schemaName: nil, columnCount: names.count))
        #expect(try SQLiteIngest.insert(batch, using: insert) == 1)
        let select = try connection.prepare("SELECT * FROM \(try SQLiteIngest.quoteIdentifier(table))")
        #expect((0..<select.columnCount).map { select.columnName($0) } == names)
        #expect(try select.step())
        #expect((0..<select.columnCount).map { select.string($0) } == names)
    }

    @Test("a temporary table may only live in schema temp")
    func temporaryTableSchema() throws {
        let schema = Schema([Field("x", .int64)])
        #expect(throws: FlightError.self) { try SQLiteIngest.createTableSQL(table: "t", schema: schema, temporary: true, schemaName: "main") }
        #expect(try SQLiteIngest.createTableSQL(table: "t", schema: schema, temporary: true, schemaName: "TEMP").hasPrefix("CREATE TEMP TABLE \"TEMP\".\"t\""))
    }

    @Test("types without a SQLite column type, empty schemas and NUL in names are refused")
    func refusedTables() throws {
        #expect {
            try SQLiteIngest.createTableSQL(table: "t", schema: Schema([Field("l", .list(Field("item", .int32)))]), temporary: false, schemaName: nil)
        } throws: { ($0 as? FlightError)?.message.contains("field 'l'") == true }
        #expect(throws: FlightError.self) { try SQLiteIngest.createTableSQL(table: "t", schema: Schema([]), temporary: false, schemaName: nil) }
        #expect(throws: FlightError.self) { try SQLiteIngest.quoteIdentifier("a\u{0}b") }
        #expect(throws: FlightError.self) { try SQLiteIngest.insertSQL(table: "t", schemaName: nil, columnCount: 0) }
    }

    @Test("insert counts only the rows inserted, and a constraint failure stops it with isConstraint")
    func insertCountsAndConstraints() throws {
        let db = try TemporaryDatabase()
        let connection = try db.open()
        try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT NOT NULL)")
        let xs = PrimitiveBuilder<Int64>()
        xs.append(contentsOf: [1, 1, 2] as [Int64])
        let ys = StringBuilder()
        try ys.append(contentsOf: ["a", "b", "c"])
        let batch = try RecordBatch(["x": xs.finish(), "y": ys.finish()])
        let ignoring = try connection.prepare("INSERT OR IGNORE INTO t VALUES (?, ?)")
        #expect(try SQLiteIngest.insert(batch, using: ignoring) == 2)

        let nullable = StringBuilder()
        try nullable.append(contentsOf: ["d", nil])
        let ids = PrimitiveBuilder<Int64>()
        ids.append(contentsOf: [10, 11] as [Int64])
        let failing = try RecordBatch(["x": ids.finish(), "y": nullable.finish()])
        let insert = try connection.prepare(SQLiteIngest.insertSQL(table: "t", schemaName: nil, columnCount: 2))
        #expect {
            try SQLiteIngest.insert(failing, using: insert)
        } throws: { ($0 as? SQLiteError)?.isConstraint == true }
        #expect(try connection.rows("SELECT x FROM t ORDER BY x") == [["1"], ["2"], ["10"]])
    }
}
