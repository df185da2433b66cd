import ArrowCore
import Foundation

/// How a Parquet file is written.
public struct ParquetWriteOptions: Sendable, Hashable {
    /// The codec of every column: uncompressed, snappy, gzip, zstd, lz4Raw or brotli.
    public var compression: ParquetCompression
    /// The codec's level (gzip 0-9, zstd, brotli 0-11); nil for its default.
    public var compressionLevel: Int?
    /// Data page version 1 or 2.
    public var dataPageVersion: Int
    /// Whether columns are dictionary-encoded (falling back to PLAIN when the dictionary passes
    /// `dictionaryPageSizeLimit`).
    public var dictionary: Bool
    public var dictionaryPageSizeLimit: Int
    /// The encoded size a data page is cut at.
    public var dataPageSize: Int
    /// The most rows in a data page.
    public var maxRowsPerPage: Int
    /// The most rows in a row group.
    public var rowGroupRows: Int
    /// Whether column chunks carry min, max and null count.
    public var statistics: Bool
    /// Whether the Arrow schema is stored (`ARROW:schema`), so that Arrow readers get the same types back.
    public var storeSchema: Bool
    /// Whether each column chunk's page index (each data page's location, first row, min, max
    /// and nulls) is written, so that readers can skip pages a filter excludes.
    public var pageIndex: Bool
    /// Top-level fields whose leaves get a bloom filter in every row group (for equality filters).
    public var bloomFilterColumns: Set<String>

    /// Snappy, data pages v1, dictionaries of up to 1 MiB, pages of 1 MiB and 20,000 rows,
    /// row groups of 1,048,576 rows, statistics, and the stored Arrow schema (Arrow C++'s
    /// defaults), and the page index (which Arrow C++ writes only when asked).
    public init(compression: ParquetCompression = .snappy, compressionLevel: Int? = nil, dataPageVersion: Int = 1,
                dictionary: Bool = true, dictionaryPageSizeLimit: Int = 1 << 20, dataPageSize: Int = 1 << 20,
                maxRowsPerPage: Int = 20_000, rowGroupRows: Int = 1 << 20, statistics: Bool = true, storeSchema: Bool = true,
                pageIndex: Bool = true, bloomFilterColumns: Set<String> = []) {
        self.pageIndex = pageIndex
        self.bloomFilterColumns = bloomFilterColumns
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.dataPageVersion = dataPageVersion
        self.dictionary = dictionary
        self.dictionaryPageSizeLimit = dictionaryPageSizeLimit
        self.dataPageSize = dataPageSize
        self.maxRowsPerPage = maxRowsPerPage
        self.rowGroupRows = rowGroupRows
        self.statistics = statistics
        self.storeSchema = storeSchema
    }
}

/// Where a writer's bytes go, in order.
public protocol ParquetOutput: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(ParquetError)
}

