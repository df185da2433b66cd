import ArrowCore

/// The options a column chunk is written with.
struct ChunkOptions {
    var codec: ParquetCompression
    var compressionLevel: Int?
    var dataPageVersion: Int
    var dictionary: Bool
    var dictionaryPageSizeLimit: Int
    var dataPageSize: Int
    var maxRowsPerPage: Int
    var statistics: Bool
    var pageIndex: Bool
    /// Whether the chunk gets a bloom filter.
    var bloomFilter: Bool
}

/// A column chunk written as its values arrive: values are cut into pages of about the page
/// size, encoded (dictionary, falling back to PLAIN when the dictionary grows too large) and
/// compressed; the chunk's pages wait in memory until the row group ends, since the dictionary
/// page, written last, comes first in the file.
final class ColumnChunkWriter {
    let leaf: WriteLeaf
    let options: ChunkOptions
    private var dictionary: DictionaryEncoder?
    /// The pending page: its levels, and its values (PLAIN) or dictionary indices.
    private var definition: [Int16] = []
    private var repetition: [Int16] = []
    private var pending: LeafValues
    private var indices: [Int32] = []
    /// Which dictionary entries the pending page uses, for its statistics.
    private var pageEntries: [Bool] = []
    private var pendingRows = 0
    private var pendingValues = 0
    /// The chunk's pages, headers included, in order.
    private var pages: [UInt8] = []
    /// Where the next page starts among `pages`.
    private var pageStart = 0
    /// The page being built.
    private var scratch: [UInt8] = []
    private let compressor: PageCompressor
    private var pageCount = 0
    private var encodings: Set<ParquetEncoding> = []
    private var encodingStats: [ParquetPageEncodingStats] = []
    private(set) var entries: Int64 = 0
    private var uncompressedBytes: Int64 = 0
    private var statistics: StatisticsBuilder
    /// The pending page's statistics, added to the chunk's when the page is written.
    private var pageStatistics: StatisticsBuilder
    /// Each data page written: where it is among `pages`, its size, first row and statistics.
    private var records: [(offset: Int, size: Int, firstRow: Int64, statistics: ParquetStatistics, entries: Int)] = []
    private var rowsWritten: Int64 = 0
    /// The hashes of the chunk's distinct values, for its bloom filter.
    private var bloomHashes: Set<UInt64> = []

    /// A writer for the chunk of `leaf`; `previous`, the same column's writer of the row
    /// group before, hands over its buffers.
    init(leaf: WriteLeaf, options: ChunkOptions, reusing previous: ColumnChunkWriter? = nil) {
        self.leaf = leaf
        self.options = options
        if let previous {
            swap(&pages, &previous.pages)
            swap(&scratch, &previous.scratch)
            pages.removeAll(keepingCapacity: true)
        }
        pending = LeafValues(physicalType: leaf.physicalType, typeLength: leaf.typeLength, column: leaf.path.joined(separator: "."))
        if options.dictionary && leaf.physicalType != .boolean {
            dictionary = DictionaryEncoder(physicalType: leaf.physicalType, typeLength: leaf.typeLength,
                                           capacity: previous?.usedDictionary?.tableCapacity ?? 1024)
        }
        statistics = StatisticsBuilder(leaf: leaf)
        pageStatistics = statistics
        compressor = previous?.compressor ?? PageCompressor(codec: options.codec, level: options.compressionLevel)
    }

    /// Adds a batch's share of the chunk.
    func append(_ shredded: ShreddedLeaf) throws(ParquetError) {
        let n = shredded.entries
        let values = shredded.values
        var e = 0, v = 0
        let hasDefinition = leaf.maxDefinition > 0, hasRepetition = leaf.maxRepetition > 0
        let maximum = Int16(leaf.maxDefinition)
        while e < n {
            // A step of entries, ended at a row's edge so that a page never splits a row.
            var end = min(n, e + 1024, e + max(1, options.maxRowsPerPage - pendingRows))
            if hasRepetition { while end < n && shredded.repetition[end] != 0 { end += 1 } }
            var present = end - e
            var rows = end - e
            if hasDefinition {
                present = 0
                for k in e..<end where shredded.definition[k] == maximum { present += 1 }
                definition.append(contentsOf: shredded.definition[e..<end])
            }
            if hasRepetition {
                rows = 0
                for k in e..<end where shredded.repetition[k] == 0 { rows += 1 }
                repetition.append(contentsOf: shredded.repetition[e..<end])
            }
            pendingRows += rows
            pendingValues += end - e
            entries += Int64(end - e)
            pageStatistics.nulls += Int64(end - e - present)
            try add(values, from: v, count: present)
            e = end
            v += present
            if pendingRows >= options.maxRowsPerPage || pendingBytes >= options.dataPageSize { try flushPage() }
        }
    }

