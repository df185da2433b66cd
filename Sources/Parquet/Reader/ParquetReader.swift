import ArrowCore
import Dispatch
import Foundation

/// What to read of a Parquet file, and in what pieces.
public struct ParquetReadOptions: Sendable, Hashable {
    /// The top-level fields to read, by name, in the order given; nil reads every field.
    public var columns: [String]?
    /// The row groups to read, in the order given; nil reads every row group.
    public var rowGroups: [Int]?
    /// The most rows in one batch. A batch never spans row groups.
    public var batchSize: Int
    /// Top-level byte-array fields to read as Arrow dictionaries (their dictionary pages kept
    /// as the dictionary, without decoding every value), besides those the stored Arrow
    /// schema says were dictionaries.
    public var dictionaryColumns: Set<String>
    /// How many threads decode a batch's columns at once (1: the calling thread alone).
    public var threads: Int

    /// Every column and row group, in batches of up to 65,536 rows, on the calling thread.
    public init(columns: [String]? = nil, rowGroups: [Int]? = nil, batchSize: Int = 65_536, dictionaryColumns: Set<String> = [],
                threads: Int = 1) {
        self.columns = columns
        self.rowGroups = rowGroups
        self.batchSize = batchSize
        self.dictionaryColumns = dictionaryColumns
        self.threads = threads
    }
}

/// Reads a Parquet file into Arrow record batches.
///
/// ```swift
/// let reader = try ParquetReader(path: "data.parquet")
/// for try await batch in reader.batches(ParquetReadOptions(columns: ["id", "name"])) {
///     print(batch.length)
/// }
/// ```
///
/// The file is memory-mapped. Only the chosen columns' chunks are touched, a page at a time:
/// memory holds one decompressed page per column and the batch being built.
public struct ParquetReader: Sendable {
    /// The file, its footer decoded.
    public let file: ParquetFile
    /// The file's schema as Arrow sees it.
    public let arrowSchema: ParquetArrowSchema

    /// Opens the file at `path`.
    public init(path: String) throws(ParquetError) {
        try self.init(file: ParquetFile(path: path))
    }

    /// Reads `file`.
    public init(file: ParquetFile) throws(ParquetError) {
        self.file = file
        arrowSchema = try ParquetArrowSchema(file.schema, keyValueMetadata: file.metadata.keyValueMetadata)
    }

    /// The Arrow schema of the whole file.
    public var schema: Schema { arrowSchema.schema }

    /// The schema of what `options` reads.
    public func schema(_ options: ParquetReadOptions) throws(ParquetError) -> Schema {
        let nodes = try plan(options)
        return Schema(nodes.map(\.field), metadata: arrowSchema.schema.metadata)
    }

    /// The batches `options` reads, one after another.
    public func batches(_ options: ParquetReadOptions = ParquetReadOptions()) -> ParquetBatches {
        ParquetBatches(reader: self, options: options)
    }

    /// The batches `options` reads, as a synchronous iterator.
    public func batchIterator(_ options: ParquetReadOptions = ParquetReadOptions()) throws(ParquetError) -> ParquetBatchIterator {
        try ParquetBatchIterator(reader: self, options: options)
    }

    /// Everything `options` reads, as a table.
    public func readTable(_ options: ParquetReadOptions = ParquetReadOptions()) throws(ParquetError) -> Table {
        var iterator = try batchIterator(options)
        var batches: [RecordBatch] = []
        while let batch = try iterator.nextBatch() { batches.append(batch) }
        do {
            return try Table(schema: iterator.schema, batches: batches)
        } catch {
            throw ParquetError("\(error)")
        }
    }

    /// The top-level nodes `options` reads, with dictionary columns applied.
    func plan(_ options: ParquetReadOptions) throws(ParquetError) -> [ReadNode] {
        var nodes: [ReadNode] = []
        if let columns = options.columns {
            guard Set(columns).count == columns.count else { throw ParquetError("a column is named twice in \(columns)") }
            for name in columns {
                guard let node = arrowSchema.nodes.first(where: { $0.field.name == name }) else {
                    throw ParquetError("no column '\(name)'; the file has \(arrowSchema.nodes.map(\.field.name).joined(separator: ", "))")
                }
                nodes.append(node)
            }
        } else {
            nodes = arrowSchema.nodes
        }
        return nodes.map { node in
            guard options.dictionaryColumns.contains(node.field.name), case .leaf(var field, let column, let levels) = node else {
                return node
            }
            switch field.type {
            case .utf8, .binary, .largeUtf8, .largeBinary:
                field.type = .dictionary(index: .int32, value: field.type, ordered: false)
            default: break
            }
            return .leaf(field, column: column, levels)
        }
    }
}

/// The record batches of a Parquet file, read as they are asked for.
public struct ParquetBatches: AsyncSequence, Sendable {
    public typealias Element = RecordBatch
    public typealias Failure = ParquetError

    let reader: ParquetReader
    let options: ParquetReadOptions

    public struct AsyncIterator: AsyncIteratorProtocol {
        var state: Result<ParquetBatchIterator, ParquetError>

