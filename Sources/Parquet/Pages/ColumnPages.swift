import ArrowCore
import CZlib

/// A page's header (`PageHeader` and the header of its kind).
public struct ParquetPageHeader: Sendable, Hashable {
    /// What the page holds.
    public enum Kind: Sendable, Hashable {
        case dataPage(numValues: Int32, encoding: ParquetEncoding, definitionLevelEncoding: ParquetEncoding,
                      repetitionLevelEncoding: ParquetEncoding, statistics: ParquetStatistics?)
        case dictionaryPage(numValues: Int32, encoding: ParquetEncoding, isSorted: Bool?)
        case dataPageV2(numValues: Int32, numNulls: Int32, numRows: Int32, encoding: ParquetEncoding,
                        definitionLevelsByteLength: Int32, repetitionLevelsByteLength: Int32, isCompressed: Bool,
                        statistics: ParquetStatistics?)
        case indexPage
        /// A page type this reader does not know (skipped).
        case other(Int32)
    }

    public var kind: Kind
    public var uncompressedPageSize: Int32
    public var compressedPageSize: Int32
    public var crc: Int32?

    /// The number of values (nulls included) of a data page; 0 for other pages.
    public var dataValues: Int64 {
        switch kind {
        case .dataPage(let n, _, _, _, _), .dataPageV2(let n, _, _, _, _, _, _, _): Int64(n)
        default: 0
        }
    }
}

/// A page with its bytes decompressed. A v2 data page's levels, stored uncompressed before its
/// values, come first, as in the file. An uncompressed page's bytes are the file's own.
public struct ParquetPage: Sendable {
    public var header: ParquetPageHeader
    public var bytes: Buffer
}

/// The pages of one column chunk, read one at a time: the dictionary page (if any), then the
/// data pages until they hold the chunk's values. Memory: the page being read.
public struct ColumnPageReader: Sendable {
    let file: Buffer
    let codec: ParquetCompression
    let column: String
    let declaredValues: Int64
    let declaredBytes: Int64
    var position: Int64
    var values: Int64 = 0
    var decoded: Int64 = 0
    /// For an encrypted chunk: its decryptor, row group and column ordinals, the data pages read.
    let decryptor: ModuleDecryptor?
    let rowGroupOrdinal: Int
    let columnOrdinal: Int
    let hasDictionary: Bool
    var pagesRead = 0
    var dataPagesRead = 0
    /// Whether pages that carry a CRC are checked against it.
    var verifiesChecksums = false

    /// The values of data pages read so far.
    public var valuesRead: Int64 { values }

    init(file: ParquetFile, rowGroup: Int, column: Int) throws(ParquetError) {
        let metadata = file.metadata
        guard metadata.rowGroups.indices.contains(rowGroup), metadata.rowGroups[rowGroup].columns.indices.contains(column) else {
            throw ParquetError("no column \(column) in row group \(rowGroup)")
        }
        let chunk = metadata.rowGroups[rowGroup].columns[column]
        let name = file.schema.columns[column].path.joined(separator: ".")
        guard let meta = chunk.metadata else { throw ParquetError("column \(name) is encrypted") }
        guard chunk.filePath == nil else { throw ParquetError("column \(name) lives in another file (\(chunk.filePath ?? ""))") }
        self.file = file.bytes
        self.codec = meta.codec
        self.column = name
        self.declaredValues = meta.numValues
        self.declaredBytes = max(meta.totalUncompressedSize, 0)
        // Some writers set a dictionary page offset of 0 for none: only one before the data is one.
        var position = Int64(meta.dataPageOffset)
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < meta.dataPageOffset { position = dictionary }
        self.position = position
        hasDictionary = position != Int64(meta.dataPageOffset)
        rowGroupOrdinal = Int(metadata.rowGroups[rowGroup].ordinal ?? Int16(truncatingIfNeeded: rowGroup))
        columnOrdinal = column
        if let crypto = chunk.crypto {
            guard let decryptor = file.decryption?.decryptor(for: crypto) else {
                throw ParquetError("column \(name) is encrypted: its key is not given")
            }
            self.decryptor = decryptor
        } else {
            decryptor = nil
        }
    }

