import ArrowCore
import FlightRPC
import FlightSQL

/// SQL for bulk ingest of Arrow batches into SQLite tables: the table a schema needs, and the
/// INSERT that takes one batch row per execution.
package enum SQLiteIngest {
    /// `name` as a SQLite identifier: in double quotes, with quotes inside doubled, so any
    /// name, keywords and spaces included, stands for itself. Throws for a name holding NUL,
    /// which would end the SQL text early.
    package static func quoteIdentifier(_ name: String) throws(FlightError) -> String {
        guard !name.utf8.contains(0) else {
            throw FlightError(.invalidArgument, "identifier \(name.debugDescription) contains a NUL character")
        }
        return "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    /// The declared type for a column of Arrow type `type`, chosen so that
    /// `SQLiteTypeMapping.arrowType(declared:)` reads it back as the same kind of value:
    ///
    /// | Arrow type | declared type | read back as |
    /// |---|---|---|
    /// | integers | INTEGER | int64 |
    /// | bool | BOOLEAN | bool |
    /// | float16, float32, float64 | REAL | float64 |
    /// | utf8, large utf8, utf8 view | TEXT | utf8 |
    /// | binary, large binary, binary view, fixed-size binary | BLOB | binary |
    /// | date32, date64 | DATE | utf8 `YYYY-MM-DD` |
    /// | timestamp | TIMESTAMP | utf8 `YYYY-MM-DD HH:MM:SS[.fff]` |
    /// | decimal | NUMERIC | by value: SQLite stores decimal text as INTEGER when it is a 64-bit integer, else as REAL, which keeps only 15 significant digits |
    /// | null | none | null |
    /// | dictionary | its value type's | its value type's |
    ///
    /// Nil means no declared type. Throws `FlightError.invalidArgument` for other types,
    /// which `SQLiteParameterBinder` cannot bind either.
    package static func declaredType(for type: DataType) throws(FlightError) -> String? {
        switch type {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: "INTEGER"
        case .bool: "BOOLEAN"
        case .float16, .float32, .float64: "REAL"
        case .utf8, .largeUtf8, .utf8View: "TEXT"
        case .binary, .largeBinary, .binaryView, .fixedSizeBinary: "BLOB"
        case .date32, .date64: "DATE"
        case .timestamp: "TIMESTAMP"
        case .decimal: "NUMERIC"
        case .null: nil
        case .dictionary(_, let value, _): try declaredType(for: value)
        default: throw FlightError(.invalidArgument, "Arrow type \(type) has no SQLite column type")
        }
    }

    /// `CREATE [TEMP] TABLE "schema"."table" ("field" TYPE [NOT NULL], ...)` for `schema`, with
    /// every identifier quoted and each type from `declaredType(for:)`; non-nullable fields are
    /// NOT NULL. `schemaName` is the SQLite database (`main`, `temp` or an attached name); a
    /// temporary table lives in `temp`, so another name is an error, as is a schema without
    /// fields (SQLite tables have at least one column).
    package static func createTableSQL(table: String, schema: Schema, temporary: Bool = false,
                                       schemaName: String? = nil) throws(FlightError) -> String {
        guard !schema.fields.isEmpty else {
            throw FlightError(.invalidArgument, "cannot create table '\(table)' for a schema without fields")
        }
        if temporary, let schemaName, schemaName.lowercased() != "temp" {
            throw FlightError(.invalidArgument, "a temporary table lives in schema 'temp', not '\(schemaName)'")
        }
        var columns: [String] = []
        for field in schema.fields {
            var column = try quoteIdentifier(field.name)
            do {
                if let type = try declaredType(for: field.type) { column += " " + type }
            } catch {
                throw FlightError(.invalidArgument, "field '\(field.name)': \(error.message)")
            }
            // A null column can only hold NULL, so NOT NULL there would refuse every row.
            if !field.nullable && field.type != .null { column += " NOT NULL" }
            columns.append(column)
        }
        let name = try qualifiedName(table: table, schemaName: schemaName)
        return "CREATE \(temporary ? "TEMP " : "")TABLE \(name) (\(columns.joined(separator: ", ")))"
    }

    /// `INSERT INTO "schema"."table" VALUES (?, ...)` with `columnCount` parameters, filling the
    /// table's columns in order, as `insert(_:using:)` binds them. Throws for fewer than one column.
    package static func insertSQL(table: String, schemaName: String? = nil, columnCount: Int) throws(FlightError) -> String {
        guard columnCount > 0 else {
            throw FlightError(.invalidArgument, "cannot insert rows of \(columnCount) columns into '\(table)'")
        }
        let name = try qualifiedName(table: table, schemaName: schemaName)
        return "INSERT INTO \(name) VALUES (\(Array(repeating: "?", count: columnCount).joined(separator: ", ")))"
    }

    /// Runs `statement` (from `insertSQL`) once per row of `batch`, binding the row by
    /// `SQLiteParameterBinder`'s rules, and returns the rows inserted (fewer than the batch's
    /// for `INSERT OR IGNORE`). Stops at the first failure, leaving earlier rows inserted:
    /// run it in a transaction to make a batch all or nothing. The statement is reset either way.
    package static func insert(_ batch: RecordBatch, using statement: SQLiteStatement) throws -> Int64 {
        let binder = try SQLiteParameterBinder(batch)
        defer { statement.reset() }
        var inserted: Int64 = 0
        for row in 0..<batch.length {
            try binder.bind(row: row, to: statement)
            _ = try statement.step()
            inserted += statement.connection.changes
            statement.reset()
        }
        return inserted
    }

    private static func qualifiedName(table: String, schemaName: String?) throws(FlightError) -> String {
        let name = try quoteIdentifier(table)
        guard let schemaName else { return name }
        return try quoteIdentifier(schemaName) + "." + name
    }
}
