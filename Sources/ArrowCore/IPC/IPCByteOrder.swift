/// Converting arrays between this machine's byte order (little-endian) and big-endian, as
/// IPC data whose schema says `endianness: Big` needs: every multi-byte value of every buffer
/// (values, offsets, sizes, view lengths and positions, dense union offsets, dictionary
/// indices, decimals as whole integers, each field of an interval), children included.
/// Validity bitmaps, booleans, bytes and type ids have no byte order.
enum IPCByteOrder {
    /// `data` with its buffers' byte order reversed. `toNative` says the direction (it matters
    /// for views, whose length decides their layout); `dictionaries` whether the dictionary of
    /// a dictionary-encoded array is converted too (the writer's case: a reader loads them on
    /// their own).
    static func swapped(_ data: ArrayData, toNative: Bool, dictionaries: Bool) throws(ArrowError) -> ArrayData {
        // Every type is handled below: the switch is exhaustive.
        var buffers = data.buffers
        func swap(_ index: Int, width: Int) {
            guard index < buffers.count, buffers[index].count > 0 else { return }
            buffers[index] = reversed(buffers[index], groups: [width])
        }
        func swapGroups(_ index: Int, _ groups: [Int]) {
            guard index < buffers.count, buffers[index].count > 0 else { return }
            buffers[index] = reversed(buffers[index], groups: groups)
        }
        var dictionary = data.dictionary
        switch data.type {
        case .null, .bool, .int8, .uint8, .fixedSizeBinary, .struct, .fixedSizeList, .runEndEncoded:
            break
        case .int16, .uint16, .float16:
            swap(1, width: 2)
        case .int32, .uint32, .float32, .date32, .time32, .interval(.yearMonth), .interval(.dayTime):
            // A day-time interval is two 32-bit fields.
            swap(1, width: 4)
        case .int64, .uint64, .float64, .date64, .time64, .timestamp, .duration:
            swap(1, width: 8)
        case .interval(.monthDayNano):
            swapGroups(1, [4, 4, 8])
        case .decimal(let bits, _, _):
            swap(1, width: bits / 8)
        case .binary, .utf8, .list, .map:
            swap(1, width: 4)
        case .largeBinary, .largeUtf8, .largeList:
            swap(1, width: 8)
        case .listView:
            swap(1, width: 4)
            swap(2, width: 4)
        case .largeListView:
            swap(1, width: 8)
            swap(2, width: 8)
        case .binaryView, .utf8View:
            if buffers.count > 1 { buffers[1] = swappedViews(buffers[1], toNative: toNative) }
        case .union(let mode, _, _):
            if mode == .dense { swap(2, width: 4) }
        case .dictionary(let index, _, _):
            swap(1, width: index.byteWidth ?? 1)
            if dictionaries, let values = data.dictionary {
                dictionary = try swapped(values, toNative: toNative, dictionaries: true)
            }
        }
        let children = try data.children.map { child throws(ArrowError) in try swapped(child, toNative: toNative, dictionaries: dictionaries) }
        return ArrayData(type: data.type, length: data.length, offset: data.offset, nullCount: data.nullCount, buffers: buffers,
                         children: children, dictionary: dictionary)
    }

    /// The widths of the byte-ordered fields of one value of a fixed-width type (dictionary
    /// indices included); empty for bytes and bits.
    static func groups(_ type: DataType) -> [Int] {
        switch type {
        case .interval(.monthDayNano): return [4, 4, 8]
        case .interval(.dayTime): return [4, 4]
        case .dictionary(let index, _, _): return groups(index)
        case .fixedSizeBinary, .bool, .int8, .uint8: return []
        default: return type.byteWidth.map { $0 > 1 ? [$0] : [] } ?? []
        }
    }

    /// `batch` with every column converted.
    static func swapped(_ batch: RecordBatch, toNative: Bool, dictionaries: Bool) throws(ArrowError) -> RecordBatch {
        let columns = try batch.columns.map { column throws(ArrowError) in try swapped(column, toNative: toNative, dictionaries: dictionaries) }
        return try RecordBatch(schema: batch.schema, columns: columns, length: batch.length)
    }

    /// A copy of `buffer` where each run of `groups` widths (repeated) has its bytes reversed;
    /// a tail shorter than a whole record stays as it is.
    static func reversed(_ buffer: Buffer, groups: [Int]) -> Buffer {
        var bytes = [UInt8](buffer.bytes)
        let record = groups.reduce(0, +)
        guard record > 1 else { return buffer }
        var position = 0
        while position + record <= bytes.count {
            var start = position
            for width in groups {
                bytes[start..<(start + width)].reverse()
                start += width
            }
            position += record
        }
        return Buffer(copying: bytes)
    }

    /// Views: a 32-bit length, then 12 inline bytes, or a 4-byte prefix, a 32-bit buffer index
    /// and a 32-bit offset when the length is over 12.
    static func swappedViews(_ buffer: Buffer, toNative: Bool) -> Buffer {
        var bytes = [UInt8](buffer.bytes)
        var position = 0
        while position + 16 <= bytes.count {
            let before = bytes[position..<(position + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            bytes[position..<(position + 4)].reverse()
            let after = bytes[position..<(position + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            // The length as this machine reads it: after the swap when converting to native,
            // before it when converting from native. Both byte strings read big-endian above,
            // so the native (little-endian) value is the other one.
            let length = toNative ? before : after
            if length > 12 {
                bytes[(position + 8)..<(position + 12)].reverse()
                bytes[(position + 12)..<(position + 16)].reverse()
            }
            position += 16
        }
        return Buffer(copying: bytes)
    }
}
