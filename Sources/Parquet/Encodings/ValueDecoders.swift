import ArrowCore

/// The non-null values of a leaf column decoded so far, in physical form: fixed-width values
/// packed (booleans one byte each, INT96 twelve bytes, FIXED_LEN_BYTE_ARRAY its width), byte
/// arrays as Int32 end offsets and their bytes, or, for a dictionary kept as one, Int32 indices.
final class LeafValues {
    let physicalType: ParquetPhysicalType
    /// Bytes per value; 0 for BYTE_ARRAY.
    let width: Int
    /// Fixed-width values, or the bytes of byte arrays.
    let values = GrowableBuffer()
    /// Byte arrays: the offset after each value, after a leading 0.
    let offsets = GrowableBuffer()
    /// Dictionary indices, when the column's dictionary is kept.
    let indices = GrowableBuffer()
    /// The values (or indices) held.
    var count = 0
    /// The column's name, for errors.
    let column: String
    /// Whether dictionary-encoded pages append indices (the column is read as an Arrow
    /// dictionary) rather than the values they stand for.
    var keepsDictionary = false

    init(physicalType: ParquetPhysicalType, typeLength: Int, column: String) {
        self.physicalType = physicalType
        self.column = column
        switch physicalType {
        case .boolean: width = 1
        case .int32, .float: width = 4
        case .int64, .double: width = 8
        case .int96: width = 12
        case .fixedLenByteArray: width = typeLength
        case .byteArray: width = 0
        }
        if physicalType == .byteArray { offsets.append(Int32(0)) }
    }

    var isByteArray: Bool { physicalType == .byteArray }

    /// Starts a new batch.
    func reset() {
        values.removeAll()
        offsets.removeAll()
        indices.removeAll()
        count = 0
        if isByteArray { offsets.append(Int32(0)) }
    }

    /// Appends one byte array.
    @inline(__always)
    func appendByteArray(_ bytes: UnsafeRawPointer, count n: Int) throws(ParquetError) {
        values.append(bytes, count: n)
        guard values.count <= Int(Int32.max) else {
            throw ParquetError("column \(column): a batch holds more than 2 GiB of values; read it in smaller batches")
        }
        offsets.append(Int32(truncatingIfNeeded: values.count))
        count += 1
    }

    /// Replaces the dictionary indices held by the values they stand for, and stops keeping
    /// the dictionary (a page of the chunk fell back to another encoding).
    func materializeIndices(_ dictionary: DictionaryValues?) throws(ParquetError) {
        guard keepsDictionary else { return }
        keepsDictionary = false
        let n = count
        count = 0
        guard n > 0 else { return }
        guard let dictionary else { throw ParquetError("dictionary indices without a dictionary") }
        let source = dictionary.values
        for i in 0..<n {
            let index = Int(indices.load(i, as: Int32.self))
            if isByteArray {
                let value = source.byteArray(index)
                try appendByteArray(value.baseAddress ?? UnsafeRawPointer(source.values.base), count: value.count)
            } else {
                values.append(source.values.base + index * width, count: width)
                count += 1
            }
        }
        indices.removeAll()
    }

    /// A copy of these values.
    func copy() -> LeafValues {
        let copy = LeafValues(physicalType: physicalType, typeLength: width, column: column)
        copy.values.append(values.base, count: values.count)
        if isByteArray {
            copy.offsets.removeAll()
            copy.offsets.append(offsets.base, count: offsets.count)
        }
        copy.count = count
        return copy
    }

    /// The bytes of byte array `i`.
    @inline(__always)
    func byteArray(_ i: Int) -> UnsafeRawBufferPointer {
        let start = Int(offsets.load(i, as: Int32.self)), end = Int(offsets.load(i + 1, as: Int32.self))
        return UnsafeRawBufferPointer(start: values.base + start, count: end - start)
    }
}

/// A dictionary page's values, decoded once per column chunk.
final class DictionaryValues {
    let values: LeafValues
    var count: Int { values.count }

    init(_ values: LeafValues) { self.values = values }
}

