import ArrowCore
import FlightRPC
import FlightSQL

/// Reads the rows of a statement as record batches under a fixed schema: the hot path from
/// SQLite to Arrow.
///
/// Each `next()` steps the statement until the batch holds `maxRows` rows or about `maxBytes`
/// bytes (checked after each row, so a batch always holds at least one row), reading every
/// value through the statement's typed readers straight into a builder of the column's
/// concrete type; text and blobs are copied once, from SQLite's memory into the Arrow buffer.
///
/// The schema's types must be among those `SQLiteTypeMapping` produces (`int64`, `float64`,
/// `bool`, `utf8`, `binary`, `null`). A value whose storage class differs from its column's
/// type is converted when that loses nothing, and otherwise fails the read:
///
/// | column | converts | fails on |
/// |---|---|---|
/// | int64 | TEXT spelling an integer | REAL, BLOB, other TEXT |
/// | float64 | INTEGER, TEXT spelling a finite number | BLOB, other TEXT |
/// | utf8 | INTEGER, REAL (to SQLite's text of them), BLOB holding UTF-8 | other BLOB |
/// | binary | TEXT (its bytes), INTEGER, REAL (the bytes of their text) | |
/// | bool | INTEGER (nonzero is true) | REAL, TEXT, BLOB |
/// | null | | any value |
///
/// The reader belongs to one task, and the statement to the reader while it reads. It resets
/// the statement (bindings kept) when the rows run out or a read fails; after either, `next()`
/// returns nil.
package final class SQLiteBatchReader {
    /// The schema of every batch.
    package let schema: Schema
    private let statement: SQLiteStatement
    private let columns: [ColumnBuilder]
    private let maxRows: Int
    private let maxBytes: Int
    /// Builder bytes per row apart from text and blob bytes: values, offsets.
    private let fixedRowBytes: Int
    private var rowsRead = 0
    private var finished = false

    /// A reader of `statement`'s rows under `schema`, which must have one field per column
    /// with a type the reader builds (throws `FlightError.internal` otherwise: the schema comes
    /// from the engine, not a client). `maxRows` and `maxBytes` below 1 count as 1.
    package init(statement: SQLiteStatement, schema: Schema, maxRows: Int = 65_536, maxBytes: Int = 8 << 20) throws(FlightError) {
        guard schema.fields.count == statement.columnCount else {
            throw FlightError(.internal, "schema has \(schema.fields.count) fields for a statement of \(statement.columnCount) columns")
        }
        var columns: [ColumnBuilder] = []
        var fixed = 0
        for field in schema.fields {
            switch field.type {
            case .int64: columns.append(.int64(PrimitiveBuilder<Int64>())); fixed += 8
            case .float64: columns.append(.float64(PrimitiveBuilder<Double>())); fixed += 8
            case .bool: columns.append(.bool(BooleanBuilder()))
            case .utf8: columns.append(.utf8(StringBuilder())); fixed += 4
            case .binary: columns.append(.binary(BinaryBuilder())); fixed += 4
            case .null: columns.append(.null(NullBuilder()))
            default:
                throw FlightError(.internal, "column '\(field.name)': SQLite results cannot be read as \(field.type)")
            }
        }
        self.statement = statement
        self.schema = schema
        self.columns = columns
        self.maxRows = max(1, maxRows)
        self.maxBytes = max(1, maxBytes)
        fixedRowBytes = fixed
    }

    /// The next batch, or nil once every row has been read.
    ///
    /// Throws `CancellationError` if the task is cancelled (checked once per batch), the
    /// statement's `SQLiteError` (`isInterrupt` after `SQLiteConnection.interrupt()`),
    /// `FlightError.invalidArgument` for a value its column's type cannot hold, and
    /// `FlightError.aborted` when another connection changed the tables so that the query
    /// now has a different number of columns.
    package func next() throws -> RecordBatch? {
        guard !finished else { return nil }
        do {
            try Task.checkCancellation()
            return try readBatch()
        } catch {
            finish()
            throw error
        }
    }

    private func finish() {
        finished = true
        statement.reset()
    }

    private func readBatch() throws -> RecordBatch? {
        let expected = rowsRead == 0 ? min(maxRows, 1024) : maxRows
        for column in columns {
            switch column {
            case .int64(let b): b.reserveCapacity(expected)
            case .float64(let b): b.reserveCapacity(expected)
            default: break
            }
        }
        var rows = 0
        var bytes = 0
        while rows < maxRows && bytes < maxBytes {
            guard try statement.step() else {
                finish()
                break
            }
            // Only the first step after a reset can recompile the statement (after a schema
            // change by another connection), so once per batch is enough.
            if rows == 0 && statement.columnCount != columns.count {
                throw FlightError(.aborted, "the query now returns \(statement.columnCount) columns instead of \(columns.count): the database schema changed under it")
            }
            bytes &+= try appendRow(statement, row: rowsRead &+ rows) &+ fixedRowBytes
            rows &+= 1
        }
        guard rows > 0 else { return nil }
        rowsRead += rows
        var arrays: [ArrayData] = []
        arrays.reserveCapacity(columns.count)
        for column in columns { arrays.append(column.finish()) }
        return try RecordBatch(schema: schema, columns: arrays, length: rows)
    }

    /// One batch of `rows`, read from memory under the reader's schema with the same
    /// conversions as rows read from the statement. The statement is not stepped.
    package func batch(of rows: SQLiteHeldRows) throws -> RecordBatch {
        guard rows.columns == columns.count else {
            throw FlightError(.internal, "held rows have \(rows.columns) columns for a schema of \(columns.count)")
        }
        try rows.withRows { row in
            for index in 0..<rows.count { _ = try appendRow(row(index), row: index) }
        }
        var arrays: [ArrayData] = []
        arrays.reserveCapacity(columns.count)
        for column in columns { arrays.append(column.finish()) }
        return try RecordBatch(schema: schema, columns: arrays, length: rows.count)
    }

    /// Appends the current row of `source`; returns the text and blob bytes it added.
    @inline(__always)
    private func appendRow<Row: SQLiteRowValues>(_ source: Row, row: Int) throws -> Int {
        let statement = source
        var bytes = 0
        for c in 0..<columns.count {
            let storage = statement.storageClass(c)
            switch columns[c] {
            case .int64(let b):
                switch storage {
                case .integer: b.append(statement.int64(c))
                case .null: b.appendNull()
                case .text:
                    guard let value = Int64(String(decoding: statement.text(c), as: UTF8.self)) else {
                        throw mismatch(c, row, storage, "int64", hint: "it is not an integer")
                    }
                    b.append(value)
                case .real, .blob: throw mismatch(c, row, storage, "int64")
                }
            case .float64(let b):
                switch storage {
                case .real, .integer: b.append(statement.double(c))
                case .null: b.appendNull()
                case .text:
                    guard let value = Double(String(decoding: statement.text(c), as: UTF8.self)), value.isFinite else {
                        throw mismatch(c, row, storage, "float64", hint: "it is not a finite number")
                    }
                    b.append(value)
                case .blob: throw mismatch(c, row, storage, "float64")
                }
            case .utf8(let b):
                switch storage {
                case .text, .integer, .real:
                    let text = statement.text(c)
                    try b.append(utf8: text)
                    bytes &+= text.count
                case .null: b.appendNull()
                case .blob:
                    let blob = statement.blob(c)
                    guard String(validating: blob, as: UTF8.self) != nil else {
                        throw mismatch(c, row, storage, "utf8", hint: "its bytes are not UTF-8")
                    }
                    try b.append(utf8: blob)
                    bytes &+= blob.count
                }
            case .binary(let b):
                if storage == .null {
                    b.appendNull()
                } else {
                    let blob = statement.blob(c)
                    try b.append(bytes: blob)
                    bytes &+= blob.count
                }
            case .bool(let b):
                switch storage {
                case .integer: b.append(statement.int64(c) != 0)
                case .null: b.appendNull()
                case .real, .text, .blob: throw mismatch(c, row, storage, "bool")
                }
            case .null(let b):
                guard storage == .null else { throw mismatch(c, row, storage, "null") }
                b.appendNull()
            }
        }
        return bytes
    }

    // A value that does not fit its column is a property of the query and the data, not of
    // the server: the client chose a query whose declared (or sampled) types the data breaks,
    // and the remedy, a CAST in the query or a fix to the data, is on its side. So it is an
    // invalid argument rather than an internal error.
    private func mismatch(_ column: Int, _ row: Int, _ storage: SQLiteStorageClass, _ type: String,
                          hint: String? = nil) -> FlightError {
        let name = schema.fields[column].name
        let reason = hint.map { ", and \($0)" } ?? ""
        return FlightError(.invalidArgument,
                           "column '\(name)' row \(row + 1): \(storage.name) value in a column typed \(type)\(reason); CAST the column in the query to read it")
    }
}

