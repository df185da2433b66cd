import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import Parquet

/// What a client asks for: a file or directory under the root, the columns (nil: all) and
/// conditions every row must meet.
struct DatasetRequest: Sendable, Hashable {
    var path: String
    var columns: [String]?
    var filter: [ParquetPredicate]
    /// The filter as the client wrote it (JSON), carried in tasks.
    var filterJSON: String?

    /// The request a descriptor holds: a path descriptor (its elements joined by `/`) or a
    /// command of JSON `{"path": ..., "columns": [...], "filter": [[col, op, value], ...]}`.
    init(_ descriptor: FlightDescriptor) throws(FlightError) {
        switch descriptor {
        case .path(let elements):
            guard !elements.isEmpty else { throw FlightError(.invalidArgument, "the path descriptor is empty") }
            path = elements.joined(separator: "/")
            columns = nil
            filter = []
            filterJSON = nil
        case .command(let bytes):
            let object: [String: Any]
            do {
                guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    throw FlightError(.invalidArgument, "the command must be a JSON object")
                }
                object = parsed
            } catch let error as FlightError {
                throw error
            } catch {
                throw FlightError(.invalidArgument, "the command is not JSON: \(error.localizedDescription)")
            }
            for key in object.keys where !["path", "columns", "filter"].contains(key) {
                throw FlightError(.invalidArgument, "the command has an unknown key '\(key)' (path, columns and filter are known)")
            }
            guard let path = object["path"] as? String, !path.isEmpty else {
                throw FlightError(.invalidArgument, "the command needs \"path\": a file or directory under the root")
            }
            self.path = path
            if let value = object["columns"], !(value is NSNull) {
                guard let names = value as? [String] else { throw FlightError(.invalidArgument, "\"columns\" must be a list of names") }
                columns = names
            } else {
                columns = nil
            }
            if let value = object["filter"], !(value is NSNull) {
                let json: String
                do {
                    json = String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
                } catch {
                    throw FlightError(.invalidArgument, "\"filter\" must be a list of conditions")
                }
                do {
                    filter = try ParquetPredicate.parse(json: json)
                } catch {
                    throw FlightError(.invalidArgument, "malformed filter: \(error.message)")
                }
                filterJSON = json
            } else {
                filter = []
                filterJSON = nil
            }
        }
    }
}

/// The Parquet files under a root directory, and the checks that keep every path inside it.
struct DatasetRoot: Sendable {
    /// The root, resolved (no symbolic links).
    let root: String

    init(_ path: String) throws(FlightError) {
        guard let resolved = Self.resolve(path) else { throw FlightError(.notFound, "no directory \(path)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FlightError(.notFound, "\(path) is not a directory")
        }
        root = resolved
    }

    private static func resolve(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// The absolute path of `relative`, checked to be under the root. Throws INVALID_ARGUMENT
    /// for a path that leaves it, NOT_FOUND (when `mustExist`) for one that is missing.
    func locate(_ relative: String, mustExist: Bool = true) throws(FlightError) -> String {
        guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains(where: { $0 == ".." }), !relative.contains("\0") else {
            throw FlightError(.invalidArgument, "the path '\(relative)' leaves the served directory")
        }
        let joined = root + "/" + relative
        guard let resolved = Self.resolve(joined) else {
            if mustExist { throw FlightError(.notFound, "no file or directory '\(relative)'") }
            // A new file: its directory must exist and be inside the root.
            let parent = (joined as NSString).deletingLastPathComponent
            guard let directory = Self.resolve(parent), directory == root || directory.hasPrefix(root + "/") else {
                throw FlightError(.notFound, "no directory for '\(relative)'")
            }
            return directory + "/" + (joined as NSString).lastPathComponent
        }
        // A symbolic link may point out of the root.
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw FlightError(.invalidArgument, "the path '\(relative)' leaves the served directory")
        }
        return resolved
    }

    /// `path` relative to the root.
    func relative(_ path: String) -> String {
        path == root ? "." : String(path.dropFirst(root.count + 1))
    }

    /// The Parquet files `absolute` names: itself, or every `.parquet` file under it, sorted.
    func files(_ absolute: String) throws(FlightError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw FlightError(.notFound, "no file or directory '\(relative(absolute))'")
        }
        guard isDirectory.boolValue else { return [absolute] }
        let found = (FileManager.default.enumerator(atPath: absolute)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".parquet") && !$0.split(separator: "/").contains(where: { $0.hasPrefix(".") }) }
            .sorted()
        guard !found.isEmpty else { throw FlightError(.notFound, "no Parquet files under '\(relative(absolute))'") }
        return found.map { absolute + "/" + $0 }
    }

    /// Every dataset to list: each `.parquet` file, and each directory holding any (the root
    /// included), as paths relative to the root.
    func datasets() -> [String] {
        let files = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".parquet") && !$0.split(separator: "/").contains(where: { $0.hasPrefix(".") }) }
            .sorted()
        var directories = Set<String>()
        for file in files {
            var parts = file.split(separator: "/").dropLast()
            while true {
                directories.insert(parts.isEmpty ? "." : parts.joined(separator: "/"))
                if parts.isEmpty { break }
                parts = parts.dropLast()
            }
        }
        return directories.sorted() + files
    }
}

/// A file's share of a partition: its path (relative to the root) and row groups.
struct FileSlice: Sendable, Hashable, Codable {
    var file: String
    var rowGroups: [Int]
}

