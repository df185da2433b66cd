import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import Parquet

/// The staging directory of distributed results: a path every gateway node and every Spark
/// executor sees (a shared file system), holding one directory per query that Spark's
/// executors wrote as Parquet.
///
/// Layout of `<root>/<query id>/`: Spark's `part-*.parquet` files (or hard links to a table's
/// own files, `00000.parquet`, ..., see ``SparkTableFiles``), `.manifest` (JSON: the
/// number of partitions and when the query's tickets expire), and one `.read-<n>` marker per
/// partition read to its end. The node that writes the last marker deletes the directory; a
/// sweep on every node deletes directories whose tickets expired (and, at start-up, those a
/// crash left behind).
final class SparkStaging: Sendable {
    /// The directory, resolved.
    let root: String
    /// How long a directory without a manifest (a write that never finished) is kept.
    static let unfinishedLifetime: TimeInterval = 3600

    init(root path: String) throws(FlightError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FlightError(.unavailable, "cannot create the staging directory \(path): \(error.localizedDescription)")
        }
        guard let real = realpath(path, nil) else {
            throw FlightError(.unavailable, "cannot resolve the staging directory \(path)")
        }
        defer { free(real) }
        root = String(cString: real)
    }

    /// Where query `id` is written.
    func directory(_ id: UUID) -> String { root + "/" + id.uuidString.lowercased() }

    struct Manifest: Codable {
        var partitions: Int
        var expires: Double
    }

    /// The Parquet files Spark wrote for query `id`, in its partition order.
    func files(_ id: UUID) throws(FlightError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory(id))
        } catch {
            throw FlightError(.internal, "Spark wrote no result directory for the query: \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") && $0.hasSuffix(".parquet") }.sorted()
    }

    /// Plans query `id`: its files' row groups grouped into tasks of about `targetBytes`
    /// uncompressed (of `columns` only, when given), in order; the total rows and bytes.
    func plan(_ id: UUID, targetBytes: Int64, columns: [String]? = nil) throws(FlightError) -> (tasks: [StagedTask], rows: Int64, bytes: Int64) {
        let chosen = columns.map(Set.init)
        var slices: [[StagedSlice]] = []
        var current: [StagedSlice] = []
        var currentBytes: Int64 = 0
        var rows: Int64 = 0, bytes: Int64 = 0
        for name in try files(id) {
            let file: ParquetFile
            do {
                file = try ParquetFile(path: directory(id) + "/" + name)
            } catch {
                throw FlightError(.internal, "Spark's result file \(name) cannot be read: \(error.message)")
            }
            var groups: [Int] = []
            for (index, group) in file.metadata.rowGroups.enumerated() where group.numRows > 0 {
                let size = chosen.map { chosen in
                    group.columns.reduce(Int64(0)) { sum, chunk in
                        guard let metadata = chunk.metadata, chosen.contains(metadata.pathInSchema.first ?? "") else { return sum }
                        return sum + metadata.totalUncompressedSize
                    }
                } ?? group.totalByteSize
                if currentBytes > 0, currentBytes + size > targetBytes {
                    if !groups.isEmpty { current.append(StagedSlice(file: name, rowGroups: groups)) }
                    slices.append(current)
                    current = []
                    groups = []
                    currentBytes = 0
                }
                groups.append(index)
                currentBytes += size
                rows += group.numRows
                bytes += size
            }
            if !groups.isEmpty { current.append(StagedSlice(file: name, rowGroups: groups)) }
        }
        if !current.isEmpty { slices.append(current) }
        let count = slices.count
        let tasks = slices.enumerated().map {
            StagedTask(query: id, partition: $0.offset, partitions: count, slices: $0.element, columns: columns)
        }
        return (tasks, rows, bytes)
    }

    /// Records how many partitions query `id` has and when its tickets expire; with no
    /// partitions the directory goes at once.
    func publish(_ id: UUID, partitions: Int, expires: Date) throws(FlightError) {
        guard partitions > 0 else {
            remove(id)
            return
        }
        do {
            let data = try JSONEncoder().encode(Manifest(partitions: partitions, expires: expires.timeIntervalSince1970))
            try data.write(to: URL(fileURLWithPath: directory(id) + "/.manifest"), options: .atomic)
        } catch {
            throw FlightError(.internal, "cannot write the staged result's manifest: \(error.localizedDescription)")
        }
    }

    /// Marks partition `partition` of query `id` read; the last one deletes the directory.
    func markRead(_ id: UUID, partition: Int, of partitions: Int) {
        let path = directory(id)
        _ = FileManager.default.createFile(atPath: path + "/.read-\(partition)", contents: nil)
        let read = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(".read-") }.count
        if read >= partitions { remove(id) }
    }

    func remove(_ id: UUID) {
        try? FileManager.default.removeItem(atPath: directory(id))
    }

    /// Deletes the directories whose tickets expired by `now`, and unfinished ones older than
    /// ``unfinishedLifetime``; returns how many.
    @discardableResult
    func sweep(now: Date = Date()) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var removed = 0
        for name in names {
            guard let id = UUID(uuidString: name) else { continue }
            let path = directory(id)
            if let data = FileManager.default.contents(atPath: path + "/.manifest"),
               let manifest = try? JSONDecoder().decode(Manifest.self, from: data) {
                guard manifest.expires < now.timeIntervalSince1970 else { continue }
            } else {
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? now
                guard now.timeIntervalSince(modified) > Self.unfinishedLifetime else { continue }
            }
            remove(id)
            removed += 1
        }
        return removed
    }
}

