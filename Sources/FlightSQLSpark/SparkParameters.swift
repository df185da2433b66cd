import ArrowCore
import FlightRPC
import Foundation
import SparkConnect

/// Rows of a Flight SQL parameter batch as the literals of Spark's parameterised SQL.
///
/// | Arrow type | Spark literal |
/// |---|---|
/// | bool | boolean |
/// | int8, int16, int32, int64 | tinyint, smallint, int, bigint |
/// | uint8, uint16, uint32 | the next wider signed integer; uint64 as bigint when it fits |
/// | float16, float32, float64 | float, float, double |
/// | decimal (any width, precision at most 38) | decimal(p, s) |
/// | utf8, large utf8, utf8 view | string |
/// | binary, large binary, binary view, fixed-size binary | binary |
/// | date32, date64 | date |
/// | timestamp with a zone (any unit) | timestamp (the instant) |
/// | timestamp without a zone (any unit) | timestamp_ntz |
/// | dense or sparse union | the member each slot holds |
/// | dictionary | its value |
/// | null, and null slots | a NULL of the column's type |
///
/// Finer units than microseconds are truncated towards negative infinity, as Spark's own
/// conversion does. Other types are refused with INVALID_ARGUMENT naming the parameter.
enum SparkParameters {
    typealias Literal = Spark_Connect_Expression.Literal

    /// The literals of row `row` of `batch`, one per column.
    static func literals(_ batch: RecordBatch, row: Int) throws(FlightError) -> [Literal] {
        guard row >= 0 && row < batch.length else {
            throw FlightError(.invalidArgument, "parameter row \(row) is outside a batch of \(batch.length) rows")
        }
        return try zip(batch.schema.fields, batch.columns).enumerated().map { index, pair throws(FlightError) in
            do {
                return try literal(pair.1, row: row)
            } catch let error as FlightError {
                throw FlightError(.invalidArgument, "parameter \(index + 1) ('\(pair.0.name)'): \(error.message)")
            } catch {
                throw FlightError(.invalidArgument, "parameter \(index + 1) ('\(pair.0.name)'): \(error)")
            }
        }
    }

    /// The literals of row `row` by column name, for named parameters (`:name`).
    static func namedLiterals(_ batch: RecordBatch, row: Int) throws(FlightError) -> [String: Literal] {
        let values = try literals(batch, row: row)
        var named: [String: Literal] = [:]
        for (field, value) in zip(batch.schema.fields, values) {
            guard named[field.name] == nil else {
                throw FlightError(.invalidArgument, "two parameter columns are named '\(field.name)'")
            }
            named[field.name] = value
        }
        return named
    }

    private static func failure(_ message: String) -> FlightError { FlightError(.invalidArgument, message) }