    /// The next page, or nil after the page that completes the chunk's values.
    public mutating func next() throws(ParquetError) -> ParquetPage? {
        guard values < declaredValues else {
            guard values == declaredValues else {
                throw ParquetError("column \(column): its pages hold \(values) values, its metadata says \(declaredValues)")
            }
            return nil
        }
        let size = Int64(file.count)
        guard position >= 4, position < size - 8 else {
            throw ParquetError("column \(column): a page at offset \(position) lies outside the file (\(values) of \(declaredValues) values read)")
        }
        let data = file.bytes
        if let decryptor { return try nextEncrypted(decryptor, data) }
        var reader = ThriftCompactReader(data, position: Int(position))
        let header = try ParquetPageHeader.read(&reader)
        let start = reader.position
        try admit(header, bodyAt: start, in: data)
        let body = file.slice(offset: start, count: Int(header.compressedPageSize))
        if verifiesChecksums, let expected = header.crc {
            // CRC-32 (zlib's) of the page as stored, after the header.
            let actual = UInt32(crc32(0, body.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(body.count)))
            guard actual == UInt32(bitPattern: expected) else {
                throw ParquetError("column \(column): the page at offset \(position) fails its CRC check (stored \(UInt32(bitPattern: expected)), computed \(actual))")
            }
        }
        let page = ParquetPage(header: header, bytes: try decode(body, header: header))
        values += header.dataValues
        position = Int64(start) + Int64(header.compressedPageSize)
        return page
    }

    /// Checks that a page's body lies inside the file and that the chunk's pages do not decode to
    /// more than its metadata declares; counts the page's uncompressed bytes.
    private mutating func admit(_ header: ParquetPageHeader, bodyAt start: Int, in data: UnsafeRawBufferPointer) throws(ParquetError) {
        guard header.compressedPageSize >= 0, header.uncompressedPageSize >= 0,
              Int(header.compressedPageSize) <= data.count - 8 - start else {
            throw ParquetError("column \(column): the page at offset \(position) claims \(header.compressedPageSize) bytes past the file's end")
        }
        decoded += Int64(header.uncompressedPageSize)
        guard decoded <= declaredBytes + (1 << 16) else {
            throw ParquetError("column \(column): its pages decode to more than the \(declaredBytes) bytes its metadata declares")
        }
    }

    /// The next page of an encrypted chunk: its header and its body are modules of their own.
    private mutating func nextEncrypted(_ decryptor: ModuleDecryptor, _ data: UnsafeRawBufferPointer) throws(ParquetError) -> ParquetPage {
        let dictionaryFirst = pagesRead == 0 && hasDictionary
        func aad(_ dictionary: Bool, body: Bool) -> [UInt8] {
            dictionary
                ? decryptor.aad(body ? .dictionaryPage : .dictionaryPageHeader, rowGroup: rowGroupOrdinal, column: columnOrdinal)
                : decryptor.aad(body ? .dataPage : .dataPageHeader, rowGroup: rowGroupOrdinal, column: columnOrdinal, page: dataPagesRead)
        }
        let start = Int(position)
        let plainHeader: [UInt8], headerSize: Int
        do {
            (plainHeader, headerSize) = try decryptor.decrypt(data, at: start, aad: aad(dictionaryFirst, body: false))
        } catch {
            throw ParquetError("column \(column): the page header at offset \(position): \(error.message)")
        }
        let header = try withRawBytes(plainHeader) { (raw) throws(ParquetError) -> ParquetPageHeader in
            var reader = ThriftCompactReader(raw)
            return try ParquetPageHeader.read(&reader)
        }
        let isDictionary: Bool
        if case .dictionaryPage = header.kind { isDictionary = true } else { isDictionary = false }
        let bodyStart = start + headerSize
        try admit(header, bodyAt: bodyStart, in: data)
        let counterMode = decryptor.algorithm.kind == .aesGcmCtrV1
        let plainBody: [UInt8], bodySize: Int
        do {
            (plainBody, bodySize) = try decryptor.decrypt(data, at: bodyStart, aad: aad(isDictionary, body: true), counterMode: counterMode)
        } catch {
            throw ParquetError("column \(column): the page at offset \(bodyStart): \(error.message)")
        }
        guard bodySize == Int(header.compressedPageSize) else {
            throw ParquetError("column \(column): an encrypted page of \(bodySize) bytes claims \(header.compressedPageSize)")
        }
        var plainHeaderSized = header
        plainHeaderSized.compressedPageSize = Int32(plainBody.count)
        let page = ParquetPage(header: header, bytes: try decode(Buffer(copying: plainBody), header: plainHeaderSized))
        pagesRead += 1
        if !isDictionary { dataPagesRead += 1 }
        values += header.dataValues
        position = Int64(bodyStart + bodySize)
        return page
    }

