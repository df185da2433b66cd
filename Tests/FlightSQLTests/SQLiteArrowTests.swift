import ArrowCore
import FlightRPC
import FlightSQL
import FlightSQLSQLite
import Testing

/// Every batch of `statement`'s result, under the schema `inferSchema` gives it.
private func readAll(_ statement: SQLiteStatement, sampleRows: Int = 1024, maxRows: Int = 65_536,
                     maxBytes: Int = 8 << 20) throws -> (schema: Schema, batches: [RecordBatch]) {
    let schema = try SQLiteTypeMapping.inferSchema(statement, sampleRows: sampleRows)
    let reader = try SQLiteBatchReader(statement: statement, schema: schema, maxRows: maxRows, maxBytes: maxBytes)
    var batches: [RecordBatch] = []
    while let batch = try reader.next() { batches.append(batch) }
    return (schema, batches)
}

/// The slots of `data` as text, nil for nulls: integers and floats in Swift's spelling, bools
/// as true/false, strings as themselves, bytes as lower-case hex.
private func texts(_ data: ArrayData) throws -> [String?] {
    switch data.type {
    case .int64: return try PrimitiveArray<Int64>(data).map { $0.map { "\($0)" } }
    case .float64: return try PrimitiveArray<Double>(data).map { $0.map { "\($0)" } }
    case .bool: return try BooleanArray(data).map { $0.map { "\($0)" } }
    case .utf8: return Array(try StringArray(data))
    case .binary: return try BinaryArray(data).map { $0.map { $0.array.map { hex($0) }.joined() } }
    case .null: return Array(repeating: nil, count: data.length)
    default: throw ArrowError.notSupported("\(data.type)")
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// Column `column` of all `batches` as text.
private func column(_ column: Int, of batches: [RecordBatch]) throws -> [String?] {
    try batches.flatMap { try texts($0.columns[column]) }
}

/// The rows `sql` reads under a schema of one field of `type`.
private func readOneColumn(_ sql: String, as type: DataType) throws -> [String?] {
    let connection = try SQLiteConnection(path: ":memory:")
    let statement = try connection.prepare(sql)
    let reader = try SQLiteBatchReader(statement: statement, schema: Schema([Field("v", type)]))
    var values: [String?] = []
    while let batch = try reader.next() { values += try texts(batch.columns[0]) }
    return values
}

private func isInvalidArgument(_ error: any Error, mentioning parts: String...) -> Bool {
    guard let error = error as? FlightError, error.code == .invalidArgument else { return false }
    return parts.allSatisfy { error.message.contains($0) }
}

@Suite("SQLite to Arrow")
struct SQLiteArrowTests {
    @Test("declared types map by SQLite's affinity substrings", arguments: [
        ("INTEGER", DataType.int64), ("bigint", .int64), ("UNSIGNED BIG INT", .int64), ("POINT", .int64),
        ("BOOLEAN", .bool), ("bool", .bool),
        ("VARCHAR(20)", .utf8), ("NCHAR(5)", .utf8), ("CLOB", .utf8), ("text", .utf8),
        ("BLOB", .binary), ("REAL", .float64), ("FLOAT", .float64), ("DOUBLE PRECISION", .float64),
        ("DATE", .utf8), ("DATETIME", .utf8), ("TIMESTAMP", .utf8), ("time", .utf8),
    ] as [(String, DataType)])
    func declaredTypeMapping(declared: String, expected: DataType) {
        #expect(SQLiteTypeMapping.arrowType(declared: declared) == expected)
    }

    @Test("NUMERIC, DECIMAL, unknown and missing declared types are left to the values",
          arguments: ["NUMERIC", "DECIMAL(10,5)", "JSON", "", nil] as [String?])
    func dynamicDeclaredTypes(declared: String?) {
        #expect(SQLiteTypeMapping.arrowType(declared: declared) == nil)
    }

    @Test("every mapped type round-trips with NULLs through a database file")
    func roundTripThroughFile() throws {
        let db = try TemporaryDatabase()
        let connection = try db.open()
        let ints = PrimitiveBuilder<Int64>()
        ints.append(contentsOf: [Int64.min, nil, 0, Int64.max])
        let bools = BooleanBuilder()
        bools.append(contentsOf: [true, nil, false, true])
        let floats = PrimitiveBuilder<Double>()
        floats.append(contentsOf: [-1.5, nil, 0, 1e300])
        let strings = StringBuilder()
        try strings.append(contentsOf: ["héllo, 世界", nil, "", "x"])
        let blobs = BinaryBuilder()
        for blob in [[0, 255], nil, [], [7]] as [[UInt8]?] { try blobs.append(blob) }
        let dates = try PrimitiveBuilder<Int32>(type: .date32)
        dates.append(contentsOf: [19_782, nil, -1, 0])
        let stamps = try PrimitiveBuilder<Int64>(type: .timestamp(.millisecond, timeZone: "UTC"))
        stamps.append(contentsOf: [1_709_210_096_789, nil, -1, 0])
        let nulls = NullBuilder()
        nulls.appendNulls(4)
        let batch = try RecordBatch([
            "i": ints.finish(), "b": bools.finish(), "f": floats.finish(), "s": strings.finish(),
            "bin": blobs.finish(), "d": dates.finish(), "ts": stamps.finish(), "n": nulls.finish(),
        ])

        try connection.execute(SQLiteIngest.createTableSQL(table: "everything", schema: batch.schema))
        let insert = try connection.prepare(SQLiteIngest.insertSQL(table: "everything", columnCount: batch.columns.count))
        #expect(try SQLiteIngest.insert(batch, using: insert) == 4)

        let (schema, batches) = try readAll(connection.prepare("SELECT * FROM everything"))
        #expect(schema.fields.map(\.name) == ["i", "b", "f", "s", "bin", "d", "ts", "n"])
        #expect(schema.fields.map(\.type) == [.int64, .bool, .float64, .utf8, .binary, .utf8, .utf8, .null])
        #expect(schema.fields.allSatisfy { $0.nullable })
        #expect(batches.count == 1)
        #expect(try column(0, of: batches) == ["-9223372036854775808", nil, "0", "9223372036854775807"])
        #expect(try column(1, of: batches) == ["true", nil, "false", "true"])
        #expect(try column(2, of: batches) == ["-1.5", nil, "0.0", "1e+300"])
        #expect(try column(3, of: batches) == ["héllo, 世界", nil, "", "x"])
        #expect(try column(4, of: batches) == ["00ff", nil, "", "07"])
        #expect(try column(5, of: batches) == ["2024-02-29", nil, "1969-12-31", "1970-01-01"])
        #expect(try column(6, of: batches) == ["2024-02-29 12:34:56.789", nil, "1969-12-31 23:59:59.999", "1970-01-01 00:00:00"])
        #expect(try column(7, of: batches) == [nil, nil, nil, nil])
        try batches[0].validate()
    }

    @Test("expression columns are typed from their values")
    func inferenceFromExpressions() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let (schema, batches) = try readAll(connection.prepare("SELECT 1, 1.5, 'a', x'00', NULL"))
        #expect(schema.fields.map(\.type) == [.int64, .float64, .utf8, .binary, .null])
        #expect(schema.fields.map(\.name) == ["1", "1.5", "'a'", "x'00'", "NULL"])
        #expect(try (0..<5).map { try column($0, of: batches) } == [["1"], ["1.5"], ["a"], ["00"], [nil]])
    }

    @Test("a NUMERIC column holding integers reads as int64")
    func numericColumnOfIntegers() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE n (v NUMERIC); INSERT INTO n VALUES (1), (NULL), ('42')")
        let (schema, batches) = try readAll(connection.prepare("SELECT v FROM n"))
        #expect(schema.fields[0].type == .int64)
        #expect(try column(0, of: batches) == ["1", nil, "42"])
    }

    @Test("mixed storage classes widen: INTEGER and REAL to float64, any TEXT to utf8, any BLOB to binary")
    func mixedStorageClasses() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        var (schema, batches) = try readAll(connection.prepare("SELECT column1 FROM (VALUES (1), (2.5), (NULL))"))
        #expect(schema.fields[0].type == .float64)
        #expect(try column(0, of: batches) == ["1.0", "2.5", nil])
        (schema, batches) = try readAll(connection.prepare("SELECT column1 FROM (VALUES (1), ('a'), (0.5))"))
        #expect(schema.fields[0].type == .utf8)
        #expect(try column(0, of: batches) == ["1", "a", "0.5"])
        (schema, batches) = try readAll(connection.prepare("SELECT column1 FROM (VALUES (x'00'), (1), ('b'))"))
        #expect(schema.fields[0].type == .binary)
        #expect(try column(0, of: batches) == ["00", "31", "62"])
    }

    @Test("a column with only NULLs, or a result without rows, has the null type")
    func nullInference() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        var (schema, batches) = try readAll(connection.prepare("SELECT NULL + 1 AS x FROM (VALUES (1), (2))"))
        #expect(schema.fields[0].type == .null)
        #expect(try column(0, of: batches) == [nil, nil])
        (schema, batches) = try readAll(connection.prepare("SELECT 1 AS x WHERE 0"))
        #expect(schema == Schema([Field("x", .null)]))
        #expect(batches.isEmpty)
    }

    @Test("duplicate column names are kept")
    func duplicateNames() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let (schema, _) = try readAll(connection.prepare("SELECT 1 AS a, 'x' AS a"))
        #expect(schema.fields.map(\.name) == ["a", "a"])
    }

    @Test("sampling keeps the bindings and starts the reader from the first row")
    func samplingKeepsBindings() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT ? * column1 FROM (VALUES (1), (2), (3))")
        try statement.bind(0, int64: 10)
        let (schema, batches) = try readAll(statement)
        #expect(schema.fields[0].type == .int64)
        #expect(try column(0, of: batches) == ["10", "20", "30"])
    }

    @Test("a value past the sampled rows that does not fit the inferred type fails the read")
    func valueBeyondSampleFails() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        #expect {
            try readAll(connection.prepare("SELECT column1 AS v FROM (VALUES (1), (2), (3.5))"), sampleRows: 2)
        } throws: { isInvalidArgument($0, mentioning: "column 'v' row 3", "REAL", "int64") }
    }

    @Test("without a sample, untyped columns are utf8 and declared ones keep their type")
    func noSample() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        let (schema, batches) = try readAll(connection.prepare("SELECT x, x * 2, x / 2.0 FROM t"), sampleRows: 0)
        #expect(schema.fields.map(\.type) == [.int64, .utf8, .utf8])
        #expect(try (0..<3).map { try column($0, of: batches) } == [["1"], ["2"], ["0.5"]])
    }

    @Test("a statement that writes is not stepped to infer its schema")
    func writingStatementIsNotSampled() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (x INTEGER)")
        let insert = try connection.prepare("INSERT INTO t VALUES (5) RETURNING x + 1")
        let schema = try SQLiteTypeMapping.inferSchema(insert)
        #expect(schema.fields[0].type == .utf8)
        #expect(try connection.rows("SELECT count(*) FROM t") == [["0"]])
    }

    @Test("a declared INTEGER column holding text that is not a number fails with the column and row")
    func declaredIntegerHoldingText() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        try connection.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), ('abc')")
        #expect {
            try readAll(connection.prepare("SELECT x FROM t"))
        } throws: { isInvalidArgument($0, mentioning: "column 'x' row 2", "TEXT", "int64", "CAST") }
    }

    @Test("values convert to their column's type when nothing is lost", arguments: [
        ("SELECT '42' UNION ALL SELECT '-7'", DataType.int64, ["42", "-7"]),
        ("SELECT 3 UNION ALL SELECT '2.5'", .float64, ["3.0", "2.5"]),
        ("SELECT 7 UNION ALL SELECT 2.5 UNION ALL SELECT x'6869'", .utf8, ["7", "2.5", "hi"]),
        ("SELECT 'ab' UNION ALL SELECT 12", .binary, ["6162", "3132"]),
        ("SELECT 2 UNION ALL SELECT 0 UNION ALL SELECT NULL", .bool, ["true", "false", nil]),
    ] as [(String, DataType, [String?])])
    func losslessConversions(sql: String, type: DataType, expected: [String?]) throws {
        #expect(try readOneColumn(sql, as: type) == expected)
    }

    @Test("values that do not fit their column's type fail", arguments: [
        ("SELECT 1.5", DataType.int64, "REAL"),
        ("SELECT '12abc'", .int64, "TEXT"),
        ("SELECT x'01'", .int64, "BLOB"),
        ("SELECT 'abc'", .float64, "TEXT"),
        ("SELECT x'ff'", .utf8, "BLOB"),
        ("SELECT 'yes'", .bool, "TEXT"),
        ("SELECT 1.0", .bool, "REAL"),
        ("SELECT 1", .null, "INTEGER"),
    ] as [(String, DataType, String)])
    func failingConversions(sql: String, type: DataType, storage: String) throws {
        #expect {
            try readOneColumn(sql, as: type)
        } throws: { isInvalidArgument($0, mentioning: "column 'v' row 1", storage, "\(type)") }
    }

    @Test("batches end at maxRows")
    func batchesSplitAtMaxRows() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c")
        let (_, batches) = try readAll(statement, maxRows: 3)
        #expect(batches.map(\.length) == [3, 3, 3, 1])
        #expect(try column(0, of: batches) == (1...10).map { "\($0)" })
    }

    @Test("batches end once they pass maxBytes, and hold at least one row")
    func batchesSplitAtMaxBytes() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 7) SELECT printf('%100d', x) FROM c"
        #expect(try readAll(connection.prepare(sql), maxBytes: 250).batches.map(\.length) == [3, 3, 1])
        #expect(try readAll(connection.prepare(sql), maxBytes: 1).batches.map(\.length) == Array(repeating: 1, count: 7))
    }

    @Test("after the last batch the reader returns nil and the statement can run again")
    func readerResetsStatement() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT 1")
        let reader = try SQLiteBatchReader(statement: statement, schema: Schema([Field("1", .int64)]))
        #expect(try reader.next()?.length == 1)
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
        #expect(try statement.step())
    }

    @Test("a query whose columns change under the reader is aborted")
    func schemaChangeAbortsReader() throws {
        let db = try TemporaryDatabase()
        let reading = try db.open()
        let writing = try db.open()
        try writing.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        let statement = try reading.prepare("SELECT * FROM t")
        let reader = try SQLiteBatchReader(statement: statement, schema: SQLiteTypeMapping.inferSchema(statement))
        try writing.execute("ALTER TABLE t ADD COLUMN y TEXT")
        #expect {
            try reader.next()
        } throws: { ($0 as? FlightError)?.code == .aborted }
        #expect(try reader.next() == nil)
    }

    @Test("a schema the reader cannot build is an internal error")
    func readerRefusesUnbuildableSchemas() throws {
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT 1")
        #expect(throws: FlightError.self) { try SQLiteBatchReader(statement: statement, schema: Schema([Field("x", .int32)])) }
        #expect(throws: FlightError.self) { try SQLiteBatchReader(statement: statement, schema: Schema([])) }
    }

    @Test("a cancelled task stops the reader with CancellationError")
    func cancellationStopsReader() async throws {
        let task = Task { () throws -> Int in
            let connection = try SQLiteConnection(path: ":memory:")
            let reader = try SQLiteBatchReader(statement: connection.prepare("SELECT 1"), schema: Schema([Field("1", .int64)]))
            withUnsafeCurrentTask { $0?.cancel() }
            return try reader.next()?.length ?? 0
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
