import ArrowCore
import FlightRPC
import SparkConnect

/// Spark SQL types as Arrow types, the way Spark's own Arrow conversion makes them (what
/// `toArrow()` of a Spark Connect client returns):
///
/// | Spark | Arrow |
/// |---|---|
/// | boolean, tinyint, smallint, int, bigint | bool, int8, int16, int32, int64 |
/// | float, double | float32, float64 |
/// | decimal(p, s) | decimal128(p, s) |
/// | string, char(n), varchar(n) | utf8 |
/// | binary | binary |
/// | date | date32 |
/// | timestamp | timestamp[us] in the session's time zone |
/// | timestamp_ntz | timestamp[us] without a zone |
/// | interval year to month | interval[year_month] |
/// | interval day to second | duration[us] |
/// | interval (calendar) | interval[month_day_nano] |
/// | void | null |
/// | array<T> | list of `element` |
/// | map<K, V> | map of `entries` with `key` (never null) and `value` |
/// | struct<...> | struct |
///
/// Other types (variant, geometry, time, user-defined types) are refused with a clear error.
enum SparkTypes {
    /// The Arrow schema of a Spark struct type (the schema AnalyzePlan returns).
    static func schema(_ type: Spark_Connect_DataType, timeZone: String) throws(FlightError) -> Schema {
        guard case .struct(let row)? = type.kind else {
            throw FlightError(.internal, "Spark described a result that is not a row type")
        }
        return Schema(try row.fields.map { field throws(FlightError) in
            Field(field.name, try arrowType(field.dataType, timeZone: timeZone), nullable: field.nullable)
        })
    }

    /// The Arrow type of one Spark type.
    static func arrowType(_ type: Spark_Connect_DataType, timeZone: String) throws(FlightError) -> DataType {
        switch type.kind {
        case .null?: return .null
        case .boolean?: return .bool
        case .byte?: return .int8
        case .short?: return .int16
        case .integer?: return .int32
        case .long?: return .int64
        case .float?: return .float32
        case .double?: return .float64
        case .decimal(let decimal)?:
            return .decimal(bitWidth: 128, precision: Int(decimal.hasPrecision ? decimal.precision : 10),
                            scale: Int(decimal.hasScale ? decimal.scale : 0))
        case .string?, .char?, .varChar?: return .utf8
        case .binary?: return .binary
        case .date?: return .date32
        case .timestamp?: return .timestamp(.microsecond, timeZone: timeZone)
        case .timestampNtz?: return .timestamp(.microsecond, timeZone: nil)
        case .yearMonthInterval?: return .interval(.yearMonth)
        case .dayTimeInterval?: return .duration(.microsecond)
        case .calendarInterval?: return .interval(.monthDayNano)
        case .array(let array)?:
            return .list(Field("element", try arrowType(array.elementType, timeZone: timeZone), nullable: array.containsNull))
        case .map(let map)?:
            let entries = Field("entries", .struct([
                Field("key", try arrowType(map.keyType, timeZone: timeZone), nullable: false),
                Field("value", try arrowType(map.valueType, timeZone: timeZone), nullable: map.valueContainsNull),
            ]), nullable: false)
            return .map(entries, keysSorted: false)
        case .struct(let row)?:
            return .struct(try row.fields.map { field throws(FlightError) in
                Field(field.name, try arrowType(field.dataType, timeZone: timeZone), nullable: field.nullable)
            })
        case .udt(let udt)?:
            if udt.hasSqlType { return try arrowType(udt.sqlType, timeZone: timeZone) }
            throw FlightError(.unimplemented, "Spark's user-defined type '\(udt.jvmClass)' has no Arrow form here")
        default:
            throw FlightError(.unimplemented, "the Spark type \(kindName(type)) has no Arrow form in this gateway")
        }
    }

