import ArrowCore

/// The levels and values of one leaf column for a run of rows.
final class LeafBatch {
    /// Int16 definition levels, one per entry, when the column's maximum is above 0 and some
    /// entry lacks a value (empty: every entry is at the maximum).
    let definition = GrowableBuffer()
    /// Int16 repetition levels, one per entry, when the column's maximum is above 0.
    let repetition = GrowableBuffer()
    /// The entries (level pairs) held: one per value or null, and per empty or null list.
    var entries = 0
    /// The entries whose definition level is below the column's maximum (nulls, or empty lists).
    var entriesBelowMaximum = 0
    /// The non-null values.
    let values: LeafValues

    init(_ values: LeafValues) { self.values = values }

    func reset() {
        definition.removeAll()
        repetition.removeAll()
        entries = 0
        entriesBelowMaximum = 0
        values.reset()
    }

    /// Appends `count` definition levels of `level`.
    func appendDefinitions(_ level: Int16, count: Int) {
        definition.reserve(2 * count)
        definition.end.assumingMemoryBound(to: Int16.self).initialize(repeating: level, count: count)
        definition.advance(2 * count)
    }

    /// Whether definition levels are held: none are while every entry holds a value.
    var hasDefinitionLevels: Bool { definition.count > 0 }

    var definitionLevels: UnsafePointer<Int16> { UnsafePointer(definition.base.assumingMemoryBound(to: Int16.self)) }
    var repetitionLevels: UnsafePointer<Int16> { UnsafePointer(repetition.base.assumingMemoryBound(to: Int16.self)) }
}

/// Reads one column chunk a run of rows at a time: its pages are decompressed and decoded
/// one after another, so memory holds one page and the run read.
final class LeafColumnReader {
    let column: ParquetSchema.Column
    let name: String
    let maxDefinition: Int
    let maxRepetition: Int
    private var pages: ColumnPageReader
    private var dictionary: DictionaryValues?
    private var pageDefinition: [Int16] = []
    private var pageRepetition: [Int16] = []
    private var pageEntries = 0
    /// Whether every entry of the page holds a value, and how many do.
    private var pageIsFull = true
    private var pagePresent = 0
    private var pageIndex = 0
    private var decoder: (any ValueDecoder)?
    private var firstEntry = true
    let batch: LeafBatch

    /// The entries a page may claim whatever its size (all nulls, say, RLE-encoded).
    static let entriesWithoutBytes = 1 << 24

    init(file: ParquetFile, rowGroup: Int, column index: Int, keepsDictionary: Bool, verifiesChecksums: Bool = false) throws(ParquetError) {
        column = file.schema.columns[index]
        name = column.path.joined(separator: ".")
        maxDefinition = column.maxDefinitionLevel
        maxRepetition = column.maxRepetitionLevel
        guard maxDefinition <= Int(Int16.max), maxRepetition <= Int(Int16.max) else {
            throw ParquetError("column \(name) nests too deeply")
        }
        pages = try file.pageReader(rowGroup: rowGroup, column: index)
        pages.verifiesChecksums = verifiesChecksums
        let values = LeafValues(physicalType: column.physicalType, typeLength: Int(column.element.typeLength ?? 0), column: name)
        values.keepsDictionary = keepsDictionary
        batch = LeafBatch(values)
    }

    private var convertedDictionary: ArrayData?

    /// The chunk's dictionary as an Arrow array of `type`, converted once per chunk (empty
    /// when the chunk has no dictionary page: it holds only nulls).
    func arrowDictionary(_ type: DataType) throws(ParquetError) -> ArrayData {
        if let convertedDictionary { return convertedDictionary }
        let values = dictionary?.values.copy()
            ?? LeafValues(physicalType: column.physicalType, typeLength: batch.values.width, column: name)
        let dense = try LeafConversion.dense(values, to: type)
        let array = try LeafConversion.array(dense, type: type, slots: Slots(count: values.count, nulls: 0, valid: nil))
        convertedDictionary = array
        return array
    }

