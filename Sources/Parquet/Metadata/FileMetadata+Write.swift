// The footer and page headers written in Thrift's compact protocol, with the field ids of
// parquet.thrift (the same ones the reader in FileMetadata.swift decodes).

extension ParquetFileMetadata {
    /// The footer's Thrift bytes.
    func thrift() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.nested { w in
            w.i32(1, version)
            w.list(2, structs: schema) { w, e in e.write(&w) }
            w.i64(3, numRows)
            w.list(4, structs: rowGroups) { w, g in g.write(&w) }
            if let keyValueMetadata { w.list(5, structs: keyValueMetadata) { w, kv in kv.write(&w) } }
            w.string(6, createdBy)
            if let columnOrders {
                w.list(7, structs: columnOrders) { w, order in
                    switch order {
                    case .typeDefined: w.empty(1)
                    case .ieee754TotalOrder: w.empty(2)
                    case .int96Timestamp: w.empty(3)
                    case .other(let id): w.empty(id)
                    }
                }
            }
        }
        return w.bytes
    }
}

extension ParquetKeyValue {
    func write(_ w: inout ThriftCompactWriter) {
        w.string(1, key)
        w.string(2, value)
    }
}

extension ParquetSchemaElement {
    func write(_ w: inout ThriftCompactWriter) {
        w.i32(1, type?.rawValue)
        w.i32(2, typeLength)
        w.i32(3, repetition?.rawValue)
        w.string(4, name)
        w.i32(5, numChildren)
        w.i32(6, convertedType?.rawValue)
        w.i32(7, scale)
        w.i32(8, precision)
        w.i32(9, fieldID)
        if let logicalType { w.structure(10) { logicalType.write(&$0) } }
    }
}

extension ParquetLogicalType {
    func write(_ w: inout ThriftCompactWriter) {
        switch self {
        case .string: w.empty(1)
        case .map: w.empty(2)
        case .list: w.empty(3)
        case .enum: w.empty(4)
        case .decimal(let scale, let precision):
            w.structure(5) { w in
                w.i32(1, scale)
                w.i32(2, precision)
            }
        case .date: w.empty(6)
        case .time(let utc, let unit), .timestamp(let utc, let unit):
            let id: Int16
            if case .time = self { id = 7 } else { id = 8 }
            w.structure(id) { w in
                w.bool(1, utc)
                w.structure(2) { w in
                    switch unit {
                    case .milliseconds: w.empty(1)
                    case .microseconds: w.empty(2)
                    case .nanoseconds: w.empty(3)
                    }
                }
            }
        case .integer(let bits, let signed):
            w.structure(10) { w in
                w.i8(1, bits)
                w.bool(2, signed)
            }
        case .null: w.empty(11)
        case .json: w.empty(12)
        case .bson: w.empty(13)
        case .uuid: w.empty(14)
        case .float16: w.empty(15)
        case .variant, .geometry, .geography, .interval, .other:
            // Not written by this writer.
            break
        }
    }
}

extension ParquetStatistics {
    func write(_ w: inout ThriftCompactWriter) {
        w.binary(1, max)
        w.binary(2, min)
        w.i64(3, nullCount)
        w.i64(4, distinctCount)
        w.binary(5, maxValue)
        w.binary(6, minValue)
        if let isMaxValueExact { w.bool(7, isMaxValueExact) }
        if let isMinValueExact { w.bool(8, isMinValueExact) }
    }
}

extension ParquetColumnMetadata {
    func write(_ w: inout ThriftCompactWriter) {
        w.i32(1, type.rawValue)
        w.list(2, i32: encodings.map(\.rawValue))
        w.list(3, strings: pathInSchema)
        w.i32(4, codec.rawValue)
        w.i64(5, numValues)
        w.i64(6, totalUncompressedSize)
        w.i64(7, totalCompressedSize)
        if let keyValueMetadata { w.list(8, structs: keyValueMetadata) { w, kv in kv.write(&w) } }
        w.i64(9, dataPageOffset)
        w.i64(10, indexPageOffset)
        w.i64(11, dictionaryPageOffset)
        if let statistics { w.structure(12) { statistics.write(&$0) } }
        if let encodingStats {
            w.list(13, structs: encodingStats) { w, s in
                w.i32(1, s.pageType)
                w.i32(2, s.encoding.rawValue)
                w.i32(3, s.count)
            }
        }
        w.i64(14, bloomFilterOffset)
        w.i32(15, bloomFilterLength)
    }
}

extension ParquetColumnChunk {
    func write(_ w: inout ThriftCompactWriter) {
        w.string(1, filePath)
        w.i64(2, fileOffset)
        if let metadata { w.structure(3) { metadata.write(&$0) } }
        w.i64(4, offsetIndexOffset)
        w.i32(5, offsetIndexLength)
        w.i64(6, columnIndexOffset)
        w.i32(7, columnIndexLength)
    }
}

extension ParquetRowGroup {
    func write(_ w: inout ThriftCompactWriter) {
        w.list(1, structs: columns) { w, c in c.write(&w) }
        w.i64(2, totalByteSize)
        w.i64(3, numRows)
        w.i64(5, fileOffset)
        w.i64(6, totalCompressedSize)
        if let ordinal { w.i16(7, ordinal) }
    }
}

extension ParquetPageHeader {
    /// The header's Thrift bytes.
    func thrift() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.nested { w in
            let type: Int32
            switch kind {
            case .dataPage: type = 0
            case .indexPage: type = 1
            case .dictionaryPage: type = 2
            case .dataPageV2: type = 3
            case .other(let t): type = t
            }
            w.i32(1, type)
            w.i32(2, uncompressedPageSize)
            w.i32(3, compressedPageSize)
            w.i32(4, crc)
            switch kind {
            case .dataPage(let values, let encoding, let definition, let repetition, let statistics):
                w.structure(5) { w in
                    w.i32(1, values)
                    w.i32(2, encoding.rawValue)
                    w.i32(3, definition.rawValue)
                    w.i32(4, repetition.rawValue)
                    if let statistics { w.structure(5) { statistics.write(&$0) } }
                }
            case .dictionaryPage(let values, let encoding, let sorted):
                w.structure(7) { w in
                    w.i32(1, values)
                    w.i32(2, encoding.rawValue)
                    if let sorted { w.bool(3, sorted) }
                }
            case .dataPageV2(let values, let nulls, let rows, let encoding, let definition, let repetition, let compressed, let statistics):
                w.structure(8) { w in
                    w.i32(1, values)
                    w.i32(2, nulls)
                    w.i32(3, rows)
                    w.i32(4, encoding.rawValue)
                    w.i32(5, definition)
                    w.i32(6, repetition)
                    w.bool(7, compressed)
                    if let statistics { w.structure(8) { statistics.write(&$0) } }
                }
            case .indexPage, .other:
                break
            }
        }
        return w.bytes
    }
}
