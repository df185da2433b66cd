/// Where a column chunk's data pages are and which rows each starts at (`OffsetIndex`).
public struct ParquetOffsetIndex: Sendable, Hashable {
    public struct PageLocation: Sendable, Hashable {
        public var offset: Int64
        public var compressedPageSize: Int32
        public var firstRowIndex: Int64
    }

    public var pages: [PageLocation]

    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetOffsetIndex {
        var pages: [PageLocation]?
        try r.readStruct { r, f throws(ParquetError) in
            guard f.id == 1, f.type == .list else {
                try r.skip(f.type)
                return
            }
            pages = try r.readList { r, t throws(ParquetError) in
                guard t == .struct else { throw ParquetError("an offset index lists \(t) where page locations belong") }
                var offset: Int64?, size: Int32?, first: Int64?
                try r.readStruct { r, g throws(ParquetError) in
                    switch (g.id, g.type) {
                    case (1, .i64): offset = try r.readI64()
                    case (2, .i32): size = try r.readI32()
                    case (3, .i64): first = try r.readI64()
                    default: try r.skip(g.type)
                    }
                }
                guard let offset, let size, let first else { throw ParquetError("a page location lacks a field") }
                return PageLocation(offset: offset, compressedPageSize: size, firstRowIndex: first)
            }
        }
        guard let pages else { throw ParquetError("an offset index without page locations") }
        return ParquetOffsetIndex(pages: pages)
    }
}

/// Each data page's minimum, maximum and nulls (`ColumnIndex`).
public struct ParquetColumnIndex: Sendable, Hashable {
    public var nullPages: [Bool]
    public var minValues: [[UInt8]]
    public var maxValues: [[UInt8]]
    public var nullCounts: [Int64]?

    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetColumnIndex {
        var nullPages: [Bool]?, mins: [[UInt8]]?, maxs: [[UInt8]]?, nulls: [Int64]?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .list):
                nullPages = try r.readList { r, t throws(ParquetError) in
                    guard t == .boolTrue || t == .boolFalse else { throw ParquetError("a column index's null pages hold \(t)") }
                    return try r.readByte() == 1
                }
            case (2, .list):
                mins = try r.readList { r, t throws(ParquetError) in
                    guard t == .binary else { throw ParquetError("a column index's minimums hold \(t)") }
                    return try r.readBinary()
                }
            case (3, .list):
                maxs = try r.readList { r, t throws(ParquetError) in
                    guard t == .binary else { throw ParquetError("a column index's maximums hold \(t)") }
                    return try r.readBinary()
                }
            case (5, .list):
                nulls = try r.readList { r, t throws(ParquetError) in
                    guard t == .i64 else { throw ParquetError("a column index's null counts hold \(t)") }
                    return try r.readI64()
                }
            default: try r.skip(f.type)
            }
        }
        guard let nullPages, let mins, let maxs, mins.count == nullPages.count, maxs.count == nullPages.count,
              nulls.map({ $0.count == nullPages.count }) ?? true else {
            throw ParquetError("a column index whose lists disagree in length")
        }
        return ParquetColumnIndex(nullPages: nullPages, minValues: mins, maxValues: maxs, nullCounts: nulls)
    }
}

extension ParquetFile {
    private func thrift<T>(offset: Int64?, length: Int32?, what: String,
                           _ read: (inout ThriftCompactReader) throws(ParquetError) -> T) throws(ParquetError) -> T? {
        guard let offset, let length else { return nil }
        guard offset >= 4, length >= 0, offset <= Int64(bytes.count - 8), Int64(length) <= Int64(bytes.count - 8) - offset else {
            throw ParquetError("the \(what) at offset \(offset) lies outside the file")
        }
        var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: bytes.bytes[Int(offset)..<Int(offset + Int64(length))]))
        return try read(&reader)
    }

    /// The offset index of a column chunk, when the file has one (and it is not encrypted).
    public func offsetIndex(rowGroup: Int, column: Int) throws(ParquetError) -> ParquetOffsetIndex? {
        let chunk = metadata.rowGroups[rowGroup].columns[column]
        guard chunk.crypto == nil else { return nil }
        return try thrift(offset: chunk.offsetIndexOffset, length: chunk.offsetIndexLength, what: "offset index", ParquetOffsetIndex.read)
    }

    /// The column index of a column chunk, when the file has one (and it is not encrypted).
    public func columnIndex(rowGroup: Int, column: Int) throws(ParquetError) -> ParquetColumnIndex? {
        let chunk = metadata.rowGroups[rowGroup].columns[column]
        guard chunk.crypto == nil else { return nil }
        return try thrift(offset: chunk.columnIndexOffset, length: chunk.columnIndexLength, what: "column index", ParquetColumnIndex.read)
    }
}