    /// Reads up to `rows` more rows into `batch` (after what it holds); returns how many were
    /// read, fewer only at the chunk's end.
    func read(rows: Int) throws(ParquetError) -> Int {
        var started = 0
        if maxRepetition == 0 {
            // One entry per row: room for the run at once.
            if batch.values.width > 0 { batch.values.values.reserve(rows * batch.values.width) }
            if batch.values.isByteArray { batch.values.offsets.reserve(4 * rows) }
            if maxDefinition > 0 { batch.definition.reserve(2 * rows) }
        }
        do throws(ParquetError) {
            while true {
                if pageIndex >= pageEntries {
                    if try !loadPage() { break }
                    continue
                }
                var end = pageIndex
                if maxRepetition > 0 {
                    let count = pageEntries
                    pageRepetition.withUnsafeBufferPointer { rep in
                        while end < count {
                            if rep[end] == 0 {
                                if started == rows { break }
                                started += 1
                            }
                            end += 1
                        }
                    }
                } else {
                    let n = Swift.min(pageEntries - pageIndex, rows - started)
                    end = pageIndex + n
                    started += n
                }
                if end > pageIndex { try consume(pageIndex, end) }
                pageIndex = end
                if pageIndex < pageEntries || (maxRepetition == 0 && started == rows) { break }
            }
        } catch {
            throw ParquetError("column \(name): \(error.message)")
        }
        rowsRead += started
        return started
    }

    /// The rows read or skipped so far.
    private(set) var rowsRead = 0
    /// Where the chunk's data pages are, for skipping whole pages; nil reads every page.
    var offsetIndex: ParquetOffsetIndex?
    private var pagesLoaded = 0

    /// Skips `rows` rows: whole pages the offset index shows lie inside them are passed over
    /// unread (for columns without repetition), the rest decoded and dropped. Clears `batch`.
    func skip(rows: Int) throws(ParquetError) {
        var left = rows
        while left > 0 {
            if pageIndex >= pageEntries, maxRepetition == 0, pagesLoaded > 0, let pages = offsetIndex?.pages,
               let next = pages.firstIndex(where: { $0.firstRowIndex == Int64(rowsRead) }), next + 1 < pages.count,
               pages[next].offset == self.pages.position, pages[next + 1].firstRowIndex > pages[next].firstRowIndex,
               pages[next + 1].firstRowIndex - pages[next].firstRowIndex <= Int64(left) {
                let count = Int(pages[next + 1].firstRowIndex - pages[next].firstRowIndex)
                try self.pages.skip(pages[next], values: Int64(count))
                rowsRead += count
                left -= count
                pagesSkipped += 1
                continue
            }
            batch.reset()
            // Without repetition a row is an entry: decode to the page's end, so that the next
            // page can be passed over; the first row of a page that cannot be opens it.
            var step = Swift.min(left, 1 << 16)
            if maxRepetition == 0 && offsetIndex != nil { step = Swift.min(left, Swift.max(1, pageEntries - pageIndex)) }
            let read = try read(rows: step)
            batch.reset()
            guard read == step else { throw ParquetError("column \(name): the chunk ends \(left - read) rows short") }
            left -= read
        }
    }

    /// The data pages passed over unread (for tests and measurement).
    private(set) var pagesSkipped = 0

    private func consume(_ start: Int, _ end: Int) throws(ParquetError) {
        let n = end - start
        var present = n
        if maxRepetition > 0 {
            if firstEntry, pageRepetition[start] != 0 {
                throw ParquetError("the first value has repetition level \(pageRepetition[start]); a row starts at 0")
            }
            pageRepetition.withUnsafeBytes { batch.repetition.append($0.baseAddress.unsafelyUnwrapped + 2 * start, count: 2 * n) }
        }
        firstEntry = false
        if maxDefinition > 0 {
            // A batch keeps no definition levels while every entry holds a value; the first
            // that does not fills them in for the entries before it.
            let maximum = Int16(maxDefinition)
            if pageIsFull {
                if batch.definition.count > 0 { batch.appendDefinitions(maximum, count: n) }
            } else {
                if batch.definition.count == 0 && batch.entries > 0 { batch.appendDefinitions(maximum, count: batch.entries) }
                present = start == 0 && end == pageEntries ? pagePresent
                    : pageDefinition.withUnsafeBufferPointer { def in Self.count(def, from: start, to: end, equalTo: maximum) }
                batch.entriesBelowMaximum += n - present
                pageDefinition.withUnsafeBytes { batch.definition.append($0.baseAddress.unsafelyUnwrapped + 2 * start, count: 2 * n) }
            }
        }
        if present > 0 {
            guard let decoder else { throw ParquetError("a page holds values it gives no encoding for") }
            try decoder.read(present, into: batch.values)
        }
        batch.entries += n
    }

