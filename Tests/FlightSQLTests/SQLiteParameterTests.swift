import ArrowCore
import FlightRPC
import FlightSQL
import FlightSQLSQLite
import Testing

/// A column of `first` then a null, built by `builder`.
private func twoRows<B: ValueArrayBuilder>(_ builder: B, _ first: B.Value) throws -> ArrayData {
    var builder = builder
    try builder.append(first)
    builder.appendNull()
    return builder.finish()
}

/// What SQLite's `quote()` makes of parameter `i` bound from each row of `batch`: the storage
/// class and the value in one string (`12`, `1.5`, `'text'`, `X'0102'`, `NULL`).
private func quoted(_ batch: RecordBatch) throws -> [[String?]] {
    let connection = try SQLiteConnection(path: ":memory:")
    let sql = "SELECT " + (1...batch.columns.count).map { "quote(?\($0))" }.joined(separator: ", ")
    let statement = try connection.prepare(sql)
    let binder = try SQLiteParameterBinder(batch)
    var rows: [[String?]] = []
    for row in 0..<batch.length {
        try binder.bind(row: row, to: statement)
        #expect(try statement.step())
        rows.append((0..<statement.columnCount).map { statement.string($0) })
        statement.reset()
    }
    return rows
}

private func isInvalidArgument(_ error: any Error, mentioning parts: String...) -> Bool {
    guard let error = error as? FlightError, error.code == .invalidArgument else { return false }
    return parts.allSatisfy { error.message.contains($0) }
}

@Suite("Arrow parameters bound to SQLite")
struct SQLiteParameterTests {
    @Test("each supported Arrow type binds as the documented SQLite value, and its nulls as NULL")
    func everyTypeBinds() throws {
        let dictionary = try DictionaryBuilder<Int8>(valueType: .utf8)
        try dictionary.append("b")
        try dictionary.append("a")
        try dictionary.append("b")
        dictionary.appendNull()
        let dictionaryColumn = try dictionary.finish().slice(2, 2)
        let nulls = NullBuilder()
        nulls.appendNulls(2)

        let cases: [(String, ArrayData, String)] = [
            ("int8", try twoRows(PrimitiveBuilder<Int8>(), -128), "-128"),
            ("int16", try twoRows(PrimitiveBuilder<Int16>(), 32_767), "32767"),
            ("int32", try twoRows(PrimitiveBuilder<Int32>(), -5), "-5"),
            ("int64", try twoRows(PrimitiveBuilder<Int64>(), .min), "-9223372036854775808"),
            ("uint8", try twoRows(PrimitiveBuilder<UInt8>(), 255), "255"),
            ("uint16", try twoRows(PrimitiveBuilder<UInt16>(), 65_535), "65535"),
            ("uint32", try twoRows(PrimitiveBuilder<UInt32>(), .max), "4294967295"),
            ("uint64", try twoRows(PrimitiveBuilder<UInt64>(), UInt64(Int64.max)), "9223372036854775807"),
            ("float16", try twoRows(PrimitiveBuilder<Float16>(), 1.5), "1.5"),
            ("float32", try twoRows(PrimitiveBuilder<Float>(), 0.25), "0.25"),
            ("float64", try twoRows(PrimitiveBuilder<Double>(), -2.5), "-2.5"),
            ("bool", try twoRows(BooleanBuilder(), true), "1"),
            ("utf8", try twoRows(StringBuilder(), "it's"), "'it''s'"),
            ("large_utf8", try twoRows(LargeStringBuilder(), "wide"), "'wide'"),
            ("utf8_view", try twoRows(StringViewBuilder(), "longer than twelve bytes"), "'longer than twelve bytes'"),
            ("binary", try twoRows(BinaryBuilder(), [1, 2]), "X'0102'"),
            ("large_binary", try twoRows(LargeBinaryBuilder(), []), "X''"),
            ("binary_view", try twoRows(BinaryViewBuilder(), [0xAB]), "X'AB'"),
            ("fixed_size_binary", try twoRows(FixedSizeBinaryBuilder(byteWidth: 3), [9, 8, 7]), "X'090807'"),
            ("date32", try twoRows(PrimitiveBuilder<Int32>(type: .date32), -719_528), "'0000-01-01'"),
            ("date64", try twoRows(PrimitiveBuilder<Int64>(type: .date64), 951_782_400_000), "'2000-02-29'"),
            ("timestamp[s]", try twoRows(PrimitiveBuilder<Int64>(type: .timestamp(.second, timeZone: nil)), 253_402_300_799),
             "'9999-12-31 23:59:59'"),
            ("timestamp[ms, UTC]", try twoRows(PrimitiveBuilder<Int64>(type: .timestamp(.millisecond, timeZone: "UTC")), 1_500),
             "'1970-01-01 00:00:01.5'"),
            ("timestamp[us, +02:00]", try twoRows(PrimitiveBuilder<Int64>(type: .timestamp(.microsecond, timeZone: "+02:00")), -1),
             "'1969-12-31 23:59:59.999999'"),
            ("timestamp[ns]", try twoRows(PrimitiveBuilder<Int64>(type: .timestamp(.nanosecond, timeZone: nil)), 1_709_210_096_000_000_100),
             "'2024-02-29 12:34:56.0000001'"),
            ("decimal128", try twoRows(DecimalBuilder(precision: 38, scale: 2), "-12345678901234567890123.45"),
             "'-12345678901234567890123.45'"),
            ("decimal32", try twoRows(DecimalBuilder(precision: 5, scale: -2, bitWidth: 32), "1200"), "'1200'"),
            ("dictionary", dictionaryColumn, "'b'"),
            ("null", nulls.finish(), "NULL"),
        ]
        let batch = try RecordBatch(schema: Schema(cases.map { Field($0.0, $0.1.type) }), columns: cases.map(\.1))
        let rows = try quoted(batch)
        for (i, (name, _, expected)) in cases.enumerated() {
            #expect(rows[0][i] == expected, "\(name)")
            #expect(rows[1][i] == "NULL", "\(name)")
        }
    }