    /// Passes over the data page at `location`, which must be the next page, holding `values`
    /// values: its header (not its body) is read to check that the offset index tells the truth.
    mutating func skip(_ location: ParquetOffsetIndex.PageLocation, values count: Int64) throws(ParquetError) {
        guard location.offset == position, location.compressedPageSize >= 0, count > 0,
              location.offset <= Int64(file.count - 8) - Int64(location.compressedPageSize) else {
            throw ParquetError("column \(column): the offset index's page at \(location.offset) is not the next page")
        }
        var reader = ThriftCompactReader(file.bytes, position: Int(position))
        let header = try ParquetPageHeader.read(&reader)
        guard header.dataValues == count,
              Int64(reader.position) + Int64(header.compressedPageSize) == location.offset + Int64(location.compressedPageSize) else {
            throw ParquetError("column \(column): the offset index says the page at \(location.offset) holds \(count) rows in "
                + "\(location.compressedPageSize) bytes; its header says \(header.dataValues) values")
        }
        position = location.offset + Int64(location.compressedPageSize)
        values += count
    }

    private func decode(_ body: Buffer, header: ParquetPageHeader) throws(ParquetError) -> Buffer {
        do throws(ParquetError) {
            switch header.kind {
            case .dataPageV2(_, _, _, _, let definition, let repetition, let isCompressed, _):
                let levels = Int(definition) + Int(repetition)
                guard definition >= 0, repetition >= 0, levels <= body.count, levels <= Int(header.uncompressedPageSize) else {
                    throw ParquetError("a v2 data page's levels (\(levels) bytes) exceed the page")
                }
                if !isCompressed || codec == .uncompressed {
                    guard body.count == Int(header.uncompressedPageSize) else {
                        throw ParquetError("an uncompressed page of \(body.count) bytes claims \(header.uncompressedPageSize)")
                    }
                    return body
                }
                let values = UnsafeRawBufferPointer(rebasing: body.bytes[levels...])
                return try PageDecompressor.decompress(values, codec: codec, uncompressedSize: Int(header.uncompressedPageSize) - levels,
                                                       prefix: UnsafeRawBufferPointer(rebasing: body.bytes[..<levels]))
            case .indexPage, .other:
                return Buffer()
            default:
                if codec == .uncompressed {
                    guard body.count == Int(header.uncompressedPageSize) else {
                        throw ParquetError("an uncompressed page of \(body.count) bytes claims \(header.uncompressedPageSize)")
                    }
                    return body
                }
                return try PageDecompressor.decompress(body.bytes, codec: codec, uncompressedSize: Int(header.uncompressedPageSize))
            }
        } catch {
            throw ParquetError("column \(column): \(error.message)")
        }
    }
}

extension ParquetFile {
    /// The pages of column `column` of row group `rowGroup`, read one at a time.
    public func pageReader(rowGroup: Int, column: Int) throws(ParquetError) -> ColumnPageReader {
        try ColumnPageReader(file: self, rowGroup: rowGroup, column: column)
    }

    /// Every page of column `column` of row group `rowGroup`, in file order, decompressed.
    /// Memory: one column chunk.
    public func pages(rowGroup: Int, column: Int) throws(ParquetError) -> [ParquetPage] {
        var reader = try pageReader(rowGroup: rowGroup, column: column)
        var pages: [ParquetPage] = []
        while let page = try reader.next() { pages.append(page) }
        return pages
    }
}