    private var pendingBytes: Int {
        if dictionary != nil { return indices.count * 2 }
        return pending.isByteArray ? pending.values.count + 4 * pending.count : pending.values.count
    }

    private func add(_ values: LeafValues, from start: Int, count: Int) throws(ParquetError) {
        guard count > 0 else { return }
        let statistics = options.statistics || options.pageIndex
        if options.bloomFilter {
            for k in start..<(start + count) {
                let bytes = values.isByteArray ? values.byteArray(k)
                    : UnsafeRawBufferPointer(start: values.values.base + k * values.width, count: values.width)
                bloomHashes.insert(XXHash64.hash(bytes))
            }
        }
        if let dictionary {
            let before = indices.count
            try dictionary.indices(of: values, from: start, count: count, into: &indices)
            if statistics {
                // The page's minimum and maximum are those of the distinct values it uses: each
                // dictionary entry is looked at once per page, not once per value.
                if pageEntries.count < dictionary.count {
                    pageEntries.append(contentsOf: repeatElement(false, count: dictionary.count - pageEntries.count))
                }
                // Through buffers: a class property read per value pays a dynamic exclusivity check.
                let entries = dictionary.values
                indices.withUnsafeBufferPointer { used in
                    pageEntries.withUnsafeMutableBufferPointer { seen in
                        for k in before..<used.count {
                            let entry = Int(used[k])
                            if !seen[entry] {
                                seen[entry] = true
                                pageStatistics.update(entries, from: entry, count: 1)
                            }
                        }
                    }
                }
            }
            if dictionary.byteSize > options.dictionaryPageSizeLimit {
                // Too many distinct values: the rest of the chunk is PLAIN.
                try flushPage()
                self.dictionary = nil
                dictionaryFallback = dictionary
            }
            return
        }
        if statistics { pageStatistics.update(values, from: start, count: count) }
        if values.isByteArray {
            for k in start..<(start + count) {
                let bytes = values.byteArray(k)
                try pending.appendByteArray(bytes.baseAddress ?? UnsafeRawPointer(values.values.base), count: bytes.count)
            }
        } else {
            pending.values.append(values.values.base + start * values.width, count: count * values.width)
            pending.count += count
        }
    }

    /// The dictionary of the chunk's first pages, kept after it was given up for PLAIN.
    private var dictionaryFallback: DictionaryEncoder?

    private var usedDictionary: DictionaryEncoder? { dictionary ?? dictionaryFallback }

