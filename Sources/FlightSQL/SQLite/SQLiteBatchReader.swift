import ArrowCore
import FlightRPC

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
            bytes &+= try appendRow(row: rowsRead &+ rows) &+ fixedRowBytes
            rows &+= 1
        }
        guard rows > 0 else { return nil }
        rowsRead += rows
        var arrays: [ArrayData] = []
        arrays.reserveCapacity(columns.count)
        for column in columns { arrays.append(column.finish()) }
        return try RecordBatch(schema: schema, columns: arrays, length: rows)
    }

    /// Appends the current row; returns the text and blob bytes it added.
    @inline(__always)
    private func appendRow(row: Int) throws -> Int {
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
