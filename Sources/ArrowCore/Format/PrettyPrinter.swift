/// Renders record batches and schemas as plain text for people: logs, debugging, command-line
/// tools. The output is meant to be read, not parsed, and may change between versions.
///
/// Widths count `Character`s (extended grapheme clusters), which matches a terminal for most
/// text; wide East Asian characters and emoji occupy two terminal columns but count as one.
/// Control characters in values and names are escaped (`\n`, `\t`, `\u{1B}`) so every row
/// stays on one line.
public struct PrettyPrinter: Sendable {
    /// Renders `batch` as an aligned table: a header line of column names, a separator line, and
    /// one line per row, with columns separated by ` | `. Numbers (integers, floats, decimals,
    /// durations) are right-aligned and everything else left-aligned; values are formatted by
    /// `ArrayData.formatValue(at:)`.
    ///
    /// At most `maxRows` rows are shown (all when nil); when rows are left out, a last line says
    /// how many (`… 990 more rows`). Names and values longer than `maxColumnWidth` characters
    /// (at least 1) are cut and end in `…`. Lines carry no trailing spaces and the text has no
    /// final newline. The batch must be valid (built by this library or validated).
    public static func render(_ batch: RecordBatch, maxRows: Int? = nil, maxColumnWidth: Int = 40) -> String {
        if batch.columns.isEmpty { return "(no columns, \(batch.length) row\(batch.length == 1 ? "" : "s"))" }
        let width = Swift.max(1, maxColumnWidth)
        let shownRows = Swift.min(batch.length, Swift.max(0, maxRows ?? batch.length))
        let hiddenRows = batch.length - shownRows
        var lines: [String] = []
        // Nothing past the column width is ever shown, so there is no point formatting more
        // list items or bytes than could fit.
        let formatter = ValueFormatter(maxBinaryBytes: Swift.min(32, width), maxItems: width)
        var columns: [(header: String, cells: [String], rightAligned: Bool, width: Int)] = []
        for (field, array) in zip(batch.schema.fields, batch.columns) {
            let header = fit(escaped(field.name), width)
            let cells = (0..<shownRows).map { fit(escaped(formatter.format(array, $0)), width) }
            let columnWidth = cells.reduce(header.count) { Swift.max($0, $1.count) }
            columns.append((header, cells, isNumeric(field.type), columnWidth))
        }
        func line(_ text: (Int) -> String) -> String {
            var pieces: [String] = []
            for (k, column) in columns.enumerated() {
                let cell = text(k)
                let padding = String(repeating: " ", count: column.width - cell.count)
                if column.rightAligned {
                    pieces.append(padding + cell)
                } else {
                    pieces.append(k == columns.count - 1 ? cell : cell + padding)
                }
            }
            // An empty last cell would otherwise leave the separator's space dangling.
            var text = pieces.joined(separator: " | ")
            while text.last == " " { text.removeLast() }
            return text
        }
        lines.append(line { columns[$0].header })
        lines.append(columns.map { String(repeating: "-", count: $0.width) }.joined(separator: "-+-"))
        for row in 0..<shownRows {
            lines.append(line { columns[$0].cells[row] })
        }
        if hiddenRows > 0 { lines.append("… \(hiddenRows) more row\(hiddenRows == 1 ? "" : "s")") }
        return lines.joined(separator: "\n")
    }

    /// Renders `schema` one field per line as `name: type`, with ` not null` for fields that
    /// are not nullable. Children of nested types follow their parent, indented, as
    /// `child 0, name: type`; field metadata follows its field under `-- field metadata --`, and
    /// schema metadata comes last under `-- schema metadata --`, as `key: 'value'` lines.
    /// Metadata values longer than 100 characters are cut and end in `…`. No final newline.
    public static func render(_ schema: Schema) -> String {
        var lines: [String] = []
        for field in schema.fields {
            appendField(field, label: "", indent: "", to: &lines)
        }
        if !schema.metadata.isEmpty {
            lines.append("-- schema metadata --")
            appendMetadata(schema.metadata, indent: "", to: &lines)
        }
        return lines.joined(separator: "\n")
    }

    private static func appendField(_ field: Field, label: String, indent: String, to lines: inout [String]) {
        lines.append("\(indent)\(label)\(escaped(field.name)): \(escaped(field.type.description))\(field.nullable ? "" : " not null")")
        let inner = indent + "  "
        if !field.metadata.isEmpty {
            lines.append("\(inner)-- field metadata --")
            appendMetadata(field.metadata, indent: inner, to: &lines)
        }
        for (k, child) in field.type.children.enumerated() {
            appendField(child, label: "child \(k), ", indent: inner, to: &lines)
        }
    }

    private static func appendMetadata(_ metadata: Metadata, indent: String, to lines: inout [String]) {
        for (key, value) in metadata {
            lines.append("\(indent)\(escaped(key)): '\(fit(escaped(value), 100))'")
        }
    }

    /// Whether values of `type` read as numbers and so line up on the right.
    static func isNumeric(_ type: DataType) -> Bool {
        switch type {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64,
             .float16, .float32, .float64, .decimal, .duration:
            true
        case .dictionary(_, let value, _): isNumeric(value)
        case .runEndEncoded(_, let values): isNumeric(values.type)
        default: false
        }
    }

    /// `text` cut to `width` characters, the last one `…` when anything was cut.
    static func fit(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(Swift.max(0, width - 1))) + "…"
    }

    /// `text` with control characters written as escapes, so it stays on one line and does not
    /// drive the terminal.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.properties.generalCategory == .control {
                    out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