    /// Encodes and compresses the pending page.
    private func flushPage() throws(ParquetError) {
        guard pendingValues > 0 else { return }
        let entries = pendingValues
        // The page is built in `scratch`, kept from page to page: a v1 page holds its levels'
        // lengths, levels and values, compressed together; a v2 page its levels, then its
        // values, compressed alone.
        scratch.removeAll(keepingCapacity: true)
        var repetitionCount = 0, definitionCount = 0
        let v1 = options.dataPageVersion != 2
        if leaf.maxRepetition > 0 {
            repetitionCount = appendLevels(repetition, bitWidth: bitWidth(of: leaf.maxRepetition), prefixed: v1)
        }
        var nulls = 0
        if leaf.maxDefinition > 0 {
            definitionCount = appendLevels(definition, bitWidth: bitWidth(of: leaf.maxDefinition), prefixed: v1)
            let maximum = Int16(leaf.maxDefinition)
            for d in definition where d != maximum { nulls += 1 }
        }
        let levelBytes = scratch.count
        let encoding: ParquetEncoding
        if let dictionary, dictionary.count > 0 {
            let width = max(1, bitWidth(of: max(dictionary.count - 1, 0)))
            scratch.append(UInt8(width))
            indices.withUnsafeBufferPointer { RLEHybridEncoder.encode($0, bitWidth: width, into: &scratch) }
            encoding = .rleDictionary
        } else {
            PlainEncoder.encode(pending, from: 0, count: pending.count, into: &scratch)
            encoding = .plain
        }
        let compressor = compressor
        let rows = Int32(pendingRows)
        let headerSize = try withRawBytes(scratch) { (page) throws(ParquetError) -> Int in
            let kind: ParquetPageHeader.Kind
            let body: UnsafeRawBufferPointer
            if v1 {
                body = try compressor.compress(page)
                kind = .dataPage(numValues: Int32(entries), encoding: encoding, definitionLevelEncoding: .rle,
                                 repetitionLevelEncoding: .rle, statistics: nil)
            } else {
                body = try compressor.compress(UnsafeRawBufferPointer(rebasing: page[levelBytes...]))
                kind = .dataPageV2(numValues: Int32(entries), numNulls: Int32(nulls), numRows: rows, encoding: encoding,
                                   definitionLevelsByteLength: Int32(definitionCount), repetitionLevelsByteLength: Int32(repetitionCount),
                                   isCompressed: compressor.codec != .uncompressed, statistics: nil)
            }
            let levels = v1 ? 0 : levelBytes
            let header = ParquetPageHeader(kind: kind, uncompressedPageSize: Int32(page.count),
                                           compressedPageSize: Int32(levels + body.count), crc: nil)
            let headerBytes = header.thrift()
            pages.append(contentsOf: headerBytes)
            if levels > 0 { pages.append(contentsOf: UnsafeRawBufferPointer(rebasing: page[..<levels])) }
            pages.append(contentsOf: body)
            return headerBytes.count
        }
        records.append((offset: pageStart, size: pages.count - pageStart, firstRow: rowsWritten, statistics: pageStatistics.statistics,
                        entries: entries))
        pageStart = pages.count
        encodingStats.append(ParquetPageEncodingStats(pageType: v1 ? 0 : 3, encoding: encoding, count: 1))
        rowsWritten += Int64(pendingRows)
        statistics.merge(pageStatistics)
        pageStatistics = StatisticsBuilder(leaf: leaf)
        uncompressedBytes += Int64(headerSize) + Int64(scratch.count)
        pageCount += 1
        encodings.insert(encoding)
        if leaf.maxDefinition > 0 || leaf.maxRepetition > 0 { encodings.insert(.rle) }
        definition.removeAll(keepingCapacity: true)
        repetition.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
        pageEntries.removeAll(keepingCapacity: true)
        pending.reset()
        pendingRows = 0
        pendingValues = 0
    }

    /// Appends `levels` RLE-encoded to `scratch`, after their length in four bytes when
    /// `prefixed` (v1 pages); returns the encoded levels' size.
    private func appendLevels(_ levels: [Int16], bitWidth: Int, prefixed: Bool) -> Int {
        let lengthAt = scratch.count
        if prefixed { scratch.append(contentsOf: [0, 0, 0, 0] as [UInt8]) }
        let start = scratch.count
        levels.withUnsafeBufferPointer { RLEHybridEncoder.encode($0, bitWidth: bitWidth, into: &scratch) }
        let length = scratch.count - start
        if prefixed {
            let little = UInt32(length).littleEndian
            withUnsafeBytes(of: little) { bytes in
                for k in 0..<4 { scratch[lengthAt + k] = bytes[k] }
            }
        }
        return length
    }

    /// The chunk's bloom filter (sized for its distinct values at a 1% false positive rate), if it gets one.
    func bloomFilter() -> ParquetBloomFilter? {
        guard options.bloomFilter, !bloomHashes.isEmpty else { return nil }
        // m = -n ln(p) / ln(2)^2 bits for n values at p = 0.01; a power of two of bytes.
        let bits = Double(bloomHashes.count) * 9.585
        var bytes = 32
        while Double(bytes * 8) < bits && bytes < 128 << 20 { bytes *= 2 }
        return ParquetBloomFilter.make(hashes: Array(bloomHashes), bytes: bytes)
    }