    private func loadPage() throws(ParquetError) -> Bool {
        while let page = try pages.next() {
            let bytes = page.bytes.bytes
            let entries: Int
            let encoding: ParquetEncoding
            var values: UnsafeRawBufferPointer
            switch page.header.kind {
            case .dictionaryPage(let count, let pageEncoding, _):
                guard dictionary == nil else { throw ParquetError("a second dictionary page") }
                guard pageEncoding == .plain || pageEncoding == .plainDictionary else {
                    throw ParquetError("a dictionary page encoded \(pageEncoding)")
                }
                let held = LeafValues(physicalType: column.physicalType, typeLength: batch.values.width, column: name)
                let count = Int(count)
                if held.width > 0, count > bytes.count / held.width + 8 {
                    throw ParquetError("a dictionary page of \(bytes.count) bytes claims \(count) values")
                }
                try makeValueDecoder(.plain, page: page.bytes, bytes: bytes, valueCount: count, column: held, dictionary: nil)
                    .read(count, into: held)
                // Room past the last value: short values are copied out a word at a time.
                held.values.reserve(32)
                dictionary = DictionaryValues(held)
                continue
            case .dataPage(let count, let pageEncoding, let definitionEncoding, let repetitionEncoding, _):
                entries = Int(count)
                encoding = pageEncoding
                try Self.checkEntries(entries, bytes: bytes.count)
                var cursor = ByteCursor(bytes)
                if maxRepetition > 0 {
                    try Self.levelsV1(&cursor, encoding: repetitionEncoding, maximum: maxRepetition, count: entries,
                                      what: "repetition levels", into: &pageRepetition)
                }
                if maxDefinition > 0 {
                    try Self.levelsV1(&cursor, encoding: definitionEncoding, maximum: maxDefinition, count: entries,
                                      what: "definition levels", lazily: true, into: &pageDefinition)
                }
                values = UnsafeRawBufferPointer(rebasing: bytes[cursor.position...])
            case .dataPageV2(let count, _, _, let pageEncoding, let definitionLength, let repetitionLength, _, _):
                entries = Int(count)
                encoding = pageEncoding
                try Self.checkEntries(entries, bytes: bytes.count)
                let repetitionBytes = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(repetitionLength)])
                let definitionBytes = UnsafeRawBufferPointer(rebasing: bytes[Int(repetitionLength)..<Int(repetitionLength + definitionLength)])
                if maxRepetition > 0 {
                    try Self.levels(repetitionBytes, maximum: maxRepetition, count: entries, what: "repetition levels", into: &pageRepetition)
                }
                if maxDefinition > 0 {
                    try Self.levels(definitionBytes, maximum: maxDefinition, count: entries, what: "definition levels",
                                    lazily: true, into: &pageDefinition)
                }
                values = UnsafeRawBufferPointer(rebasing: bytes[Int(repetitionLength + definitionLength)...])
            case .indexPage, .other:
                continue
            }
            var present = entries
            // Empty definition levels of a page with entries: every one holds a value.
            if maxDefinition > 0 && !pageDefinition.isEmpty {
                present = pageDefinition.withUnsafeBufferPointer { Self.count($0, from: 0, to: entries, equalTo: Int16(maxDefinition)) }
            }
            pageIsFull = present == entries
            pagePresent = present
            if values.baseAddress == nil { values = UnsafeRawBufferPointer(start: nil, count: 0) }
            if present > 0 && encoding != .plainDictionary && encoding != .rleDictionary {
                try batch.values.materializeIndices(dictionary)
            }
            decoder = present == 0 ? nil
                : try makeValueDecoder(encoding, page: page.bytes, bytes: values, valueCount: present, column: batch.values,
                                       dictionary: dictionary)
            pageEntries = entries
            pageIndex = 0
            pagesLoaded += 1
            return true
        }
        return false
    }

    /// The levels equal to `level` in `start..<end`.
    @inline(__always)
    private static func count(_ levels: UnsafeBufferPointer<Int16>, from start: Int, to end: Int, equalTo level: Int16) -> Int {
        guard let base = levels.baseAddress else { return 0 }
        var count = 0
        for i in start..<end { count &+= base[i] == level ? 1 : 0 }
        return count
    }

    /// Levels are decoded a page at a time: a page may not claim more entries than its bytes
    /// could plausibly hold, so that a few RLE bytes cannot ask for gigabytes.
    private static func checkEntries(_ entries: Int, bytes: Int) throws(ParquetError) {
        guard entries <= Swift.max(entriesWithoutBytes, 8 * bytes) else {
            throw ParquetError("a data page of \(bytes) bytes claims \(entries) values")
        }
    }

    /// A v1 page's levels: RLE with a 4-byte length, or the deprecated BIT_PACKED.
    /// Decodes a v1 page's levels into `out` (its storage reused from page to page: a fresh
    /// array per page is fresh memory for the kernel to clear). Empty when `lazily` and every
    /// level is `maximum`.
    private static func levelsV1(_ cursor: inout ByteCursor, encoding: ParquetEncoding, maximum: Int, count: Int,
                                 what: String, lazily: Bool = false, into out: inout [Int16]) throws(ParquetError) {
        switch encoding {
        case .rle:
            let length = Int(try cursor.littleEndianUInt32())
            let bytes = try cursor.take(length, what: what)
            try levels(bytes, maximum: maximum, count: count, what: what, lazily: lazily, into: &out)
        case .bitPacked:
            let width = bitWidth(of: maximum)
            let bytes = try cursor.take(LegacyBitPacked.byteCount(values: count, bitWidth: width), what: what)
            resize(&out, to: count)
            try out.withUnsafeMutableBufferPointer { (buffer) throws(ParquetError) in
                guard let base = buffer.baseAddress else { return }
                try LegacyBitPacked.decode(bytes, bitWidth: width, count: count, into: base)
            }
            try check(out, maximum: maximum, what: what)
        default:
            throw ParquetError("\(what) encoded \(encoding)")
        }
    }

    /// `out` with `count` levels, keeping its storage.
    private static func resize(_ out: inout [Int16], to count: Int) {
        if out.count > count {
            out.removeLast(out.count - count)
        } else if out.count < count {
            out.append(contentsOf: repeatElement(0, count: count - out.count))
        }
    }

    /// Whether `bytes` are one RLE run of `maximum` covering `count` levels: a page whose every
    /// entry holds a value, whose levels need not be decoded.
    private static func isOneRun(_ bytes: UnsafeRawBufferPointer, of maximum: Int, count: Int) -> Bool {
        var cursor = ByteCursor(bytes)
        guard let header = try? cursor.uleb(), header & 1 == 0, header >> 1 >= UInt64(count) else { return false }
        let width = (bitWidth(of: maximum) + 7) / 8
        guard let value = try? cursor.take(width, what: "") else { return false }
        var v = 0
        for k in 0..<width { v |= Int(value[k]) << (8 * k) }
        return v == maximum
    }

    /// RLE / bit-packed levels, each at most `maximum`; empty when they are all `maximum` and
    /// `lazily` allows leaving them undecoded.
    private static func levels(_ bytes: UnsafeRawBufferPointer, maximum: Int, count: Int, what: String,
                               lazily: Bool = false, into out: inout [Int16]) throws(ParquetError) {
        if lazily && count > 0 && isOneRun(bytes, of: maximum, count: count) {
            out.removeAll(keepingCapacity: true)
            return
        }
        var decoder = try RLEHybridDecoder(bytes, bitWidth: bitWidth(of: maximum))
        resize(&out, to: count)
        try out.withUnsafeMutableBufferPointer { (buffer) throws(ParquetError) in
            guard let base = buffer.baseAddress else { return }
            try decoder.decodeExactly(into: base, count: count, what: what)
        }
        try check(out, maximum: maximum, what: what)
    }

    private static func check(_ levels: [Int16], maximum: Int, what: String) throws(ParquetError) {
        let limit = Int16(maximum)
        var highest: Int16 = 0
        for level in levels where level > highest { highest = level }
        guard highest <= limit else { throw ParquetError("\(what) reach \(highest); the column's maximum is \(maximum)") }
    }
}
