import ArrowCore
import FlightRPC
import FlightSQL

/// Binds rows of a record batch to a statement's parameters: column `i` to parameter `i`
/// (SQLite's `?` number `i + 1`), whatever the parameters' names.
///
/// The batch's columns are checked and viewed once, at `init`, so binding many rows (bulk
/// ingest, a prepared statement run per parameter row) does no per-row type dispatch. Values
/// become SQLite values like this:
///
/// | Arrow type | SQLite value |
/// |---|---|
/// | signed and unsigned integers | INTEGER (a uint64 above `Int64.max` is an error) |
/// | float16, float32, float64 | REAL |
/// | bool | INTEGER 0 or 1 |
/// | utf8, large utf8, utf8 view | TEXT |
/// | binary, large binary, binary view, fixed-size binary | BLOB |
/// | date32, date64 | TEXT `YYYY-MM-DD` |
/// | timestamp (any unit, any zone) | TEXT `YYYY-MM-DD HH:MM:SS[.fff]`: the instant in UTC for zoned types, the wall-clock time otherwise; the fraction has the unit's digits with trailing zeros removed, and only when nonzero |
/// | decimal (any width) | TEXT of the exact decimal |
/// | dictionary | its value, by the value type's rule |
/// | dense or sparse union | the member each slot holds, by its type's rule |
/// | null, and null slots of any type | NULL |
///
/// The text forms are the ones SQLite's date functions read. Other types are refused with a
/// `FlightError.invalidArgument` naming the parameter.
package struct SQLiteParameterBinder {
    private let columns: [BindValue]
    /// The number of rows that can be bound.
    package let rowCount: Int

    /// A binder of `batch`'s rows; throws `FlightError.invalidArgument` if a column has a type
    /// SQLite cannot take or buffers too small for its length.
    package init(_ batch: RecordBatch) throws(FlightError) {
        var columns: [BindValue] = []
        columns.reserveCapacity(batch.columns.count)
        for (i, (field, data)) in zip(batch.schema.fields, batch.columns).enumerated() {
            let name = "parameter \(i + 1) ('\(field.name)')"
            do {
                columns.append(try makeBinder(data, name: name))
            } catch let error as FlightError {
                throw error
            } catch {
                throw FlightError(.invalidArgument, "\(name): \(error)")
            }
        }
        self.columns = columns
        rowCount = batch.length
    }

    /// Binds every parameter of `statement` from row `row`. Throws `FlightError.invalidArgument`
    /// if the batch does not have one column per parameter, `row` is out of range or a value
    /// does not fit SQLite, and `SQLiteError` if SQLite refuses a value (`SQLITE_TOOBIG`).
    package func bind(row: Int, to statement: SQLiteStatement) throws {
        guard columns.count == statement.parameterCount else {
            throw FlightError(.invalidArgument,
                              "the statement has \(statement.parameterCount) parameters but the parameter batch has \(columns.count) columns")
        }
        guard row >= 0 && row < rowCount else {
            throw FlightError(.invalidArgument, "parameter row \(row) is outside a batch of \(rowCount) rows")
        }
        for (parameter, bind) in columns.enumerated() {
            try bind(row, statement, parameter)
        }
    }

    /// Binds row `row` of `batch` to `statement` (see the type's rules); for one row. To bind
    /// many rows of one batch, make a binder once and call `bind(row:to:)`.
    package static func bind(_ batch: RecordBatch, row: Int, to statement: SQLiteStatement) throws {
        try SQLiteParameterBinder(batch).bind(row: row, to: statement)
    }
}

/// Binds slot `row` of one column to parameter `parameter` of a statement.
private typealias BindValue = (_ row: Int, _ statement: SQLiteStatement, _ parameter: Int) throws -> Void