    /// Ends the chunk: its bytes (dictionary page first) go to `emit`, which must use them
    /// before it returns (the buffers are kept for the next row group's chunk); returns its
    /// metadata, for a chunk that starts at `offset` in the file, and its page index.
    func finish(at offset: Int64, emit: (UnsafeRawBufferPointer) throws(ParquetError) -> Void) throws(ParquetError)
        -> (chunk: ParquetColumnChunk, columnIndex: [UInt8]?, offsetIndex: [UInt8]?) {
        try flushPage()
        var bytes: [UInt8] = []
        var dictionaryOffset: Int64?
        if let dictionary = usedDictionary, dictionary.count > 0, encodings.contains(.rleDictionary) {
            scratch.removeAll(keepingCapacity: true)
            PlainEncoder.encode(dictionary.values, from: 0, count: dictionary.count, into: &scratch)
            let compressor = compressor
            let headerSize: Int
            (bytes, headerSize) = try withRawBytes(scratch) { (plain) throws(ParquetError) -> ([UInt8], Int) in
                let body = try compressor.compress(plain)
                let header = ParquetPageHeader(kind: .dictionaryPage(numValues: Int32(dictionary.count), encoding: .plain, isSorted: nil),
                                               uncompressedPageSize: Int32(plain.count), compressedPageSize: Int32(body.count), crc: nil)
                let headerBytes = header.thrift()
                return (headerBytes + Array(body), headerBytes.count)
            }
            uncompressedBytes += Int64(headerSize + scratch.count)
            dictionaryOffset = offset
            encodings.insert(.plain)
            encodingStats.insert(ParquetPageEncodingStats(pageType: 2, encoding: .plain, count: 1), at: 0)
        }
        let dataOffset = offset + Int64(bytes.count)
        let size = bytes.count + pages.count
        if pageCount == 0 {
            // No values at all: one empty page keeps the chunk readable.
            encodings.insert(.plain)
        }
        let order: [ParquetEncoding] = [.plain, .rle, .rleDictionary]
        let metadata = ParquetColumnMetadata(
            type: leaf.physicalType, encodings: order.filter { encodings.contains($0) }, pathInSchema: leaf.path,
            codec: options.codec, numValues: entries, totalUncompressedSize: uncompressedBytes,
            totalCompressedSize: Int64(size), keyValueMetadata: nil, dataPageOffset: dataOffset, indexPageOffset: nil,
            dictionaryPageOffset: dictionaryOffset, statistics: options.statistics ? statistics.statistics : nil,
            encodingStats: merged(encodingStats), bloomFilterOffset: nil, bloomFilterLength: nil)
        let chunk = ParquetColumnChunk(filePath: nil, fileOffset: offset, metadata: metadata, offsetIndexOffset: nil,
                                       offsetIndexLength: nil, columnIndexOffset: nil, columnIndexLength: nil,
                                       isEncrypted: false, crypto: nil, encryptedColumnMetadata: nil)
        try withRawBytes(bytes, emit)
        try withRawBytes(pages, emit)
        guard options.pageIndex, !records.isEmpty else { return (chunk, nil, nil) }
        var offsets = ThriftCompactWriter()
        offsets.nested { w in
            w.list(1, structs: records) { w, page in
                w.i64(1, dataOffset + Int64(page.offset))
                w.i32(2, Int32(page.size))
                w.i64(3, page.firstRow)
            }
        }
        var columnIndex: [UInt8]?
        if statistics.isOrdered {
            var index = ThriftCompactWriter()
            index.nested { w in
                let nullPages = records.map { $0.statistics.minValue == nil && Int($0.statistics.nullCount ?? 0) == $0.entries }
                w.list(1, bools: nullPages)
                w.list(2, binaries: records.map { $0.statistics.minValue ?? [] })
                w.list(3, binaries: records.map { $0.statistics.maxValue ?? [] })
                w.i32(4, 0)
                w.list(5, i64: records.map { $0.statistics.nullCount ?? 0 })
            }
            // A page of values without an order (all NaN, say) leaves the column without an index.
            let complete = zip(records, records.map { $0.statistics.minValue == nil && Int($0.statistics.nullCount ?? 0) == $0.entries })
                .allSatisfy { record, nullPage in nullPage || record.statistics.minValue != nil }
            if complete { columnIndex = index.bytes }
        }
        return (chunk, columnIndex, offsets.bytes)
    }

    private func merged(_ stats: [ParquetPageEncodingStats]) -> [ParquetPageEncodingStats] {
        var out: [ParquetPageEncodingStats] = []
        for s in stats {
            if let i = out.firstIndex(where: { $0.pageType == s.pageType && $0.encoding == s.encoding }) {
                out[i].count += s.count
            } else {
                out.append(s)
            }
        }
        return out
    }
}

/// `body` on the bytes of `bytes`, its typed error passed on.
func withRawBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ParquetError) -> R) throws(ParquetError) -> R {
    let result: Result<R, ParquetError> = bytes.withUnsafeBytes { raw in Result { () throws(ParquetError) -> R in try body(raw) } }
    return try result.get()
}
