import ArrowCore
import Foundation
import Parquet

/// A distributed result that needs no Spark job: a query that only scans a Parquet table (all
/// of its columns, in order: no filter, projection, limit or partition columns) is served from
/// the table's own files, hard-linked into the query's staging directory at planning time.
///
/// The links are the snapshot: a table rewritten or dropped after planning keeps the linked
/// files' data for the readers of this result, and deleting a staged result only removes the
/// links, never the table's files. Anything that does not fit (files outside the local file
/// system or on another one, a Delta or Hudi table, a file whose columns or types differ from
/// the plan's) leaves the directory as it was and the query goes through Spark's write.
enum SparkTableFiles {
    /// The column names of the optimized plan when it is a bare scan of a Parquet relation
    /// (`Relation catalog.db.table[a#1L,b#2L] parquet`), from `explain` in extended or cost
    /// mode; nil for any other plan.
    static func scannedColumns(_ explained: String) -> [String]? {
        guard let start = explained.range(of: "== Optimized Logical Plan ==") else { return nil }
        var section = explained[start.upperBound...]
        if let end = section.range(of: "\n== ") { section = section[..<end.lowerBound] }
        let lines = section.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard lines.count == 1, let line = lines.first, line.hasPrefix("Relation ") else { return nil }
        // The relation's output ends at "] parquet", followed by nothing or its statistics.
        guard let close = line.range(of: "] parquet", options: .backwards),
              line[close.upperBound...].isEmpty || line[close.upperBound...].hasPrefix(", Statistics("),
              let open = line[..<close.lowerBound].firstIndex(of: "[") else { return nil }
        var names: [String] = []
        for attribute in line[line.index(after: open)..<close.lowerBound].split(separator: ",", omittingEmptySubsequences: false) {
            // `name#id` with an optional type suffix (`L` for bigint); a name holding a comma
            // splits into pieces without an id, and the plan is not taken.
            guard let hash = attribute.lastIndex(of: "#") else { return nil }
            let id = attribute[attribute.index(after: hash)...]
            guard !id.isEmpty, id.allSatisfy({ $0.isNumber || $0.isLetter }), id.first?.isNumber == true else { return nil }
            names.append(String(attribute[..<hash]))
        }
        return names.isEmpty ? nil : names
    }

    /// The local path of a `file:` URI Spark lists, or nil for any other scheme.
    static func localPath(_ uri: String) -> String? {
        guard uri.hasPrefix("file:"), let url = URL(string: uri), url.isFileURL else { return nil }
        let path = url.path
        return path.hasPrefix("/") ? path : nil
    }

    /// Whether `path` sits in a table format whose files are not the table on their own (a
    /// Delta or Hudi log next to them, or above them in a partition directory).
    static func inManagedTable(_ path: String) -> Bool {
        var directory = (path as NSString).deletingLastPathComponent
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
    /// `00001.parquet`, ... and checks that each reads as `schema` (the same column names in
    /// order, types that differ only in labels). False, with `directory` removed, when any
    /// step fails.
    static func stage(_ files: [String], into directory: String, as schema: Schema) -> Bool {
        guard !files.isEmpty else { return false }
        var paths: [String] = []
        for uri in files {
            guard let path = localPath(uri), !inManagedTable(path) else { return false }
            paths.append(path)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        } catch {
            return false
        }
        for (index, path) in paths.enumerated() {
            let target = directory + "/" + String(format: "%05d.parquet", index)
            // A hard link: the same file, kept alive by the link whatever happens to the table.
            guard link(path, target) == 0, fits(target, schema) else {
                try? FileManager.default.removeItem(atPath: directory)
                return false
            }
        }
        return true
    }

    /// How staged files are read: INT96 timestamps (Spark's default for tables) as the
    /// instants Spark wrote, in microseconds, Spark's own unit, which hold every date it can.
    static func readOptions(rowGroups: [Int]? = nil) -> ParquetReadOptions {
        var options = ParquetReadOptions(rowGroups: rowGroups)
        options.int96Unit = .microsecond
        options.int96TimeZone = "UTC"
        return options
    }

    /// Whether the Parquet file at `path` reads as `schema`, with nothing Spark would rebase on
    /// read (dates and times that Spark 2 wrote in its legacy hybrid calendar).
    static func fits(_ path: String, _ schema: Schema) -> Bool {
        guard let reader = try? ParquetReader(path: path) else { return false }
        let keys = (reader.file.metadata.keyValueMetadata ?? []).map(\.key)
        guard !keys.contains(where: { $0.hasPrefix("org.apache.spark.legacy") }) else { return false }
        guard let fields = try? reader.schema(readOptions()).fields else { return false }
        guard fields.count == schema.fields.count else { return false }
        return zip(fields, schema.fields).allSatisfy { $0.name == $1.name && SparkTypes.fits($0.type, $1.type) }
    }
}