extension ParquetPageHeader {
    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetPageHeader {
        var type: Int32?, uncompressed: Int32?, compressed: Int32?, crc: Int32?, kind: Kind?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .i32): type = try r.readI32()
            case (2, .i32): uncompressed = try r.readI32()
            case (3, .i32): compressed = try r.readI32()
            case (4, .i32): crc = try r.readI32()
            case (5, .struct): kind = try Self.dataPage(&r)
            case (7, .struct): kind = try Self.dictionaryPage(&r)
            case (8, .struct): kind = try Self.dataPageV2(&r)
            default: try r.skip(f.type)
            }
        }
        guard let type, let uncompressed, let compressed else {
            throw ParquetError("a page header lacks its type or sizes")
        }
        let resolved: Kind
        switch type {
        case 0, 2, 3:
            guard let kind else { throw ParquetError("a page header of type \(type) lacks the header of its kind") }
            resolved = kind
        case 1: resolved = .indexPage
        default: resolved = .other(type)
        }
        return ParquetPageHeader(kind: resolved, uncompressedPageSize: uncompressed, compressedPageSize: compressed, crc: crc)
    }

    private static func dataPage(_ r: inout ThriftCompactReader) throws(ParquetError) -> Kind {
        var values: Int32?, encoding: Int32?, definition: Int32?, repetition: Int32?, statistics: ParquetStatistics?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .i32): values = try r.readI32()
            case (2, .i32): encoding = try r.readI32()
            case (3, .i32): definition = try r.readI32()
            case (4, .i32): repetition = try r.readI32()
            case (5, .struct): statistics = try ParquetStatistics.read(&r)
            default: try r.skip(f.type)
            }
        }
        guard let values, let encoding, let definition, let repetition, values >= 0 else {
            throw ParquetError("a data page header lacks its value count or encodings")
        }
        return .dataPage(numValues: values, encoding: ParquetEncoding(rawValue: encoding),
                         definitionLevelEncoding: ParquetEncoding(rawValue: definition),
                         repetitionLevelEncoding: ParquetEncoding(rawValue: repetition), statistics: statistics)
    }

    private static func dictionaryPage(_ r: inout ThriftCompactReader) throws(ParquetError) -> Kind {
        var values: Int32?, encoding: Int32?, sorted: Bool?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .i32): values = try r.readI32()
            case (2, .i32): encoding = try r.readI32()
            case (3, .boolTrue), (3, .boolFalse): sorted = f.boolValue
            default: try r.skip(f.type)
            }
        }
        guard let values, let encoding, values >= 0 else { throw ParquetError("a dictionary page header lacks its value count or encoding") }
        return .dictionaryPage(numValues: values, encoding: ParquetEncoding(rawValue: encoding), isSorted: sorted)
    }

    private static func dataPageV2(_ r: inout ThriftCompactReader) throws(ParquetError) -> Kind {
        var values: Int32?, nulls: Int32?, rows: Int32?, encoding: Int32?, definition: Int32?, repetition: Int32?
        var compressed = true, statistics: ParquetStatistics?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .i32): values = try r.readI32()
            case (2, .i32): nulls = try r.readI32()
            case (3, .i32): rows = try r.readI32()
            case (4, .i32): encoding = try r.readI32()
            case (5, .i32): definition = try r.readI32()
            case (6, .i32): repetition = try r.readI32()
            case (7, .boolTrue), (7, .boolFalse): compressed = f.boolValue
            case (8, .struct): statistics = try ParquetStatistics.read(&r)
            default: try r.skip(f.type)
            }
        }
        guard let values, let nulls, let rows, let encoding, let definition, let repetition, values >= 0 else {
            throw ParquetError("a v2 data page header lacks one of its required fields")
        }
        return .dataPageV2(numValues: values, numNulls: nulls, numRows: rows, encoding: ParquetEncoding(rawValue: encoding),
                           definitionLevelsByteLength: definition, repetitionLevelsByteLength: repetition,
                           isCompressed: compressed, statistics: statistics)
    }
}