private func makeBinder(_ data: ArrayData, name: String) throws -> BindValue {
    switch data.type {
    case .null:
        return { _, statement, p in try statement.bindNull(p) }
    case .int8: return try integerBinder(PrimitiveArray<Int8>(data), name: name)
    case .int16: return try integerBinder(PrimitiveArray<Int16>(data), name: name)
    case .int32: return try integerBinder(PrimitiveArray<Int32>(data), name: name)
    case .int64: return try integerBinder(PrimitiveArray<Int64>(data), name: name)
    case .uint8: return try integerBinder(PrimitiveArray<UInt8>(data), name: name)
    case .uint16: return try integerBinder(PrimitiveArray<UInt16>(data), name: name)
    case .uint32: return try integerBinder(PrimitiveArray<UInt32>(data), name: name)
    case .uint64: return try integerBinder(PrimitiveArray<UInt64>(data), name: name)
    case .float16: return try floatBinder(PrimitiveArray<Float16>(data))
    case .float32: return try floatBinder(PrimitiveArray<Float>(data))
    case .float64: return try floatBinder(PrimitiveArray<Double>(data))
    case .bool:
        let values = try BooleanArray(data)
        return { row, statement, p in
            if let value = values[row] { try statement.bind(p, int64: value ? 1 : 0) } else { try statement.bindNull(p) }
        }
    case .utf8, .largeUtf8, .utf8View:
        let values = try StringArray(data)
        return { row, statement, p in
            if values.isNull(row) { return try statement.bindNull(p) }
            try values.withUTF8(at: row) { try statement.bind(p, utf8: $0) }
        }
    case .binary, .largeBinary, .binaryView, .fixedSizeBinary:
        let values = try BinaryArray(data)
        return { row, statement, p in
            if values.isNull(row) { return try statement.bindNull(p) }
            try values.withBytes(at: row) { try statement.bind(p, blob: $0) }
        }
    case .date32:
        let values = try PrimitiveArray<Int32>(data)
        return { row, statement, p in
            if let days = values[row] { try statement.bind(p, text: formatDate(days: Int(days))) } else { try statement.bindNull(p) }
        }
    case .date64:
        let values = try PrimitiveArray<Int64>(data)
        return { row, statement, p in
            if let milliseconds = values[row] {
                try statement.bind(p, text: formatDate(days: floorDivide(Int(milliseconds), 86_400_000)))
            } else {
                try statement.bindNull(p)
            }
        }
    case .timestamp(let unit, _):
        let values = try PrimitiveArray<Int64>(data)
        return { row, statement, p in
            if let value = values[row] { try statement.bind(p, text: formatTimestamp(value, unit)) } else { try statement.bindNull(p) }
        }
    case .decimal:
        let values = try DecimalArray(data)
        return { row, statement, p in
            if let text = values[row] { try statement.bind(p, text: text) } else { try statement.bindNull(p) }
        }
    case .union:
        // The parameter schema we publish is a union of the types SQLite stores, so clients
        // that follow it send unions: each slot binds as the member it holds.
        let union = try UnionArray(data)
        let members = try union.fields.indices.map { try makeBinder(union.child(at: $0), name: name) }
        return { row, statement, p in
            let slot = union[row]
            guard slot.childIndex >= 0 && slot.childIndex < members.count else {
                throw FlightError(.invalidArgument, "\(name) row \(row): union type id \(slot.typeID) names no member")
            }
            try members[slot.childIndex](slot.offset, statement, p)
        }
    case .dictionary:
        let indices = try DictionaryArray(data)
        let dictionary = indices.dictionary
        let value = try makeBinder(dictionary, name: name)
        return { row, statement, p in
            guard let index = indices[row] else { return try statement.bindNull(p) }
            guard index >= 0 && index < dictionary.length else {
                throw FlightError(.invalidArgument, "\(name) row \(row): dictionary index \(index) is outside a dictionary of \(dictionary.length) values")
            }
            try value(index, statement, p)
        }
    default:
        throw FlightError(.invalidArgument, "\(name) has type \(data.type), which cannot be bound to a SQLite parameter")
    }
}

private func integerBinder<T: ArrowPrimitiveType & FixedWidthInteger>(_ values: PrimitiveArray<T>, name: String) -> BindValue {
    { row, statement, p in
        guard let value = values[row] else { return try statement.bindNull(p) }
        guard let exact = Int64(exactly: value) else {
            throw FlightError(.invalidArgument, "\(name) row \(row): \(T.arrowType) value \(value) is outside SQLite's 64-bit signed integers")
        }
        try statement.bind(p, int64: exact)
    }
}

private func floatBinder<T: ArrowPrimitiveType & BinaryFloatingPoint>(_ values: PrimitiveArray<T>) -> BindValue {
    { row, statement, p in
        if let value = values[row] { try statement.bind(p, double: Double(value)) } else { try statement.bindNull(p) }
    }
}

/// `YYYY-MM-DD HH:MM:SS`, then `.` and the fraction when it is nonzero (trailing zeros
/// dropped), for `value` units since 1970-01-01 00:00:00: the form SQLite's date functions read.
private func formatTimestamp(_ value: Int64, _ unit: TimeUnit) -> String {
    let perSecond = unit.perSecond
    let seconds = floorDivide(Int(value), perSecond)
    let fraction = Int(value) - seconds * perSecond
    let days = floorDivide(seconds, 86_400)
    var text = formatDate(days: days) + " " + formatTimeOfDay(seconds - days * 86_400, unit: .second)
    if fraction != 0 {
        var digits = zeroPadded(UInt64(fraction), width: unit.fractionDigits)
        while digits.hasSuffix("0") { digits.removeLast() }
        text += "." + digits
    }
    return text
}