/// The values of one row as the reader reads them: the current row of a statement, or a row
/// held in memory (`SQLiteHeldRows`).
package protocol SQLiteRowValues {
    /// The storage class of column `i`.
    func storageClass(_ i: Int) -> SQLiteStorageClass
    /// Column `i` as a 64-bit integer.
    func int64(_ i: Int) -> Int64
    /// Column `i` as a double.
    func double(_ i: Int) -> Double
    /// The UTF-8 text of column `i` (numbers as SQLite writes them).
    func text(_ i: Int) -> UnsafeRawBufferPointer
    /// The bytes of column `i` (numbers as their text).
    func blob(_ i: Int) -> UnsafeRawBufferPointer
}

extension SQLiteStatement: SQLiteRowValues {}

/// Rows copied out of a statement, to be read later as if from it: the engine reads a query's
/// first rows while planning, takes the types of untyped columns from them, and, when they
/// are the whole result, makes the result from them without running the query again.
///
/// Numbers keep their text as SQLite writes it, so a number read as text here reads the same
/// as from the statement.
package final class SQLiteHeldRows {
    fileprivate struct Value {
        var storage: SQLiteStorageClass
        var integer: Int64 = 0
        var real: Double = 0
        var offset = 0
        var count = 0
    }

    /// The number of columns of each row.
    package let columns: Int
    private var values: [Value] = []
    private var bytes: [UInt8] = []

    /// No rows yet, of `columns` columns.
    package init(columns: Int) { self.columns = columns }

    /// The number of rows held.
    package var count: Int { columns == 0 ? 0 : values.count / columns }
    /// The text and blob bytes held.
    package var byteCount: Int { bytes.count }

    /// Copies the statement's current row.
    package func append(from statement: SQLiteStatement) {
        for c in 0..<columns {
            var value = Value(storage: statement.storageClass(c))
            let data: UnsafeRawBufferPointer
            switch value.storage {
            case .integer:
                value.integer = statement.int64(c)
                value.real = Double(value.integer)
                data = statement.text(c)
            case .real:
                // No integer: the reader refuses a REAL where it wants one.
                value.real = statement.double(c)
                data = statement.text(c)
            case .text: data = statement.text(c)
            case .blob: data = statement.blob(c)
            case .null: data = UnsafeRawBufferPointer(start: nil, count: 0)
            }
            value.offset = bytes.count
            value.count = data.count
            bytes.append(contentsOf: data)
            values.append(value)
        }
    }

    /// The type the values of column `c` imply (see `SQLiteTypeMapping.inferSchema`).
    package func valueType(column c: Int) -> DataType {
        SQLiteTypeMapping.valueType(of: stride(from: c, to: values.count, by: max(columns, 1)).lazy.map { self.values[$0].storage })
    }

    /// Calls `body` with a function from row index to that row's values, valid inside `body`.
    func withRows<R>(_ body: ((Int) -> Row) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { values in
            try bytes.withUnsafeBytes { bytes in
                try body { Row(values: values, bytes: bytes, base: $0 * columns) }
            }
        }
    }

    /// One held row.
    struct Row: SQLiteRowValues {
        fileprivate let values: UnsafeBufferPointer<Value>
        let bytes: UnsafeRawBufferPointer
        let base: Int

        func storageClass(_ i: Int) -> SQLiteStorageClass { values[base + i].storage }
        func int64(_ i: Int) -> Int64 { values[base + i].integer }
        func double(_ i: Int) -> Double { values[base + i].real }
        func text(_ i: Int) -> UnsafeRawBufferPointer {
            let value = values[base + i]
            return UnsafeRawBufferPointer(rebasing: bytes[value.offset..<value.offset + value.count])
        }
        func blob(_ i: Int) -> UnsafeRawBufferPointer { text(i) }
    }
}

/// One column's builder, by its concrete type, so that appending a value is a direct call.
private enum ColumnBuilder {
    case int64(PrimitiveBuilder<Int64>)
    case float64(PrimitiveBuilder<Double>)
    case bool(BooleanBuilder)
    case utf8(StringBuilder)
    case binary(BinaryBuilder)
    case null(NullBuilder)

    func finish() -> ArrayData {
        switch self {
        case .int64(let b): b.finish()
        case .float64(let b): b.finish()
        case .bool(let b): b.finish()
        case .utf8(let b): b.finish()
        case .binary(let b): b.finish()
        case .null(let b): b.finish()
        }
    }
}

extension SQLiteStorageClass {
    /// SQLite's name for the class, as its documentation writes it.
    var name: String {
        switch self {
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        case .null: "NULL"
        }
    }
}
