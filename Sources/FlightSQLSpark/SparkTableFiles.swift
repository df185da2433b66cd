import ArrowCore
import Foundation
import Parquet

/// A distributed result that needs no Spark job: a query that only scans a Parquet table (its
/// columns, possibly chosen, reordered or renamed, none of them a partition column; no filter,
/// expression or limit) is served from the table's own files, hard-linked into the query's
/// staging directory at planning time.
///
/// The links are the snapshot: a table rewritten or dropped after planning keeps the linked
/// files' data for the readers of this result, and deleting a staged result only removes the
/// links, never the table's files. Anything that does not fit (files outside the local file
/// system or on another one, a Delta or Hudi table, a file whose columns or types differ from
/// the plan's) leaves the directory as it was and the query goes through Spark's write.
enum SparkTableFiles {
    /// What a scan of a table reads: the files' top-level `columns`, in the result's order,
    /// which names them `names`.
    struct Scan: Equatable {
        var columns: [String]
        var names: [String]
    }

    /// The scan when the optimized plan (from `explain` in extended or cost mode) is a Parquet
    /// relation (`Relation catalog.db.table[a#1L,b#2L] parquet`), bare or under a projection of
    /// its columns (`Project [b#2L, a#1L AS x#5L]`); nil for any other plan.
    static func scan(_ explained: String) -> Scan? {
        guard let start = explained.range(of: "== Optimized Logical Plan ==") else { return nil }
        var section = explained[start.upperBound...]
        if let end = section.range(of: "\n== ") { section = section[..<end.lowerBound] }
        let lines = section.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch lines.count {
        case 1:
            guard let relation = relation(lines[0]) else { return nil }
            let names = relation.map(\.name)
            return Scan(columns: names, names: names)
        case 2:
            guard lines[1].hasPrefix("+- "), let relation = relation(String(lines[1].dropFirst(3))),
                  let projected = projection(lines[0]) else { return nil }
            var columns: [String] = [], names: [String] = []
            for (source, name) in projected {
                guard let column = relation.first(where: { $0.id == source }) else { return nil }
                columns.append(column.name)
                names.append(name)
            }
            return Scan(columns: columns, names: names)
        default:
            return nil
        }
    }

    /// `Relation name[attributes] parquet`, with or without its statistics: the attributes.
    private static func relation(_ line: String) -> [(name: String, id: Substring)]? {
        guard line.hasPrefix("Relation "), let close = line.range(of: "] parquet", options: .backwards),
              line[close.upperBound...].isEmpty || line[close.upperBound...].hasPrefix(", Statistics("),
              let open = line[..<close.lowerBound].firstIndex(of: "[") else { return nil }
        var out: [(name: String, id: Substring)] = []
        // A name holding a comma splits into pieces that are no attributes: the plan is not taken.
        for piece in line[line.index(after: open)..<close.lowerBound].split(separator: ",", omittingEmptySubsequences: false) {
            guard let attribute = attribute(piece) else { return nil }
            out.append(attribute)
        }
        return out.isEmpty ? nil : out
    }

    /// `Project [a#1L, b#2 AS c#7]`, with or without its statistics: each output's source
    /// attribute id and name; nil when an output is anything but a column or a renamed column.
    private static func projection(_ line: String) -> [(source: Substring, name: String)]? {
        guard line.hasPrefix("Project ["), let close = line.range(of: "]", options: .backwards) else { return nil }
        let rest = line[close.upperBound...]
        guard rest.isEmpty || rest.hasPrefix(", Statistics(") else { return nil }
        var out: [(source: Substring, name: String)] = []
        for item in line[line.index(line.startIndex, offsetBy: 9)..<close.lowerBound].components(separatedBy: ", ") {
            let parts = item.components(separatedBy: " AS ")
            switch parts.count {
            case 1:
                guard let column = attribute(Substring(parts[0])) else { return nil }
                out.append((column.id, column.name))
            case 2:
                guard let column = attribute(Substring(parts[0])), let alias = attribute(Substring(parts[1])) else { return nil }
                out.append((column.id, alias.name))
            default:
                return nil
            }
        }
        return out.isEmpty ? nil : out
    }

