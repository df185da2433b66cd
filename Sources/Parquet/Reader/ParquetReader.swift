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
    /// How many threads decode at once (1: the calling thread alone). `readTable` gives each
    /// thread whole row groups. A batch iterator with more than one thread and several
    /// top-level fields gives each thread a field at a time, read for several batches (about
    /// 16 MiB of Arrow memory in all, at most 16 batches), which are then returned in order.
    public var threads: Int
    /// Whether pages that carry a CRC-32 are checked against it (a mismatch is an error).
    public var verifiesChecksums: Bool = false
    /// Conditions on top-level columns that every row read satisfies. Row groups whose
    /// statistics show that no row can are skipped unread; the rest are filtered row by row.
    public var filter: [ParquetPredicate]
    /// The unit INT96 timestamps are read in (pyarrow's `coerce_int96_timestamp_unit`); nil
    /// keeps the schema's (nanoseconds, or the stored Arrow schema's unit). Microseconds hold
    /// every date of years 1 to 9999, which nanoseconds (1677 to 2262) do not.
    public var int96Unit: TimeUnit?
    /// The time zone INT96 timestamps are labelled with (Spark and Impala write instants in
    /// them, "UTC" says so); nil keeps the schema's (none, as Arrow C++ reads them).
    public var int96TimeZone: String?

    /// Every column and row group, in batches of up to 65,536 rows, on the calling thread.
    public init(columns: [String]? = nil, rowGroups: [Int]? = nil, batchSize: Int = 65_536, dictionaryColumns: Set<String> = [],
                threads: Int = 1, filter: [ParquetPredicate] = []) {
        self.filter = filter
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

    /// The row groups a read with `options` visits: those it chooses (all by default) that its
    /// filter does not rule out by statistics, bloom filters or page index. A planner uses it
    /// to spread the work before any data page is read.
    public func rowGroups(_ options: ParquetReadOptions) throws(ParquetError) -> [Int] {
        let iterator = try ParquetBatchIterator(reader: self, options: options)
        var out: [Int] = []
        for group in iterator.rowGroups {
            let rows = file.metadata.rowGroups[group].numRows
            let ranges = try ParquetBatchIterator.rowRanges(file, group: group, rows: rows, filter: iterator.filter, nodes: iterator.nodes)
            if !ranges.isEmpty { out.append(group) }
        }
        return out
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
    ///
    /// With more than one thread and more than one row group, the threads read whole row
    /// groups, each taking the next when it is done with one (none waits on another within a
    /// row group); the batches keep the file's order.
    public func readTable(_ options: ParquetReadOptions = ParquetReadOptions()) throws(ParquetError) -> Table {
        var iterator = try batchIterator(options)
        // The table holds everything read: the file's pages may as well stay mapped.
        iterator.releasesMappedPages = false
        var batches: [RecordBatch] = []
        let groups = iterator.rowGroups
        if options.threads > 1 && groups.count > 1 {
            let read = ResultSlots<[RecordBatch]>(count: groups.count)
            try ParquetBatchIterator.forEach(groups.count, threads: options.threads) { (i) throws(ParquetError) in
                var one = options
                one.rowGroups = [groups[i]]
                one.threads = 1
                var group = try batchIterator(one)
                group.releasesMappedPages = false
                read.set(i, try group.remainingBatches())
            }
            for i in groups.indices {
                guard let group = read.value(i) else { throw ParquetError("row group \(groups[i]) was not read") }
                batches += group
            }
        } else {
            batches = try iterator.remainingBatches()
        }
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
        if options.int96Unit != nil || options.int96TimeZone != nil {
            nodes = nodes.map { coercingInt96($0, unit: options.int96Unit, zone: options.int96TimeZone) }
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

    /// `node` with its INT96 timestamp leaves read in `unit` and labelled `zone` (each when
    /// given), and the types above them to match.
    private func coercingInt96(_ node: ReadNode, unit: TimeUnit?, zone: String?) -> ReadNode {
        switch node {
        case .leaf(var field, let column, let levels):
            guard file.schema.columns.indices.contains(column), file.schema.columns[column].physicalType == .int96,
                  case .timestamp(let schemaUnit, let schemaZone) = field.type else { return node }
            field.type = .timestamp(unit ?? schemaUnit, timeZone: zone ?? schemaZone)
            return .leaf(field, column: column, levels)
        case .structure(var field, let children, let levels):
            let mapped = children.map { coercingInt96($0, unit: unit, zone: zone) }
            guard case .struct = field.type else { return node }
            field.type = .struct(mapped.map(\.field))
            return .structure(field, mapped, levels)
        case .list(var field, let child, let levels, let elementDefinition, let elementRepetition):
            let mapped = coercingInt96(child, unit: unit, zone: zone)
            switch field.type {
            case .list: field.type = .list(mapped.field)
            case .largeList: field.type = .largeList(mapped.field)
            case .map(_, let sorted): field.type = .map(mapped.field, keysSorted: sorted)
            default: return node
            }
            return .list(field, mapped, levels, elementDefinition: elementDefinition, elementRepetition: elementRepetition)
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
    /// The nodes read: those asked for, then those only the filter needs.
    let nodes: [ReadNode]
    /// How many of `nodes` the batches hold.
    let shown: Int
    /// The filter's conditions, each with the index in `nodes` of its column.
    let filter: [(ParquetPredicate, Int)]
    let rowGroups: [Int]
    let batchSize: Int
    let threads: Int
    let verifiesChecksums: Bool
    /// The schema of the batches.
    public let schema: Schema
    private var groupIndex = 0
    private var rowsLeft: Int64 = 0
    /// The current row group's rows, the next row to read, and the rows that may match the filter.
    private var groupRows: Int64 = 0
    private var position: Int64 = 0
    private var ranges: [Range<Int64>] = []
    /// Whether the mapped pages of a row group are released once it has been read.
    var releasesMappedPages = true
    private(set) var columns: [Int: LeafColumnReader] = [:]
    private let dictionaryColumns: Set<Int>
    /// Batches read ahead (threads > 1), served before more are read.
    private var pending: [([ArrayData], Int)] = []
    private var pendingHead = 0
    /// The Arrow bytes of the last batch read, which sizes the read-ahead.
    private var lastBatchBytes = 0
    /// The error a read-ahead met, thrown once the batches before it are served, and by every
    /// later call.
    private var failure: ParquetError?
    /// With more than one thread, each hand-off to the threads reads batches of about this
    /// many Arrow bytes in all (at most `maximumReadAhead` batches): waking a thread costs about
    /// as much as a batch of plain values takes to copy.
    static let readAheadBytes = 16 << 20
    static let maximumReadAhead = 16

    init(reader: ParquetReader, options: ParquetReadOptions) throws(ParquetError) {
        self.reader = reader
        var nodes = try reader.plan(options)
        shown = nodes.count
        var filter: [(ParquetPredicate, Int)] = []
        for predicate in options.filter {
            guard let node = reader.arrowSchema.nodes.first(where: { $0.field.name == predicate.column }) else {
                throw ParquetError("the filter names no column of the file: \(predicate)")
            }
            guard case .leaf = node else { throw ParquetError("the filter compares only flat columns: \(predicate)") }
            if let index = nodes.firstIndex(where: { $0.field.name == predicate.column }) {
                filter.append((predicate, index))
            } else {
                nodes.append(node)
                filter.append((predicate, nodes.count - 1))
            }
        }
        self.nodes = nodes
        self.filter = filter
        let groups = reader.file.metadata.rowGroups
        if let chosen = options.rowGroups {
            for g in chosen where !groups.indices.contains(g) {
                throw ParquetError("no row group \(g); the file has \(groups.count)")
            }
            rowGroups = chosen.filter { Self.mayMatch(reader.file, group: $0, filter: filter, nodes: nodes) }
        } else {
            rowGroups = groups.indices.filter { Self.mayMatch(reader.file, group: $0, filter: filter, nodes: nodes) }
        }
        guard options.batchSize > 0 else { throw ParquetError("a batch size of \(options.batchSize)") }
        batchSize = options.batchSize
        threads = max(1, options.threads)
        verifiesChecksums = options.verifiesChecksums
        schema = Schema(nodes.prefix(shown).map(\.field), metadata: reader.schema.metadata)
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

    /// The rows of row group `group` that may satisfy `filter`, by the page index of the
    /// filter's columns (all rows where a column has none).
    static func rowRanges(_ file: ParquetFile, group: Int, rows: Int64, filter: [(ParquetPredicate, Int)],
                          nodes: [ReadNode]) throws(ParquetError) -> [Range<Int64>] {
        var ranges: [Range<Int64>] = [0..<rows]
        for (predicate, node) in filter {
            guard case .leaf(_, let column, _) = nodes[node], let offsets = try file.offsetIndex(rowGroup: group, column: column),
                  let index = try file.columnIndex(rowGroup: group, column: column), index.nullPages.count == offsets.pages.count else {
                continue
            }
            let leaf = file.schema.columns[column]
            guard leaf.maxRepetitionLevel == 0 else { continue }
            var matching: [Range<Int64>] = []
            for (k, page) in offsets.pages.enumerated() {
                let end = k + 1 < offsets.pages.count ? offsets.pages[k + 1].firstRowIndex : rows
                guard page.firstRowIndex >= 0, page.firstRowIndex <= end, end <= rows else {
                    throw ParquetError("column \(leaf.path.joined(separator: ".")): the offset index's pages are out of order")
                }
                let count = end - page.firstRowIndex
                let nulls = index.nullPages[k] ? count : index.nullCounts?[k]
                let min = index.nullPages[k] ? nil : FilterValues.statistic(index.minValues[k], column: leaf)
                let max = index.nullPages[k] ? nil : FilterValues.statistic(index.maxValues[k], column: leaf)
                guard predicate.mayMatch(min: min, max: max, nulls: nulls, values: count) else { continue }
                if let last = matching.last, last.upperBound == page.firstRowIndex {
                    matching[matching.count - 1] = last.lowerBound..<end
                } else {
                    matching.append(page.firstRowIndex..<end)
                }
            }
            ranges = intersect(ranges, matching)
        }
        return ranges.filter { !$0.isEmpty }
    }

    private static func intersect(_ a: [Range<Int64>], _ b: [Range<Int64>]) -> [Range<Int64>] {
        var out: [Range<Int64>] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let low = Swift.max(a[i].lowerBound, b[j].lowerBound), high = Swift.min(a[i].upperBound, b[j].upperBound)
            if low < high { out.append(low..<high) }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return out
    }

    /// Whether row group `group` may hold rows that satisfy `filter`, by its statistics.
    static func mayMatch(_ file: ParquetFile, group: Int, filter: [(ParquetPredicate, Int)], nodes: [ReadNode]) -> Bool {
        for (predicate, node) in filter {
            guard case .leaf(_, let column, _) = nodes[node], let meta = file.metadata.rowGroups[group].columns[column].metadata else {
                continue
            }
            let leaf = file.schema.columns[column]
            let statistics = meta.statistics
            // The deprecated min and max compare signed: only numbers may use them.
            let legacy = [.boolean, .int32, .int64, .float, .double].contains(leaf.physicalType)
                && { if case .integer(_, false) = leaf.element.effectiveLogicalType { return false } else { return true } }()
            let min = FilterValues.statistic(statistics?.minValue ?? (legacy ? statistics?.min : nil), column: leaf)
            let max = FilterValues.statistic(statistics?.maxValue ?? (legacy ? statistics?.max : nil), column: leaf)
            if !predicate.mayMatch(min: min, max: max, nulls: statistics?.nullCount, values: meta.numValues) { return false }
            // Equality against a bloom filter: a value it has never seen is not in the chunk.
            let wanted: [ParquetValue]
            switch predicate {
            case .equal(_, let v): wanted = [v]
            case .isIn(_, let vs): wanted = vs
            default: wanted = []
            }
            if !wanted.isEmpty, let bloom = try? file.bloomFilter(rowGroup: group, column: column) {
                let encoded = wanted.map { FilterValues.plain($0, column: leaf) }
                if !encoded.contains(where: { $0.map(bloom.mayContain) ?? true }) { return false }
            }
        }
        return true
    }

    /// Every batch not read yet.
    mutating func remainingBatches() throws(ParquetError) -> [RecordBatch] {
        var batches: [RecordBatch] = []
        while let batch = try nextBatch() { batches.append(batch) }
        return batches
    }

    /// The next batch, or nil after the last.
    public mutating func nextBatch() throws(ParquetError) -> RecordBatch? {
        while true {
            guard let (arrays, rows) = try readArrays() else { return nil }
            guard !filter.isEmpty else { return try Self.batch(schema, arrays, rows) }
            // The rows every condition holds for, as runs of consecutive rows.
            var runs: [Range<Int>] = []
            var start: Int?
            for row in 0..<rows {
                let keep = filter.allSatisfy { predicate, node in predicate.matches(FilterValues.value(arrays[node], row)) }
                if keep, start == nil { start = row }
                if !keep, let first = start {
                    runs.append(first..<row)
                    start = nil
                }
            }
            if let first = start { runs.append(first..<rows) }
            let kept = runs.reduce(0) { $0 + $1.count }
            if kept == 0 { continue }
            let shown = Array(arrays.prefix(self.shown))
            if kept == rows { return try Self.batch(schema, shown, rows) }
            var columns: [ArrayData] = []
            do {
                for array in shown {
                    let pieces = try runs.map { run throws(ArrowError) in try array.slice(run.lowerBound, run.count) }
                    columns.append(pieces.count == 1 ? pieces[0] : try ArrayData.concatenate(pieces))
                }
            } catch {
                throw ParquetError("\(error)")
            }
            return try Self.batch(schema, columns, kept)
        }
    }

    private static func batch(_ schema: Schema, _ arrays: [ArrayData], _ rows: Int) throws(ParquetError) -> RecordBatch {
        do {
            return try RecordBatch(schema: schema, columns: Array(arrays.prefix(schema.fields.count)), length: rows)
        } catch {
            throw ParquetError("\(error)")
        }
    }

    /// The arrays of the next run of rows, every node read, or nil after the last.
    private mutating func readArrays() throws(ParquetError) -> ([ArrayData], Int)? {
        if pendingHead < pending.count {
            defer { pendingHead += 1 }
            return pending[pendingHead]
        }
        if let failure { throw failure }
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
        while true {
            if groupIndex == 0 || position >= groupRows {
                if groupIndex > 0 && releasesMappedPages { releasePages(of: rowGroups[groupIndex - 1]) }
                guard groupIndex < rowGroups.count else { return nil }
                let group = rowGroups[groupIndex]
                groupIndex += 1
                groupRows = reader.file.metadata.rowGroups[group].numRows
                position = 0
                columns = [:]
                guard groupRows > 0 else { continue }
                ranges = try Self.rowRanges(reader.file, group: group, rows: groupRows, filter: filter, nodes: nodes)
                guard !ranges.isEmpty else {
                    position = groupRows
                    continue
                }
                for column in nodes.flatMap(\.columns) {
                    let leaf = try LeafColumnReader(file: reader.file, rowGroup: group, column: column,
                                                    keepsDictionary: dictionaryColumns.contains(column),
                                                    verifiesChecksums: verifiesChecksums)
                    if ranges != [0..<groupRows] { leaf.offsetIndex = try reader.file.offsetIndex(rowGroup: group, column: column) }
                    columns[column] = leaf
                }
            }
            guard let range = ranges.first(where: { $0.upperBound > position }) else {
                position = groupRows
                continue
            }
            if range.lowerBound > position {
                // Rows no page of the filter's columns can match: passed over.
                let skipped = Int(range.lowerBound - position)
                let readers = Array(columns.values)
                try Self.forEach(readers.count, threads: threads) { (i) throws(ParquetError) in try readers[i].skip(rows: skipped) }
                position = range.lowerBound
            }
            rowsLeft = range.upperBound - position
            break
        }
        let group = rowGroups[groupIndex - 1]
        let expected = reader.file.metadata.rowGroups[group].numRows
        let readers = Array(columns.values)
        let read = { (column: LeafColumnReader, rows: Int) throws(ParquetError) in
            column.batch.reset()
            let read = try column.read(rows: rows)
            guard read == rows else {
                throw ParquetError("column \(column.name) of row group \(group) holds fewer rows than the row group's \(expected)")
            }
        }
        let assembler = BatchAssembler(leaves: columns)
        let nodes = self.nodes
        let build = { (i: Int, rows: Int) throws(ParquetError) -> ArrayData in
            let array = try assembler.build(nodes[i])
            guard array.length == rows else {
                throw ParquetError("field \(nodes[i].field.name) has \(array.length) values for \(rows) rows")
            }
            return array
        }
        // The batches of this hand-off: one, or with more than one thread and a field per
        // thread, as many as make about `readAheadBytes`, within the run of rows.
        var counts = [Int(min(Int64(batchSize), rowsLeft))]
        let byField = threads > 1 && nodes.count > 1 && nodes.count >= min(threads, readers.count)
        if byField && lastBatchBytes > 0 {
            let ahead = max(1, min(Self.maximumReadAhead, Self.readAheadBytes / lastBatchBytes))
            var total = Int64(counts[0])
            while counts.count < ahead && total < rowsLeft {
                let rows = Int(min(Int64(batchSize), rowsLeft - total))
                counts.append(rows)
                total += Int64(rows)
            }
        }
        let built = ResultSlots<ArrayData>(count: nodes.count * counts.count)
        if byField {
            // Each thread reads a field's columns and builds the field, batch after batch: one
            // hand-off for all the batches rather than two for each. A field that fails at a
            // batch stops there; the batches before the first failure are served, then its error.
            let columns = self.columns
            let failures = ResultSlots<ParquetError>(count: counts.count)
            try Self.forEach(nodes.count, threads: threads) { (i) throws(ParquetError) in
                for (j, rows) in counts.enumerated() {
                    do throws(ParquetError) {
                        for column in nodes[i].columns {
                            guard let reader = columns[column] else { throw ParquetError("column \(column) was not read") }
                            try read(reader, rows)
                        }
                        built.set(j * nodes.count + i, try build(i, rows))
                    } catch {
                        failures.set(j, error)
                        return
                    }
                }
            }
            if let first = (0..<counts.count).first(where: { failures.value($0) != nil }) {
                let error = failures.value(first) ?? ParquetError("a batch was not built")
                failure = error
                guard first > 0 else { throw error }
                counts.removeLast(counts.count - first)
            }
        } else {
            let rows = counts[0]
            try Self.forEach(readers.count, threads: threads) { (i) throws(ParquetError) in try read(readers[i], rows) }
            try Self.forEach(nodes.count, threads: threads) { (i) throws(ParquetError) in built.set(i, try build(i, rows)) }
        }
        position += Int64(counts.reduce(0, +))
        for (j, rows) in counts.enumerated() {
            var arrays: [ArrayData] = []
            for i in nodes.indices {
                guard let array = built.value(j * nodes.count + i) else { throw ParquetError("field \(nodes[i].field.name) was not built") }
                arrays.append(array)
            }
            pending.append((arrays, rows))
        }
        lastBatchBytes = max(1, pending[0].0.reduce(0) { $0 + $1.bufferBytes })
        pendingHead = 1
        return pending[0]
    }
}

extension ParquetBatchIterator {
    /// Lets the system drop the mapped pages of the columns read from row group `group`: what
    /// the batches hold was copied out of them.
    private func releasePages(of group: Int) {
        let chunks = reader.file.metadata.rowGroups[group].columns
        for column in columns.keys {
            guard let meta = chunks[column].metadata else { continue }
            var start = meta.dataPageOffset
            if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
            reader.file.bytes.releaseMappedPages(offset: Int(start), count: Int(meta.totalCompressedSize))
        }
    }

    /// Runs `body` for `0..<count`, on up to `threads` threads, each taking the next index
    /// when it is done with one (columns differ in cost); the first error is thrown. Each index
    /// touches its own column readers alone.
    static func forEach(_ count: Int, threads: Int, _ body: (Int) throws(ParquetError) -> Void) throws(ParquetError) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { try body(i) }
            return
        }
        let failure = ResultSlots<ParquetError>(count: 1)
        let next = NextIndex()
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(count, threads)) { _ in
                while case let i = next.take(), i < count {
                    do throws(ParquetError) {
                        try shared.value(i)
                    } catch {
                        failure.set(0, error)
                    }
                }
            }
        }
        if let error = failure.value(0) { throw error }
    }
}

/// A value handed to worker threads that use it one index each (see ``ParquetBatchIterator/forEach(_:threads:_:)``).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Hands out 0, 1, 2, ... to worker threads.
final class NextIndex: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
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

    func value(_ i: Int) -> T? {
        lock.lock()
        defer { lock.unlock() }
        return slots[i]
    }
}