/// Decodes a data page's values, a run at a time, into a ``LeafValues``.
protocol ValueDecoder: AnyObject {
    /// Appends the next `n` values.
    func read(_ n: Int, into out: LeafValues) throws(ParquetError)
}

/// The decoder for `encoding` over `bytes` (which the decoder keeps alive through `page`),
/// holding `valueCount` non-null values.
func makeValueDecoder(_ encoding: ParquetEncoding, page: Buffer, bytes: UnsafeRawBufferPointer, valueCount: Int,
                      column: LeafValues, dictionary: DictionaryValues?) throws(ParquetError) -> any ValueDecoder {
    let type = column.physicalType
    switch encoding {
    case .plain:
        switch type {
        case .boolean: return PlainBooleanDecoder(page: page, bytes: bytes)
        case .byteArray: return PlainByteArrayDecoder(page: page, bytes: bytes)
        default: return PlainFixedDecoder(page: page, bytes: bytes, width: column.width)
        }
    case .plainDictionary, .rleDictionary:
        guard let dictionary else { throw ParquetError("a dictionary-encoded page without a dictionary page") }
        return try DictionaryIndexDecoder(page: page, bytes: bytes, dictionary: dictionary)
    case .rle:
        guard type == .boolean else { throw ParquetError("RLE encodes only booleans' values, not \(type)") }
        var cursor = ByteCursor(bytes)
        let length = Int(try cursor.littleEndianUInt32())
        let runs = try cursor.take(length, what: "RLE booleans")
        return try RLEBooleanDecoder(page: page, decoder: RLEHybridDecoder(runs, bitWidth: 1))
    case .byteStreamSplit:
        guard type != .boolean, type != .byteArray, type != .int96 else {
            throw ParquetError("BYTE_STREAM_SPLIT does not encode \(type)")
        }
        return try ByteStreamSplitDecoder(page: page, bytes: bytes, width: column.width)
    case .deltaBinaryPacked:
        guard type == .int32 || type == .int64 else { throw ParquetError("DELTA_BINARY_PACKED does not encode \(type)") }
        var cursor = ByteCursor(bytes)
        let decoded = try DeltaBinaryPacked.decode(&cursor, limit: valueCount)
        return DecodedIntegersDecoder(decoded, width: column.width)
    case .deltaLengthByteArray:
        guard type == .byteArray else { throw ParquetError("DELTA_LENGTH_BYTE_ARRAY does not encode \(type)") }
        return try DeltaLengthByteArrayDecoder(page: page, bytes: bytes, limit: valueCount)
    case .deltaByteArray:
        guard type == .byteArray || type == .fixedLenByteArray else { throw ParquetError("DELTA_BYTE_ARRAY does not encode \(type)") }
        return try DeltaByteArrayDecoder(bytes: bytes, limit: valueCount, fixedWidth: type == .fixedLenByteArray ? column.width : nil)
    default:
        throw ParquetError("the \(encoding) encoding is not supported")
    }
}

final class PlainFixedDecoder: ValueDecoder {
    let page: Buffer
    var cursor: ByteCursor
    let width: Int

    init(page: Buffer, bytes: UnsafeRawBufferPointer, width: Int) {
        self.page = page
        cursor = ByteCursor(bytes)
        self.width = width
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        let bytes = try cursor.take(n * width, what: "\(n) PLAIN values")
        if let base = bytes.baseAddress { out.values.append(base, count: bytes.count) }
        out.count += n
    }
}

final class PlainBooleanDecoder: ValueDecoder {
    let page: Buffer
    let bytes: UnsafeRawBufferPointer
    var bit = 0

    init(page: Buffer, bytes: UnsafeRawBufferPointer) {
        self.page = page
        self.bytes = bytes
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        guard n <= bytes.count * 8 - bit else { throw ParquetError("\(n) PLAIN booleans need more bytes than the page has") }
        out.values.reserve(n)
        let target = out.values.end.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n {
            let b = bit + i
            target[i] = (bytes[b >> 3] >> UInt8(b & 7)) & 1
        }
        out.values.advance(n)
        bit += n
        out.count += n
    }
}

final class RLEBooleanDecoder: ValueDecoder {
    let page: Buffer
    var decoder: RLEHybridDecoder