    /// `name#id` with an optional type suffix (`L` for bigint).
    private static func attribute(_ text: Substring) -> (name: String, id: Substring)? {
        guard let hash = text.lastIndex(of: "#") else { return nil }
        let tag = text[text.index(after: hash)...]
        let id = tag.prefix { $0.isASCII && $0.isNumber }
        guard !id.isEmpty, tag.dropFirst(id.count).allSatisfy({ $0.isASCII && $0.isLetter }), hash > text.startIndex else { return nil }
        return (String(text[..<hash]), id)
    }

    /// The local path of a `file:` URI Spark lists, or nil for any other scheme.
    static func localPath(_ uri: String) -> String? {
        guard uri.hasPrefix("file:"), let url = URL(string: uri), url.isFileURL else { return nil }
        let path = url.path
        return path.hasPrefix("/") ? path : nil
    }

    /// Whether files in `directory` belong to a table format whose files are not the table on
    /// their own (a Delta or Hudi log there, or above it when it is a partition directory).
    static func inManagedTable(_ directory: String) -> Bool {
        var directory = directory
        for _ in 0..<16 {
            for marker in ["_delta_log", ".hoodie"] where FileManager.default.fileExists(atPath: directory + "/" + marker) {
                return true
            }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory { break }
            directory = parent
        }
        return false
    }

    /// Links `files` (Spark's URIs) into `directory`, created here, as `00000.parquet`,
    /// `00001.parquet`, ... and checks that each one's `columns` read as `schema` (types that
    /// differ only in labels). False, with `directory` removed, when any step fails.
    static func stage(_ files: [String], into directory: String, columns: [String], as schema: Schema) -> Bool {
        guard !files.isEmpty else { return false }
        var paths: [String] = []
        for uri in files {
            guard let path = localPath(uri) else { return false }
            paths.append(path)
        }
        // Once per directory: a table's files share a few.
        let directories = Set(paths.map { ($0 as NSString).deletingLastPathComponent })
        guard !directories.contains(where: inManagedTable) else { return false }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        } catch {
            return false
        }
        for (index, path) in paths.enumerated() {
            let target = directory + "/" + String(format: "%05d.parquet", index)
            // A hard link: the same file, kept alive by the link whatever happens to the table.
            guard link(path, target) == 0, fits(target, columns, schema) else {
                try? FileManager.default.removeItem(atPath: directory)
                return false
            }
        }
        return true
    }

    /// How staged files are read: INT96 timestamps (Spark's default for tables) as the
    /// instants Spark wrote, in microseconds, Spark's own unit, which hold every date it can.
    static func readOptions(columns: [String]? = nil, rowGroups: [Int]? = nil) -> ParquetReadOptions {
        var options = ParquetReadOptions(columns: columns, rowGroups: rowGroups)
        options.int96Unit = .microsecond
        options.int96TimeZone = "UTC"
        return options
    }

    /// Whether `columns` of the Parquet file at `path` read as `schema`, with nothing Spark
    /// would rebase on read (dates and times that Spark 2 wrote in its legacy hybrid calendar).
    static func fits(_ path: String, _ columns: [String], _ schema: Schema) -> Bool {
        guard let reader = try? ParquetReader(path: path) else { return false }
        let keys = (reader.file.metadata.keyValueMetadata ?? []).map(\.key)
        guard !keys.contains(where: { $0.hasPrefix("org.apache.spark.legacy") }) else { return false }
        guard let fields = try? reader.schema(readOptions(columns: columns)).fields, fields.count == schema.fields.count else { return false }
        return zip(fields, schema.fields).allSatisfy { SparkTypes.fits($0.type, $1.type) }
    }
}