        public mutating func next() async throws(ParquetError) -> RecordBatch? { try advance() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ParquetError) -> RecordBatch? {
            try advance()
        }

        private mutating func advance() throws(ParquetError) -> RecordBatch? {
            switch state {
            case .failure(let error):
                throw error
            case .success(var iterator):
                defer { state = .success(iterator) }
                return try iterator.nextBatch()
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        do throws(ParquetError) {
            return AsyncIterator(state: .success(try ParquetBatchIterator(reader: reader, options: options)))
        } catch {
            return AsyncIterator(state: .failure(error))
        }
    }
}

/// Reads a file's record batches one at a time: row group by row group, each column a page at a time.
public struct ParquetBatchIterator {
    let reader: ParquetReader
    let nodes: [ReadNode]
    let rowGroups: [Int]
    let batchSize: Int
    let threads: Int
    /// The schema of the batches.
    public let schema: Schema
    private var groupIndex = 0
    private var rowsLeft: Int64 = 0
    private var columns: [Int: LeafColumnReader] = [:]
    private let dictionaryColumns: Set<Int>

    init(reader: ParquetReader, options: ParquetReadOptions) throws(ParquetError) {
        self.reader = reader
        nodes = try reader.plan(options)
        let groups = reader.file.metadata.rowGroups
        if let chosen = options.rowGroups {
            for g in chosen where !groups.indices.contains(g) {
                throw ParquetError("no row group \(g); the file has \(groups.count)")
            }
            rowGroups = chosen
        } else {
            rowGroups = Array(groups.indices)
        }
        guard options.batchSize > 0 else { throw ParquetError("a batch size of \(options.batchSize)") }
        batchSize = options.batchSize
        threads = max(1, options.threads)
        schema = Schema(nodes.map(\.field), metadata: reader.schema.metadata)
        var dictionaries = Set<Int>()
        func visit(_ node: ReadNode) {
            switch node {
            case .leaf(let field, let column, _): if case .dictionary = field.type { dictionaries.insert(column) }
            case .structure(_, let children, _): children.forEach(visit)
            case .list(_, let element, _, _, _): visit(element)
            }
        }
        nodes.forEach(visit)
        dictionaryColumns = dictionaries
    }

    /// The next batch, or nil after the last.
    public mutating func nextBatch() throws(ParquetError) -> RecordBatch? {
        while rowsLeft == 0 {
            guard groupIndex < rowGroups.count else { return nil }
            let group = rowGroups[groupIndex]
            groupIndex += 1
            rowsLeft = reader.file.metadata.rowGroups[group].numRows
            columns = [:]
            guard rowsLeft > 0 else { continue }
            for column in nodes.flatMap(\.columns) {
                columns[column] = try LeafColumnReader(file: reader.file, rowGroup: group, column: column,
                                                       keepsDictionary: dictionaryColumns.contains(column))
            }
        }
        let rows = Int(min(Int64(batchSize), rowsLeft))
        let group = rowGroups[groupIndex - 1]
        let expected = reader.file.metadata.rowGroups[group].numRows
        let readers = Array(columns.values)
        try Self.forEach(readers.count, threads: threads) { (i) throws(ParquetError) in
            let column = readers[i]
            column.batch.reset()
            let read = try column.read(rows: rows)
            guard read == rows else {
                throw ParquetError("column \(column.name) of row group \(group) holds fewer rows than the row group's \(expected)")
            }
        }
        rowsLeft -= Int64(rows)
        let assembler = BatchAssembler(leaves: columns)
        let built = ResultSlots<ArrayData>(count: nodes.count)
        let nodes = self.nodes
        try Self.forEach(nodes.count, threads: threads) { (i) throws(ParquetError) in
            let array = try assembler.build(nodes[i])
            guard array.length == rows else {
                throw ParquetError("field \(nodes[i].field.name) has \(array.length) values for \(rows) rows")
            }
            built.set(i, array)
        }
        let arrays = built.values
        do {
            return try RecordBatch(schema: schema, columns: arrays, length: rows)
        } catch {
            throw ParquetError("\(error)")
        }
    }
}

extension ParquetBatchIterator {
    /// Runs `body` for `0..<count`, on up to `threads` threads; the first error is thrown.
    /// Each index touches its own column readers alone.
    static func forEach(_ count: Int, threads: Int, _ body: (Int) throws(ParquetError) -> Void) throws(ParquetError) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { try body(i) }
            return
        }
        let failure = ResultSlots<ParquetError>(count: 1)
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(count, threads)) { worker in
                var i = worker
                while i < count {
                    do throws(ParquetError) {
                        try shared.value(i)
                    } catch {
                        failure.set(0, error)
                    }
                    i += min(count, threads)
                }
            }
        }
        if let error = failure.values.first { throw error }
    }
}

/// A value handed to worker threads that use it one index each (see ``ParquetBatchIterator/forEach(_:threads:_:)``).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Results written by worker threads, one slot each.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: T) {
        lock.lock()
        defer { lock.unlock() }
        if slots[i] == nil { slots[i] = value }
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