    @Test("bound dates and timestamps are text SQLite's date functions read")
    func temporalTextIsReadableBySQLite() throws {
        let stamps = try PrimitiveBuilder<Int64>(type: .timestamp(.millisecond, timeZone: nil))
        stamps.append(1_709_210_096_789)
        let days = try PrimitiveBuilder<Int32>(type: .date32)
        days.append(19_782)
        let batch = try RecordBatch(["ts": stamps.finish(), "d": days.finish()])
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT datetime(?1), strftime('%f', ?1), julianday(?2) - julianday('1970-01-01')")
        try SQLiteParameterBinder.bind(batch, row: 0, to: statement)
        #expect(try statement.step())
        #expect(statement.string(0) == "2024-02-29 12:34:56")
        #expect(statement.string(1) == "56.789")
        #expect(statement.double(2) == 19_782)
    }

    @Test("a uint64 above Int64.max is refused, naming the parameter and row")
    func uint64OutOfRange() throws {
        let values = PrimitiveBuilder<UInt64>()
        values.append(contentsOf: [1, UInt64.max])
        let batch = try RecordBatch(["big": values.finish()])
        let connection = try SQLiteConnection(path: ":memory:")
        let statement = try connection.prepare("SELECT ?")
        try SQLiteParameterBinder.bind(batch, row: 0, to: statement)
        #expect {
            try SQLiteParameterBinder.bind(batch, row: 1, to: statement)
        } throws: { isInvalidArgument($0, mentioning: "parameter 1 ('big') row 1", "18446744073709551615") }
    }

    @Test("a batch must have one column per parameter")
    func columnCountMustMatch() throws {
        let values = PrimitiveBuilder<Int64>()
        values.append(1)
        let batch = try RecordBatch(["a": values.finish()])
        let connection = try SQLiteConnection(path: ":memory:")
        for sql in ["SELECT ?, ?", "SELECT 1"] {
            let statement = try connection.prepare(sql)
            #expect {
                try SQLiteParameterBinder.bind(batch, row: 0, to: statement)
            } throws: { isInvalidArgument($0, mentioning: "parameters", "1 columns") }
        }
    }

    @Test("a row outside the batch is refused")
    func rowOutOfRange() throws {
        let values = PrimitiveBuilder<Int64>()
        values.append(1)
        let batch = try RecordBatch(["a": values.finish()])
        let statement = try SQLiteConnection(path: ":memory:").prepare("SELECT ?")
        #expect { try SQLiteParameterBinder.bind(batch, row: 1, to: statement) } throws: { isInvalidArgument($0) }
        #expect { try SQLiteParameterBinder.bind(batch, row: -1, to: statement) } throws: { isInvalidArgument($0) }
    }

    @Test("types SQLite has no value for are refused, naming the parameter", arguments: [
        DataType.list(Field("item", .int32)), .time32(.second), .duration(.millisecond), .interval(.monthDayNano),
        .struct([Field("a", .int32)]),
    ])
    func unsupportedTypes(type: DataType) throws {
        var builder = makeBuilder(for: type)
        builder.appendNull()
        let batch = try RecordBatch(["p": builder.finish()])
        #expect {
            try SQLiteParameterBinder(batch)
        } throws: { isInvalidArgument($0, mentioning: "parameter 1 ('p')", "\(type)") }
    }
}