/// One endpoint's work, as the pull task any node runs: row groups of one or more files,
/// the columns and the filter. Its payload is JSON.
struct ParquetTask: Sendable, Hashable, Codable {
    static let kind = "parquet.row-groups"
    var slices: [FileSlice]
    var columns: [String]?
    var filter: String?

    var task: PartitionTask {
        get throws {
            PartitionTask(kind: Self.kind, payload: Array(try JSONEncoder().encode(self)))
        }
    }

    init(slices: [FileSlice], columns: [String]?, filter: String?) {
        self.slices = slices
        self.columns = columns
        self.filter = filter
    }

    init(_ task: PartitionTask) throws(FlightError) {
        guard task.kind == Self.kind else { throw FlightError(.invalidArgument, "not a Parquet task") }
        do {
            self = try JSONDecoder().decode(ParquetTask.self, from: Data(task.payload))
        } catch {
            throw FlightError(.invalidArgument, "malformed Parquet task")
        }
    }
}

/// A planned read: the schema, the partitions and the totals.
struct DatasetPlan: Sendable {
    var schema: Schema
    var tasks: [ParquetTask]
    var rows: Int64
    var bytes: Int64
    /// Whether `rows` is exact (no filter cuts rows out of the row groups kept).
    var rowsExact: Bool
}

extension DatasetRoot {
    /// Plans `request`: its files' schema (which every file must share), the row groups left
    /// by the filter's statistics, bloom filters and page index, grouped into tasks of about
    /// `targetBytes` uncompressed.
    func plan(_ request: DatasetRequest, targetBytes: Int64) throws(FlightError) -> DatasetPlan {
        let files = try self.files(try locate(request.path))
        let options = ParquetReadOptions(columns: request.columns, filter: request.filter)
        var schema: Schema?
        var tasks: [ParquetTask] = []
        var current: [FileSlice] = []
        var currentBytes: Int64 = 0
        var rows: Int64 = 0, bytes: Int64 = 0
        for file in files {
            let name = relative(file)
            let reader: ParquetReader
            let fileSchema: Schema
            let groups: [Int]
            do {
                reader = try ParquetReader(path: file)
                fileSchema = try reader.schema(options)
                groups = try reader.rowGroups(options)
            } catch {
                throw Self.status(error, file: name)
            }
            if let schema, !Self.sameFields(schema, fileSchema) {
                throw FlightError(.invalidArgument, "'\(name)' has another schema than the dataset's first file")
            }
            if schema == nil { schema = fileSchema }
            let wanted = request.columns.map(Set.init)
            var slice: [Int] = []
            for group in groups {
                let metadata = reader.file.metadata.rowGroups[group]
                let size = metadata.columns.reduce(Int64(0)) { total, column in
                    guard let meta = column.metadata else { return total }
                    if let wanted, let top = meta.pathInSchema.first, !wanted.contains(top) { return total }
                    return total + meta.totalUncompressedSize
                }
                if !current.isEmpty || !slice.isEmpty, currentBytes + size > targetBytes, currentBytes > 0 {
                    if !slice.isEmpty { current.append(FileSlice(file: name, rowGroups: slice)) }
                    tasks.append(ParquetTask(slices: current, columns: request.columns, filter: request.filterJSON))
                    current = []
                    slice = []
                    currentBytes = 0
                }
                slice.append(group)
                currentBytes += size
                rows += metadata.numRows
                bytes += size
            }
            if !slice.isEmpty { current.append(FileSlice(file: name, rowGroups: slice)) }
        }
        if !current.isEmpty { tasks.append(ParquetTask(slices: current, columns: request.columns, filter: request.filterJSON)) }
        return DatasetPlan(schema: schema ?? Schema([]), tasks: tasks, rows: rows, bytes: bytes, rowsExact: request.filter.isEmpty)
    }

    /// Whether two files' schemas agree field by field (names, types, nullability), metadata aside.
    static func sameFields(_ a: Schema, _ b: Schema) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.type == $1.type && $0.nullable == $1.nullable }
    }

    /// A Parquet error as the status a client gets: a request naming columns the file lacks,
    /// or a filter it cannot apply, is INVALID_ARGUMENT; a file that cannot be read, INTERNAL.
    static func status(_ error: any Error, file: String) -> FlightError {
        if let error = error as? FlightError { return error }
        let message = (error as? ParquetError)?.message ?? "\(error)"
        let request = ["no column", "names no column", "the filter", "compares only", "cannot compare", "no row group"]
        if request.contains(where: { message.contains($0) }) { return FlightError(.invalidArgument, "\(file): \(message)") }
        return FlightError(.internal, "\(file) cannot be read: \(message)")
    }
}

/// Runs Parquet tasks: each slice's row groups read with the task's columns and filter, in
/// order, so that every run gives the same batches (as readers that resume need).
struct ParquetRunner: PartitionRunner {
    let root: DatasetRoot

    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws {
        let work = try ParquetTask(task)
        let filter: [ParquetPredicate]
        do {
            filter = try work.filter.map { try ParquetPredicate.parse(json: $0) } ?? []
        } catch {
            throw FlightError(.invalidArgument, "malformed filter in the task: \(error)")
        }
        for slice in work.slices {
            let path = try root.locate(slice.file)
            do {
                let reader = try ParquetReader(path: path)
                for try await batch in reader.batches(ParquetReadOptions(columns: work.columns, rowGroups: slice.rowGroups, filter: filter)) {
                    try await sink.write(try RecordBatch(schema: sink.schema, columns: batch.columns, length: batch.length))
                }
            } catch let error as ParquetError {
                throw DatasetRoot.status(error, file: slice.file)
            }
        }
    }
}