    init(page: Buffer, decoder: RLEHybridDecoder) {
        self.page = page
        self.decoder = decoder
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        out.values.reserve(n)
        try decoder.decodeExactly(into: out.values.end.assumingMemoryBound(to: UInt8.self), count: n, what: "RLE booleans")
        out.values.advance(n)
        out.count += n
    }
}

final class PlainByteArrayDecoder: ValueDecoder {
    let page: Buffer
    var cursor: ByteCursor

    init(page: Buffer, bytes: UnsafeRawBufferPointer) {
        self.page = page
        cursor = ByteCursor(bytes)
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        // The lengths first, to reserve exactly what the values take (a page may hold a gigabyte).
        var total = 0, scan = cursor.position
        for _ in 0..<n {
            guard cursor.count - scan >= 4 else { throw ParquetError("a page ends inside a 4-byte length") }
            let length = Int(UInt32(littleEndian: cursor.base.loadUnaligned(fromByteOffset: scan, as: UInt32.self)))
            guard length <= cursor.count - scan - 4 else {
                throw ParquetError("a PLAIN byte array of \(length) bytes; the page has \(cursor.count - scan - 4) left")
            }
            scan += 4 + length
            total += length
        }
        out.offsets.reserve(4 * n)
        out.values.reserve(total)
        guard out.values.count + total <= Int(Int32.max) else {
            // Past 2 GiB in a batch: value by value, so that the error comes where it is true.
            for _ in 0..<n {
                let length = Int(try cursor.littleEndianUInt32())
                let bytes = try cursor.take(length, what: "a PLAIN byte array")
                try out.appendByteArray(bytes.baseAddress ?? cursor.base, count: length)
            }
            return
        }
        let data = out.values.end
        let offsets = out.offsets.end.assumingMemoryBound(to: Int32.self)
        var written = 0
        let base = out.values.count
        var position = cursor.position
        let end = cursor.count
        for i in 0..<n {
            guard end - position >= 4 else { throw ParquetError("a page ends inside a 4-byte length") }
            let length = Int(UInt32(littleEndian: cursor.base.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            position += 4
            guard length <= end - position else {
                throw ParquetError("a PLAIN byte array of \(length) bytes; the page has \(end - position) left")
            }
            (data + written).copyMemory(from: cursor.base + position, byteCount: length)
            position += length
            written += length
            offsets[i] = Int32(truncatingIfNeeded: base + written)
        }
        cursor.position = position
        out.values.advance(written)
        out.offsets.advance(4 * n)
        out.count += n
    }
}

final class DictionaryIndexDecoder: ValueDecoder {
    let page: Buffer
    var decoder: RLEHybridDecoder
    let dictionary: DictionaryValues
    var scratch: [Int32] = []

    init(page: Buffer, bytes: UnsafeRawBufferPointer, dictionary: DictionaryValues) throws(ParquetError) {
        self.page = page
        var cursor = ByteCursor(bytes)
        let width = Int(try cursor.byte())
        guard width <= 32 else { throw ParquetError("dictionary indices of \(width) bits (at most 32)") }
        decoder = try RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: bytes[1...]), bitWidth: width)
        self.dictionary = dictionary
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        let size = dictionary.count
        if out.keepsDictionary {
            out.indices.reserve(4 * n)
            let target = out.indices.end.assumingMemoryBound(to: Int32.self)
            try decoder.decodeExactly(into: target, count: n, what: "dictionary indices")
            for i in 0..<n where UInt32(bitPattern: target[i]) >= UInt32(size) {
                throw ParquetError("dictionary index \(UInt32(bitPattern: target[i])) of a dictionary of \(size) values")
            }
            out.indices.advance(4 * n)
            out.count += n
            return
        }
        if scratch.count < n { scratch = [Int32](repeating: 0, count: n) }
        try scratch.withUnsafeMutableBufferPointer { (indices) throws(ParquetError) in
            guard let base = indices.baseAddress else { return }
            try decoder.decodeExactly(into: base, count: n, what: "dictionary indices")
            let source = dictionary.values
            for i in 0..<n where UInt32(bitPattern: base[i]) >= UInt32(size) {
                throw ParquetError("dictionary index \(UInt32(bitPattern: base[i])) of a dictionary of \(size) values")
            }
            if out.isByteArray {
                let sourceOffsets = UnsafeRawPointer(source.offsets.base).assumingMemoryBound(to: Int32.self)
                var total = 0
                for i in 0..<n {
                    let index = Int(base[i])
                    total &+= Int(sourceOffsets[index + 1] &- sourceOffsets[index])
                }
                guard out.values.count + total <= Int(Int32.max) else {
                    throw ParquetError("column \(out.column): a batch holds more than 2 GiB of values; read it in smaller batches")
                }
                // Slack on both sides, so that short values copy as whole words.
                out.values.reserve(total + 32)
                out.offsets.reserve(4 * n)
                let data = out.values.end, from = UnsafeRawPointer(source.values.base)
                let sourceEnd = source.values.capacity
                let offsets = out.offsets.end.assumingMemoryBound(to: Int32.self)
                var written = 0
                let start = out.values.count
                for i in 0..<n {
                    let index = Int(base[i])
                    let begin = Int(sourceOffsets[index]), length = Int(sourceOffsets[index + 1]) - begin
                    if length <= 32 && begin + 32 <= sourceEnd {
                        let target = data + written
                        for k in stride(from: 0, to: length, by: 8) {
                            target.storeBytes(of: from.loadUnaligned(fromByteOffset: begin + k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
                        }
                    } else {
                        (data + written).copyMemory(from: from + begin, byteCount: length)
                    }
                    written += length
                    offsets[i] = Int32(truncatingIfNeeded: start + written)
                }
                out.values.advance(written)
                out.offsets.advance(4 * n)
                out.count += n
            } else {
                let width = out.width
                out.values.reserve(n * width)
                let target = out.values.end, from = UnsafeRawPointer(source.values.base)
                switch width {
                case 4:
                    for i in 0..<n {
                        target.storeBytes(of: from.loadUnaligned(fromByteOffset: Int(base[i]) * 4, as: UInt32.self),
                                          toByteOffset: i * 4, as: UInt32.self)
                    }
                case 8:
                    for i in 0..<n {
                        target.storeBytes(of: from.loadUnaligned(fromByteOffset: Int(base[i]) * 8, as: UInt64.self),
                                          toByteOffset: i * 8, as: UInt64.self)
                    }
                default:
                    for i in 0..<n { (target + i * width).copyMemory(from: from + Int(base[i]) * width, byteCount: width) }
                }
                out.values.advance(n * width)
                out.count += n
            }
        }
    }
}

final class ByteStreamSplitDecoder: ValueDecoder {
    let page: Buffer
    let bytes: UnsafeRawBufferPointer
    let width: Int
    let total: Int
    var index = 0

    init(page: Buffer, bytes: UnsafeRawBufferPointer, width: Int) throws(ParquetError) {
        guard width > 0, bytes.count % width == 0 else {
            throw ParquetError("BYTE_STREAM_SPLIT data of \(bytes.count) bytes is not a whole number of \(width)-byte values")
        }
        self.page = page
        self.bytes = bytes
        self.width = width
        total = bytes.count / width
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        guard n <= total - index, let source = bytes.baseAddress else {
            if n == 0 { return }
            throw ParquetError("BYTE_STREAM_SPLIT data holds \(total) values; \(index + n) wanted")
        }
        out.values.reserve(n * width)
        let target = out.values.end.assumingMemoryBound(to: UInt8.self)
        let from = source.assumingMemoryBound(to: UInt8.self)
        for k in 0..<width {
            let stream = from + k * total + index
            for i in 0..<n { target[i * width + k] = stream[i] }
        }
        out.values.advance(n * width)
        index += n
        out.count += n
    }
}

/// Integers decoded from a whole page at once (DELTA_BINARY_PACKED), handed out in order.
final class DecodedIntegersDecoder: ValueDecoder {
    let values: [Int64]
    let width: Int
    var index = 0

    init(_ values: [Int64], width: Int) {
        self.values = values
        self.width = width
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        guard n <= values.count - index else {
            throw ParquetError("DELTA_BINARY_PACKED data holds \(values.count) values; \(index + n) wanted")
        }
        out.values.reserve(n * width)
        let target = out.values.end
        if width == 4 {
            for i in 0..<n { target.storeBytes(of: Int32(truncatingIfNeeded: values[index + i]), toByteOffset: 4 * i, as: Int32.self) }
        } else if n > 0 {
            values.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { target.copyMemory(from: base + 8 * index, byteCount: 8 * n) }
            }
        }
        out.values.advance(n * width)
        index += n
        out.count += n
    }
}

/// DELTA_BINARY_PACKED: blocks of miniblocks of bit-packed deltas from a first value.
enum DeltaBinaryPacked {
    /// Decodes a header and its values; at most `limit` values are kept (the page holds that many).
    static func decode(_ cursor: inout ByteCursor, limit: Int) throws(ParquetError) -> [Int64] {
        let blockSize = try cursor.uleb(), miniblocks = try cursor.uleb(), total = try cursor.uleb()
        let first = try cursor.zigzag()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw ParquetError("DELTA_BINARY_PACKED blocks of \(blockSize) values in \(miniblocks) miniblocks")
        }
        guard total <= UInt64(Int32.max) else { throw ParquetError("DELTA_BINARY_PACKED claims \(total) values") }
        let wanted = Swift.min(Int(total), limit)
        var out = [Int64]()
        out.reserveCapacity(wanted)
        if total == 0 { return out }
        out.append(first)
        var last = UInt64(bitPattern: first)
        var left = Int(total) - 1
        let perMiniblock = Int(blockSize / miniblocks)
        var deltas = [UInt64](repeating: 0, count: perMiniblock)
        while left > 0 {
            let minDelta = UInt64(bitPattern: try cursor.zigzag())
            let widths = try cursor.take(Int(miniblocks), what: "DELTA_BINARY_PACKED bit widths")
            for m in 0..<Int(miniblocks) where left > 0 {
                let width = Int(widths[m])
                guard width <= 64 else { throw ParquetError("DELTA_BINARY_PACKED miniblock of \(width) bits") }
                let size = perMiniblock * width / 8
                // The last miniblock may stop where its values do.
                let available = Swift.min(size, cursor.remaining)
                let count = Swift.min(perMiniblock, left)
                guard available * 8 >= count * width else {
                    throw ParquetError("DELTA_BINARY_PACKED data ends inside a miniblock")
                }
                let bytes = try cursor.take(available, what: "a DELTA_BINARY_PACKED miniblock")
                deltas.withUnsafeMutableBufferPointer { d in
                    unpack64(bytes, width: width, count: count, into: d.baseAddress.unsafelyUnwrapped)
                }
                for i in 0..<count {
                    last = last &+ minDelta &+ deltas[i]
                    if out.count < wanted { out.append(Int64(bitPattern: last)) }
                }
                left -= count
            }
        }
        return out
    }