    /// Spark's name of a type (`bigint`, `decimal(10,2)`, `array<string>`), as DDL writes it.
    static func sparkName(_ type: Spark_Connect_DataType) -> String {
        switch type.kind {
        case .null?: return "void"
        case .boolean?: return "boolean"
        case .byte?: return "tinyint"
        case .short?: return "smallint"
        case .integer?: return "int"
        case .long?: return "bigint"
        case .float?: return "float"
        case .double?: return "double"
        case .decimal(let d)?: return "decimal(\(d.hasPrecision ? d.precision : 10),\(d.hasScale ? d.scale : 0))"
        case .string?: return "string"
        case .char(let c)?: return "char(\(c.length))"
        case .varChar(let v)?: return "varchar(\(v.length))"
        case .binary?: return "binary"
        case .date?: return "date"
        case .timestamp?: return "timestamp"
        case .timestampNtz?: return "timestamp_ntz"
        case .calendarInterval?: return "interval"
        case .yearMonthInterval?: return "interval year to month"
        case .dayTimeInterval?: return "interval day to second"
        case .array(let a)?: return "array<\(sparkName(a.elementType))>"
        case .map(let m)?: return "map<\(sparkName(m.keyType)),\(sparkName(m.valueType))>"
        case .struct(let s)?: return "struct<" + s.fields.map { "\($0.name):\(sparkName($0.dataType))" }.joined(separator: ",") + ">"
        default: return kindName(type)
        }
    }

    static func kindName(_ type: Spark_Connect_DataType) -> String {
        guard let kind = type.kind else { return "(unset)" }
        return "\(kind)".split(separator: "(").first.map(String.init) ?? "\(kind)"
    }

    /// Whether a column of `type` survives a round trip through Spark's Parquet writer and our
    /// reader with the same Arrow type: the condition for a distributed result.
    static func parquetRoundTrips(_ type: DataType) -> Bool {
        switch type {
        case .null, .interval, .duration: return false
        case .list(let element): return parquetRoundTrips(element.type)
        case .map(let entries, _): return entries.type.children.allSatisfy { parquetRoundTrips($0.type) }
        case .struct(let fields): return !fields.isEmpty && fields.allSatisfy { parquetRoundTrips($0.type) }
        default: return true
        }
    }

    /// `data` under `type` when the two differ only in labels: a time zone's name (the same
    /// instants), the names of list, map and struct children, nullability. The buffers stay;
    /// layouts that differ are an error.
    static func conform(_ data: ArrayData, to type: DataType) throws(FlightError) -> ArrayData {
        if data.type == type { return data }
        let children: [ArrayData]
        switch (data.type, type) {
        case (.timestamp(let a, let zoneA), .timestamp(let b, let zoneB)) where a == b && (zoneA == nil) == (zoneB == nil):
            children = data.children
        case (.list, .list(let b)), (.largeList, .largeList(let b)):
            guard data.children.count == 1 else { throw mismatch(data.type, type) }
            children = [try conform(data.children[0], to: b.type)]
        case (.map(_, _), .map(let b, _)):
            guard data.children.count == 1 else { throw mismatch(data.type, type) }
            children = [try conform(data.children[0], to: b.type)]
        case (.struct(let a), .struct(let b)) where a.count == b.count:
            guard data.children.count == b.count else { throw mismatch(data.type, type) }
            children = try zip(data.children, b).map { child, field throws(FlightError) in try conform(child, to: field.type) }
        default:
            throw mismatch(data.type, type)
        }
        return ArrayData(type: type, length: data.length, offset: data.offset, nullCount: data.nullCount, buffers: data.buffers,
                         children: children, dictionary: data.dictionary)
    }

    /// Whether ``conform(_:to:)`` takes arrays of `type` to `target`.
    static func fits(_ type: DataType, _ target: DataType) -> Bool {
        if type == target { return true }
        switch (type, target) {
        case (.timestamp(let a, let zoneA), .timestamp(let b, let zoneB)):
            return a == b && (zoneA == nil) == (zoneB == nil)
        case (.list(let a), .list(let b)), (.largeList(let a), .largeList(let b)), (.map(let a, _), .map(let b, _)):
            return fits(a.type, b.type)
        case (.struct(let a), .struct(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { fits($0.type, $1.type) }
        default:
            return false
        }
    }

    /// `batch` under `schema`, column by column (see ``conform(_:to:)``).
    static func conform(_ batch: RecordBatch, to schema: Schema) throws(FlightError) -> RecordBatch {
        guard batch.columns.count == schema.fields.count else {
            throw FlightError(.internal, "Spark returned \(batch.columns.count) columns where its plan said \(schema.fields.count)")
        }
        if batch.schema == schema { return batch }
        let columns = try zip(batch.columns, schema.fields).map { column, field throws(FlightError) in try conform(column, to: field.type) }
        do {
            return try RecordBatch(schema: schema, columns: columns, length: batch.length)
        } catch {
            throw FlightError(.internal, "Spark's batch does not fit the result's schema: \(error)")
        }
    }

    private static func mismatch(_ got: DataType, _ promised: DataType) -> FlightError {
        FlightError(.internal, "Spark returned \(got) where its plan said \(promised)")
    }
}