/// Bytes written to a file, which the output creates (or truncates) and closes on `close()` or deinit.
public final class ParquetFileOutput: ParquetOutput {
    private var descriptor: Int32

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(ParquetError) {
        descriptor = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ParquetError("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ParquetError) {
        var offset = 0
        while offset < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let written = Foundation.write(descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ParquetError("write failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Closes the file.
    public func close() {
        if descriptor >= 0 { _ = Foundation.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }
}

/// Bytes kept in memory. They grow with `realloc`, which moves large blocks by remapping
/// their pages rather than copying them.
public final class ParquetMemoryOutput: ParquetOutput {
    private var storage: UnsafeMutableRawPointer?
    /// The size of `storage`'s block, as ArrowCore's block cache gave it.
    private var capacity = 0
    /// How many bytes were written.
    public private(set) var count = 0

    public init() {}

    deinit {
        if let storage { BlockCache.shared.deallocate(storage, size: capacity) }
    }

    /// What was written, copied out.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// `body` on the bytes written, without a copy; they are valid only inside it.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ParquetError) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity {
            // Blocks come from ArrowCore's cache, as Arrow buffers do: a file written after
            // another reuses the memory the last one freed instead of faulting in fresh pages.
            let (grown, size) = BlockCache.shared.allocate(Swift.max(count + bytes.count, capacity * 2, 4096))
            if let storage {
                grown.copyMemory(from: storage, byteCount: count)
                BlockCache.shared.deallocate(storage, size: capacity)
            }
            storage = grown
            capacity = size
        }
        guard let storage else { return }
        (storage + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}

/// Writes Arrow record batches as a Parquet file, a row group at a time: batches are encoded
/// into pages as they arrive, so memory holds one row group's encoded pages, not its batches.
///
/// ```swift
/// let writer = try ParquetWriter(path: "out.parquet", schema: schema, options: ParquetWriteOptions(compression: .zstd))
/// for batch in batches { try writer.write(batch) }
/// try writer.finish()
/// ```
///
/// A writer belongs to one task at a time.
public final class ParquetWriter {
    private let output: any ParquetOutput
    private let schema: Schema
    private let options: ParquetWriteOptions
    private let layout: WriterSchema
    private var chunks: [ColumnChunkWriter] = []
    /// Each leaf's share of the batch being added, kept from batch to batch.
    private let shredded: [ShreddedLeaf]
    private var rowsInGroup = 0
    private var position: Int64 = 0
    private var rowGroups: [ParquetRowGroup] = []
    private var totalRows: Int64 = 0
    private var finished = false
    /// The page indexes of the chunks written (row group, column, column index, offset index),
    /// written after the last row group.
    private var indexes: [(group: Int, column: Int, columnIndex: [UInt8]?, offsetIndex: [UInt8])] = []
    /// The bloom filters of the chunks written, written after the last row group.
    private var blooms: [(group: Int, column: Int, filter: ParquetBloomFilter)] = []
    private let fileOutput: ParquetFileOutput?

    /// Writes to a new file at `path`.
    public convenience init(path: String, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions()) throws(ParquetError) {
        let file = try ParquetFileOutput(path: path)
        try self.init(output: file, schema: schema, options: options, file: file)
    }

    /// Writes to `output`.
    public convenience init(output: any ParquetOutput, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions()) throws(ParquetError) {
        try self.init(output: output, schema: schema, options: options, file: nil)
    }

    private init(output: any ParquetOutput, schema: Schema, options: ParquetWriteOptions, file: ParquetFileOutput?) throws(ParquetError) {
        guard [1, 2].contains(options.dataPageVersion) else { throw ParquetError("data page version \(options.dataPageVersion) (1 or 2)") }
        guard options.rowGroupRows > 0, options.dataPageSize > 0, options.maxRowsPerPage > 0 else {
            throw ParquetError("row group rows, page size and rows per page must be positive")
        }
        guard [.uncompressed, .snappy, .gzip, .zstd, .lz4Raw, .brotli].contains(options.compression) else {
            throw ParquetError("the writer does not compress with \(options.compression)")
        }
        self.output = output
        self.schema = schema
        self.options = options
        self.fileOutput = file
        layout = try WriterSchema(schema)
        shredded = layout.leaves.map { ShreddedLeaf($0) }
        try emit(ParquetFile.magic)
        startRowGroup()
    }

    private var chunkOptions: ChunkOptions {
        ChunkOptions(codec: options.compression, compressionLevel: options.compressionLevel, dataPageVersion: options.dataPageVersion,
                     dictionary: options.dictionary, dictionaryPageSizeLimit: options.dictionaryPageSizeLimit,
                     dataPageSize: options.dataPageSize, maxRowsPerPage: options.maxRowsPerPage, statistics: options.statistics,
                     pageIndex: options.pageIndex, bloomFilter: false)
    }

    private func startRowGroup() {
        let chunkOptions = chunkOptions
        let previous = chunks
        chunks = layout.leaves.enumerated().map { i, leaf in
            var options = chunkOptions
            options.bloomFilter = self.options.bloomFilterColumns.contains(leaf.path[0])
            return ColumnChunkWriter(leaf: leaf, options: options, reusing: i < previous.count ? previous[i] : nil)
        }
        rowsInGroup = 0
    }

    private func emit(_ bytes: [UInt8]) throws(ParquetError) {
        try withRawBytes(bytes) { (raw) throws(ParquetError) in try emit(raw) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws(ParquetError) {
        guard !bytes.isEmpty else { return }
        try output.write(bytes)
        position += Int64(bytes.count)
    }

    /// Adds a batch of the writer's schema.
    public func write(_ batch: RecordBatch) throws(ParquetError) {
        guard !finished else { throw ParquetError("the writer is finished") }
        guard batch.schema.fields.map(\.type) == schema.fields.map(\.type) else {
            throw ParquetError("a batch of schema \(batch.schema) for a writer of \(schema)")
        }
        var start = 0
        while start < batch.length {
            let rows = min(batch.length - start, options.rowGroupRows - rowsInGroup)
            let piece: RecordBatch
            do {
                piece = start == 0 && rows == batch.length ? batch : try batch.slice(start, rows)
            } catch {
                throw ParquetError("\(error)")
            }
            try add(piece)
            start += rows
            if rowsInGroup >= options.rowGroupRows { try finishRowGroup() }
        }
    }

    private func add(_ batch: RecordBatch) throws(ParquetError) {
        for leaf in shredded { leaf.reset() }
        let shredder = Shredder(leaves: shredded)
        for (node, column) in zip(layout.nodes, batch.columns) { try shredder.shred(node, column) }
        for (chunk, leaf) in zip(chunks, shredded) { try chunk.append(leaf) }
        rowsInGroup += batch.length
    }

    private func finishRowGroup() throws(ParquetError) {
        guard rowsInGroup > 0 else { return }
        let start = position
        var columns: [ParquetColumnChunk] = []
        var uncompressed: Int64 = 0
        for (c, chunk) in chunks.enumerated() {
            let (column, columnIndex, offsetIndex) = try chunk.finish(at: position) { (bytes) throws(ParquetError) in try emit(bytes) }
            if let offsetIndex { indexes.append((rowGroups.count, c, columnIndex, offsetIndex)) }
            if let bloom = chunk.bloomFilter() { blooms.append((rowGroups.count, c, bloom)) }
            uncompressed += column.metadata?.totalUncompressedSize ?? 0
            columns.append(column)
        }
        rowGroups.append(ParquetRowGroup(columns: columns, totalByteSize: uncompressed, numRows: Int64(rowsInGroup),
                                         sortingColumns: nil, fileOffset: start, totalCompressedSize: position - start,
                                         ordinal: Int16(truncatingIfNeeded: rowGroups.count)))
        totalRows += Int64(rowsInGroup)
        startRowGroup()
    }

    /// Writes the last row group and the footer; the file is complete. Returns the footer written.
    @discardableResult
    public func finish() throws(ParquetError) -> ParquetFileMetadata {
        guard !finished else { throw ParquetError("the writer is finished") }
        try finishRowGroup()
        finished = true
        for bloom in blooms {
            let bytes = bloom.filter.serialized()
            rowGroups[bloom.group].columns[bloom.column].metadata?.bloomFilterOffset = position
            rowGroups[bloom.group].columns[bloom.column].metadata?.bloomFilterLength = Int32(bytes.count)
            try emit(bytes)
        }
        // The page index: every column index, then every offset index, before the footer.
        for index in indexes {
            guard let bytes = index.columnIndex else { continue }
            rowGroups[index.group].columns[index.column].columnIndexOffset = position
            rowGroups[index.group].columns[index.column].columnIndexLength = Int32(bytes.count)
            try emit(bytes)
        }
        for index in indexes {
            rowGroups[index.group].columns[index.column].offsetIndexOffset = position
            rowGroups[index.group].columns[index.column].offsetIndexLength = Int32(index.offsetIndex.count)
            try emit(index.offsetIndex)
        }
        var metadata = ParquetFileMetadata(version: 2, schema: layout.elements, numRows: totalRows, rowGroups: rowGroups)
        var keyValue = schema.metadata.pairs.map { ParquetKeyValue(key: $0.key, value: $0.value) }
        if options.storeSchema {
            keyValue.removeAll { $0.key == ParquetArrowSchema.arrowSchemaKey }
            keyValue.append(ParquetKeyValue(key: ParquetArrowSchema.arrowSchemaKey, value: Self.storedSchema(schema)))
        }
        metadata.keyValueMetadata = keyValue.isEmpty ? nil : keyValue
        metadata.createdBy = "swift-arrow-flight parquet version 0.1.0"
        metadata.columnOrders = Array(repeating: .typeDefined, count: layout.leaves.count)
        let footer = metadata.thrift()
        try emit(footer)
        try emit(withUnsafeBytes(of: UInt32(footer.count).littleEndian) { Array($0) })
        try emit(ParquetFile.magic)
        fileOutput?.close()
        return metadata
    }

    /// The Arrow schema as Arrow writers store it: base64 of an encapsulated IPC schema message.
    static func storedSchema(_ schema: Schema) -> String {
        var bytes: [UInt8] = []
        for buffer in IPCMessageWriter.framed(IPCMessageWriter(schema: schema).schemaMessage()) { bytes.append(contentsOf: buffer.bytes) }
        return Data(bytes).base64EncodedString()
    }
}