    /// Unpacks values of up to 64 bits, least significant bit first.
    static func unpack64(_ bytes: UnsafeRawBufferPointer, width: Int, count: Int, into out: UnsafeMutablePointer<UInt64>) {
        guard width > 0, let base = bytes.baseAddress else {
            out.initialize(repeating: 0, count: count)
            return
        }
        if width <= 32 {
            unpackBits(base, byteCount: bytes.count, bitOffset: 0, width: width, count: count, into: out)
            return
        }
        var bit = 0
        for i in 0..<count {
            var v: UInt64 = 0
            for k in 0..<width {
                let b = bit + k
                v |= UInt64((bytes[b >> 3] >> UInt8(b & 7)) & 1) << UInt64(k)
            }
            out[i] = v
            bit += width
        }
    }

    /// Decodes lengths, which must be non-negative.
    static func lengths(_ cursor: inout ByteCursor, limit: Int, what: String) throws(ParquetError) -> [Int] {
        let values = try decode(&cursor, limit: limit)
        var out = [Int]()
        out.reserveCapacity(values.count)
        for v in values {
            guard v >= 0, v <= Int64(Int32.max) else { throw ParquetError("\(what) of \(v)") }
            out.append(Int(v))
        }
        return out
    }
}

final class DeltaLengthByteArrayDecoder: ValueDecoder {
    let page: Buffer
    let lengths: [Int]
    var cursor: ByteCursor
    var index = 0

