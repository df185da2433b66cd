import ArrowCore

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

    /// Every column and row group, in batches of up to 65,536 rows.
    public init(columns: [String]? = nil, rowGroups: [Int]? = nil, batchSize: Int = 65_536, dictionaryColumns: Set<String> = []) {
        self.columns = columns
        self.rowGroups = rowGroups
        self.batchSize = batchSize
        self.dictionaryColumns = dictionaryColumns
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
        for column in columns.values {
            column.batch.reset()
            let read = try column.read(rows: rows)
            guard read == rows else {
                throw ParquetError("column \(column.name) of row group \(rowGroups[groupIndex - 1]) holds fewer rows than the row group's \(reader.file.metadata.rowGroups[rowGroups[groupIndex - 1]].numRows)")
            }
        }
        rowsLeft -= Int64(rows)
        let assembler = BatchAssembler(leaves: columns)
        var arrays: [ArrayData] = []
        for node in nodes {
            let array = try assembler.build(node)
            guard array.length == rows else {
                throw ParquetError("field \(node.field.name) has \(array.length) values for \(rows) rows")
            }
            arrays.append(array)
        }
        do {
            return try RecordBatch(schema: schema, columns: arrays, length: rows)
        } catch {
            throw ParquetError("\(error)")
        }
    }
}