    static func literal(_ data: ArrayData, row: Int) throws(FlightError) -> Literal {
        var literal = Literal()
        do {
            switch data.type {
            case .null:
                literal.null = sparkType(.null)
                return literal
            case .union:
                let union = try UnionArray(data)
                let slot = union[row]
                guard slot.childIndex >= 0 && slot.childIndex < union.fields.count else {
                    throw failure("union type id \(slot.typeID) names no member")
                }
                return try self.literal(union.child(at: slot.childIndex), row: slot.offset)
            case .dictionary(_, let valueType, _):
                let indices = try DictionaryArray(data)
                guard let index = indices[row] else {
                    literal.null = sparkType(valueType)
                    return literal
                }
                guard index >= 0 && index < indices.dictionary.length else {
                    throw failure("dictionary index \(index) is outside a dictionary of \(indices.dictionary.length) values")
                }
                return try self.literal(indices.dictionary, row: index)
            default:
                break
            }
            if data.isNull(row) {
                literal.null = sparkType(data.type)
                return literal
            }
            switch data.type {
            case .bool: literal.boolean = try BooleanArray(data)[row] ?? false
            case .int8: literal.byte = Int32(try PrimitiveArray<Int8>(data).value(at: row))
            case .int16: literal.short = Int32(try PrimitiveArray<Int16>(data).value(at: row))
            case .int32: literal.integer = try PrimitiveArray<Int32>(data).value(at: row)
            case .int64: literal.long = try PrimitiveArray<Int64>(data).value(at: row)
            case .uint8: literal.short = Int32(try PrimitiveArray<UInt8>(data).value(at: row))
            case .uint16: literal.integer = Int32(try PrimitiveArray<UInt16>(data).value(at: row))
            case .uint32: literal.long = Int64(try PrimitiveArray<UInt32>(data).value(at: row))
            case .uint64:
                let value = try PrimitiveArray<UInt64>(data).value(at: row)
                guard let exact = Int64(exactly: value) else { throw failure("uint64 value \(value) is outside Spark's bigint") }
                literal.long = exact
            case .float16: literal.float = Float(try PrimitiveArray<Float16>(data).value(at: row))
            case .float32: literal.float = try PrimitiveArray<Float>(data).value(at: row)
            case .float64: literal.double = try PrimitiveArray<Double>(data).value(at: row)
            case .decimal(_, let precision, let scale):
                guard precision <= 38 else { throw failure("decimal precision \(precision) is above Spark's 38") }
                var decimal = Literal.Decimal()
                decimal.value = try DecimalArray(data)[row] ?? "0"
                decimal.precision = Int32(precision)
                decimal.scale = Int32(scale)
                literal.decimal = decimal
            case .utf8, .largeUtf8, .utf8View: literal.string = try StringArray(data)[row] ?? ""
            case .binary, .largeBinary, .binaryView, .fixedSizeBinary:
                literal.binary = try BinaryArray(data).withBytes(at: row) { Data($0) }
            case .date32: literal.date = try PrimitiveArray<Int32>(data).value(at: row)
            case .date64:
                let milliseconds = try PrimitiveArray<Int64>(data).value(at: row)
                guard let days = Int32(exactly: floorDivide(milliseconds, 86_400_000)) else { throw failure("date64 value out of range") }
                literal.date = days
            case .timestamp(let unit, let zone):
                let micros = try microseconds(try PrimitiveArray<Int64>(data).value(at: row), unit)
                if zone == nil { literal.timestampNtz = micros } else { literal.timestamp = micros }
            default:
                throw failure("type \(data.type) cannot be a Spark SQL parameter")
            }
        } catch let error as FlightError {
            throw error
        } catch {
            throw failure("\(error)")
        }
        return literal
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func microseconds(_ value: Int64, _ unit: TimeUnit) throws(FlightError) -> Int64 {
        switch unit {
        case .second:
            let (product, overflow) = value.multipliedReportingOverflow(by: 1_000_000)
            guard !overflow else { throw failure("timestamp \(value) s is out of range") }
            return product
        case .millisecond:
            let (product, overflow) = value.multipliedReportingOverflow(by: 1_000)
            guard !overflow else { throw failure("timestamp \(value) ms is out of range") }
            return product
        case .microsecond: return value
        case .nanosecond: return floorDivide(value, 1_000)
        }
    }

    /// The Spark type a NULL of an Arrow column takes.
    static func sparkType(_ type: DataType) -> Spark_Connect_DataType {
        var spark = Spark_Connect_DataType()
        switch type {
        case .bool: spark.boolean = .init()
        case .int8: spark.byte = .init()
        case .int16, .uint8: spark.short = .init()
        case .int32, .uint16: spark.integer = .init()
        case .int64, .uint32, .uint64: spark.long = .init()
        case .float16, .float32: spark.float = .init()
        case .float64: spark.double = .init()
        case .decimal(_, let precision, let scale):
            var decimal = Spark_Connect_DataType.Decimal()
            decimal.precision = Int32(min(precision, 38))
            decimal.scale = Int32(min(scale, 38))
            spark.decimal = decimal
        case .utf8, .largeUtf8, .utf8View: spark.string = .init()
        case .binary, .largeBinary, .binaryView, .fixedSizeBinary: spark.binary = .init()
        case .date32, .date64: spark.date = .init()
        case .timestamp(_, let zone):
            if zone == nil { spark.timestampNtz = .init() } else { spark.timestamp = .init() }
        default: spark.null = .init()
        }
        return spark
    }
}