    init(page: Buffer, bytes: UnsafeRawBufferPointer, limit: Int) throws(ParquetError) {
        self.page = page
        var cursor = ByteCursor(bytes)
        lengths = try DeltaBinaryPacked.lengths(&cursor, limit: limit, what: "a DELTA_LENGTH_BYTE_ARRAY length")
        self.cursor = cursor
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        guard n <= lengths.count - index else {
            throw ParquetError("DELTA_LENGTH_BYTE_ARRAY data holds \(lengths.count) values; \(index + n) wanted")
        }
        for i in index..<index + n {
            let bytes = try cursor.take(lengths[i], what: "a DELTA_LENGTH_BYTE_ARRAY value")
            try out.appendByteArray(bytes.baseAddress ?? cursor.base, count: bytes.count)
        }
        index += n
    }
}

/// DELTA_BYTE_ARRAY: each value the previous one's prefix and a suffix. Decoded whole, since
/// every value depends on the one before.
final class DeltaByteArrayDecoder: ValueDecoder {
    let decoded: LeafValues
    let fixedWidth: Int?
    var index = 0

    init(bytes: UnsafeRawBufferPointer, limit: Int, fixedWidth: Int?) throws(ParquetError) {
        var cursor = ByteCursor(bytes)
        let prefixes = try DeltaBinaryPacked.lengths(&cursor, limit: limit, what: "a DELTA_BYTE_ARRAY prefix length")
        let suffixes = try DeltaBinaryPacked.lengths(&cursor, limit: limit, what: "a DELTA_BYTE_ARRAY suffix length")
        guard prefixes.count == suffixes.count else {
            throw ParquetError("DELTA_BYTE_ARRAY has \(prefixes.count) prefixes for \(suffixes.count) suffixes")
        }
        self.fixedWidth = fixedWidth
        decoded = LeafValues(physicalType: .byteArray, typeLength: 0, column: "")
        var previous = 0..<0
        for i in 0..<prefixes.count {
            let prefix = prefixes[i]
            guard prefix <= previous.count else {
                throw ParquetError("DELTA_BYTE_ARRAY value \(i) shares \(prefix) bytes with a value of \(previous.count)")
            }
            let suffix = try cursor.take(suffixes[i], what: "a DELTA_BYTE_ARRAY suffix")
            let start = decoded.values.count
            decoded.values.reserve(prefix + suffix.count)
            decoded.values.end.copyMemory(from: decoded.values.base + previous.lowerBound, byteCount: prefix)
            decoded.values.advance(prefix)
            if let base = suffix.baseAddress { decoded.values.append(base, count: suffix.count) }
            guard decoded.values.count <= Int(Int32.max) else { throw ParquetError("a DELTA_BYTE_ARRAY page decodes to more than 2 GiB") }
            decoded.offsets.append(Int32(decoded.values.count))
            decoded.count += 1
            previous = start..<decoded.values.count
            if let fixedWidth, previous.count != fixedWidth {
                throw ParquetError("a DELTA_BYTE_ARRAY value of \(previous.count) bytes in a FIXED_LEN_BYTE_ARRAY(\(fixedWidth)) column")
            }
        }
    }

    func read(_ n: Int, into out: LeafValues) throws(ParquetError) {
        guard n <= decoded.count - index else {
            throw ParquetError("DELTA_BYTE_ARRAY data holds \(decoded.count) values; \(index + n) wanted")
        }
        for i in index..<index + n {
            let value = decoded.byteArray(i)
            if fixedWidth != nil {
                if let base = value.baseAddress { out.values.append(base, count: value.count) }
                out.count += 1
            } else {
                try out.appendByteArray(value.baseAddress ?? UnsafeRawPointer(decoded.values.base), count: value.count)
            }
        }
        index += n
    }
}