/// A file's share of a staged partition.
struct StagedSlice: Sendable, Hashable, Codable {
    var file: String
    var rowGroups: [Int]
}

/// One endpoint of a distributed result: row groups of the files Spark staged for a query.
/// Its payload is JSON.
struct StagedTask: Sendable, Hashable, Codable {
    static let kind = "spark.staged"
    var query: UUID
    var partition: Int
    var partitions: Int
    var slices: [StagedSlice]
    /// The files' top-level columns to read, in the result's order; nil for all of them.
    var columns: [String]?

    var task: PartitionTask {
        get throws(FlightError) {
            do {
                return PartitionTask(kind: Self.kind, payload: Array(try JSONEncoder().encode(self)))
            } catch {
                throw FlightError(.internal, "cannot encode a staged partition: \(error)")
            }
        }
    }

    init(query: UUID, partition: Int, partitions: Int, slices: [StagedSlice], columns: [String]? = nil) {
        self.query = query
        self.partition = partition
        self.partitions = partitions
        self.slices = slices
        self.columns = columns
    }

    init(_ task: PartitionTask) throws(FlightError) {
        guard task.kind == Self.kind, let decoded = try? JSONDecoder().decode(StagedTask.self, from: Data(task.payload)) else {
            throw FlightError(.invalidArgument, "malformed staged Spark partition")
        }
        // File names come from a signed ticket, and are checked all the same.
        guard decoded.slices.allSatisfy({ !$0.file.contains("/") && !$0.file.hasPrefix(".") && !$0.file.contains("\0") }) else {
            throw FlightError(.invalidArgument, "malformed staged Spark partition")
        }
        self = decoded
    }
}

/// Serves staged partitions on any node that sees the staging directory: each slice's row
/// groups in order, so a partition read again gives the same batches (as readers that resume
/// need), each under the schema the planning node promised.
struct SparkStagedRunner: PartitionRunner {
    let staging: SparkStaging

    func run(_ task: PartitionTask, into sink: RecordBatchSink) async throws {
        let work = try StagedTask(task)
        let directory = staging.directory(work.query)
        guard FileManager.default.fileExists(atPath: directory) else {
            throw FlightError(.notFound, "the staged result is gone (every partition was read, or its tickets expired)")
        }
        for slice in work.slices {
            do {
                let reader = try ParquetReader(path: directory + "/" + slice.file)
                for try await batch in reader.batches(SparkTableFiles.readOptions(columns: work.columns, rowGroups: slice.rowGroups)) {
                    try await sink.write(try SparkTypes.conform(batch, to: sink.schema))
                }
            } catch let error as ParquetError {
                throw FlightError(.internal, "the staged file \(slice.file) cannot be read: \(error.message)")
            }
        }
        staging.markRead(work.query, partition: work.partition, of: work.partitions)
    }

    /// A cancelled result's files are deleted at once (reads of them stop with CANCELLED).
    func cancelled(_ task: PartitionTask) async {
        guard let work = try? StagedTask(task) else { return }
        staging.remove(work.query)
    }
}
