import ArgumentParser
import ArrowCore

/// How the shell writes result rows.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// An aligned text table for people, followed by the row count.
    case table
    /// A header line, then one RFC 4180 line per row.
    case csv
    /// JSON Lines: one object per row, keyed by column name.
    case json

    /// The text of a result's rows, every line ending in a newline. `schema` names the
    /// columns when there are no batches. The table format has no row count here: the
    /// caller adds it, with the time taken.
    func render(_ batches: [RecordBatch], schema: Schema) -> String {
        switch self {
        case .table: ResultText.table(batches, schema: schema)
        case .csv: ResultText.csv(batches, schema: schema)
        case .json: ResultText.jsonLines(batches)
        }
    }
}

/// The three renderings of a result.
enum ResultText {
    /// One aligned table over every batch, so columns line up across batch boundaries. If the
    /// batches cannot be joined (dictionary columns with different dictionaries), each batch
    /// gets a table of its own.
    static func table(_ batches: [RecordBatch], schema: Schema) -> String {
        if let whole = try? joined(batches, schema: schema) {
            return PrettyPrinter.render(whole) + "\n"
        }
        return batches.map { PrettyPrinter.render($0) + "\n" }.joined(separator: "\n")
    }

    /// The batches as one batch; with no batches, an empty one with `schema`'s columns.
    static func joined(_ batches: [RecordBatch], schema: Schema) throws(ArrowError) -> RecordBatch {
        guard let first = batches.first else {
            let columns = schema.fields.map { field -> ArrayData in
                var builder = makeBuilder(for: field.type)
                return builder.finish()
            }
            return try RecordBatch(schema: schema, columns: columns, length: 0)
        }
        if batches.count == 1 { return first }
        var columns: [ArrayData] = []
        for index in first.columns.indices {
            columns.append(try ArrayData.concatenate(batches.map { $0.columns[index] }))
        }
        return try RecordBatch(schema: first.schema, columns: columns, length: batches.reduce(0) { $0 + $1.length })
    }

    /// A header of column names, then a line per row. A null is an empty field and an empty
    /// string is `""`, so the two stay apart when the file is read back.
    static func csv(_ batches: [RecordBatch], schema: Schema) -> String {
        var out = schema.fields.map { csvField($0.name) }.joined(separator: ",") + "\n"
        for batch in batches {
            for row in 0..<batch.length {
                let fields = batch.columns.map { column -> String in
                    guard let (array, index) = resolveSlot(column, row, throughUnions: true) else { return "" }
                    return csvField(text(array, index))
                }
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// `value` as one CSV field: quoted, with quotes doubled, when it holds a comma, quote,
    /// CR or LF, or is empty.
    static func csvField(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One JSON object per row. Integers and floats are JSON numbers (NaN and the infinities,
    /// which JSON lacks, are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`), booleans are
    /// `true`/`false`, nulls `null`, binary values lowercase hex strings, and every other value
    /// the string the table format shows.
    static func jsonLines(_ batches: [RecordBatch]) -> String {
        var out = ""
        for batch in batches {
            let keys = batch.schema.fields.map { jsonQuoted($0.name) + ":" }
            for row in 0..<batch.length {
                out += "{"
                for (k, column) in batch.columns.enumerated() {
                    if k > 0 { out += "," }
                    out += keys[k]
                    if let (array, index) = resolveSlot(column, row, throughUnions: true) {
                        out += jsonValue(array, index)
                    } else {
                        out += "null"
                    }
                }
                out += "}\n"
            }
        }
        return out
    }

    /// The JSON text of slot `i` of `array`, which is not null and not an encoding
    /// (see `resolveSlot`).
    static func jsonValue(_ array: ArrayData, _ i: Int) -> String {
        switch array.type {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
            return array.formatValue(at: i)
        case .float16, .float32, .float64:
            let number = array.formatValue(at: i)
            switch number {
            case "nan", "-nan": return "\"NaN\""
            case "inf": return "\"Infinity\""
            case "-inf": return "\"-Infinity\""
            default: return number
            }
        case .bool:
            return array.boolValue(i) ? "true" : "false"
        default:
            return jsonQuoted(text(array, i))
        }
    }

    /// The text of slot `i` for CSV and JSON strings: binary in full as lowercase hex (the
    /// shared formatter cuts it after 32 bytes, which suits a table but would lose data
    /// here), everything else as `formatValue(at:)` writes it.
    static func text(_ array: ArrayData, _ i: Int) -> String {
        switch array.type {
        case .binary, .largeBinary, .binaryView, .fixedSizeBinary:
            return hexText(array.bytes(i), lowercase: true)
        default:
            return array.formatValue(at: i)
        }
    }
}
