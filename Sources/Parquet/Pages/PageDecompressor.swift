import ArrowCore
import CBrotli
import CSnappy
import CZlib

/// Decompresses Parquet pages: the one place that calls snappy, zlib and brotli; LZ4 and
/// Zstandard go through ArrowCore's wrappers.
///
/// Every page says how large it is uncompressed; a page that decodes to another size is an
/// error, and a size no codec could reach from the compressed bytes is refused before the
/// output is allocated.
enum PageDecompressor {
    /// The largest uncompressed page: what the header's i32 can say. Real files hold pages of
    /// a gigabyte (parquet-testing's large_string_map.brotli.parquet); the ratio check below
    /// keeps a small page from claiming one.
    static let maximumPageSize = Int(Int32.max)

    /// The bytes of `input` decoded with `codec` to exactly `uncompressedSize` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, codec: ParquetCompression, uncompressedSize: Int) throws(ParquetError) -> Buffer {
        try decompress(input, codec: codec, uncompressedSize: uncompressedSize, prefix: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// `prefix` followed by the bytes of `input` decoded with `codec` to exactly
    /// `uncompressedSize` bytes, in one allocation (a v2 page's levels and its values).
    static func decompress(_ input: UnsafeRawBufferPointer, codec: ParquetCompression, uncompressedSize: Int,
                           prefix: UnsafeRawBufferPointer) throws(ParquetError) -> Buffer {
        guard uncompressedSize >= 0, uncompressedSize <= maximumPageSize else {
            throw ParquetError("a page claims \(uncompressedSize) uncompressed bytes (the limit is \(maximumPageSize))")
        }
        if codec == .uncompressed {
            guard input.count == uncompressedSize else {
                throw ParquetError("an uncompressed page of \(input.count) bytes claims \(uncompressedSize)")
            }
        } else if !(uncompressedSize == 0 && input.isEmpty) {
            // No codec here but Brotli turns a byte into more than about 1,400 (Zstandard's RLE
            // blocks reach 32,768:1, so its bound is wider): a larger claim is a lie told to make us
            // allocate. Brotli's ratio has no useful bound (1,627 bytes of a real file hold a
            // gigabyte); its output is written only as it decodes.
            let ratio = codec == .zstd ? 65_536 : 2_048
            let (scaled, overflow) = input.count.multipliedReportingOverflow(by: ratio)
            guard codec == .brotli || overflow || uncompressedSize <= scaled + 4096 else {
                throw ParquetError("\(input.count) \(codec) bytes cannot hold the \(uncompressedSize) bytes the page claims")
            }
        }
        // Uninitialised: what the decoder does not write is never touched, so a false claim
        // costs address space, not memory.
        let allocation = AlignedAllocation(capacity: prefix.count + uncompressedSize, zeroed: false)
        if prefix.count > 0, let source = prefix.baseAddress { allocation.base.copyMemory(from: source, byteCount: prefix.count) }
        let target = UnsafeMutableRawBufferPointer(start: allocation.base + prefix.count, count: uncompressedSize)
        let produced: Int
        if uncompressedSize == 0 && input.isEmpty {
            // An empty page (a v2 data page of only nulls has no values) needs no codec.
            produced = 0
        } else {
            switch codec {
            case .uncompressed:
                if let source = input.baseAddress { target.baseAddress?.copyMemory(from: source, byteCount: input.count) }
                produced = input.count
            case .snappy: produced = try snappy(input, into: target)
            case .gzip: produced = try gzip(input, into: target)
            case .brotli: produced = try brotli(input, into: target)
            case .zstd: produced = try zstd(input, into: target)
            case .lz4Raw: produced = try lz4Raw(input, into: target)
            case .lz4: produced = try lz4Hadoop(input, into: target)
            default: throw ParquetError("the \(codec) codec is not supported")
            }
        }
        guard produced == uncompressedSize else {
            throw ParquetError("a \(codec) page decompressed to \(produced) bytes, not the \(uncompressedSize) it claims")
        }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: prefix.count + uncompressedSize)
    }

    private static func snappy(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        guard let source = input.baseAddress?.assumingMemoryBound(to: CChar.self) else { throw ParquetError("an empty SNAPPY page") }
        var length = 0
        guard snappy_uncompressed_length(source, input.count, &length) == SNAPPY_OK, length == target.count else {
            throw ParquetError("SNAPPY page data is corrupt or of another size than the page claims")
        }
        guard length > 0 else { return 0 }
        guard let base = target.baseAddress?.assumingMemoryBound(to: CChar.self),
              snappy_uncompress(source, input.count, base, &length) == SNAPPY_OK else {
            throw ParquetError("SNAPPY page data is corrupt")
        }
        return length
    }

    /// A gzip (or zlib) stream; concatenated gzip members are one stream, as gunzip reads them.
    private static func gzip(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        var stream = z_stream()
        // 15 window bits, +32: detect the gzip or zlib header.
        guard czlib_inflate_init(&stream, 15 + 32) == Z_OK else { throw ParquetError("cannot start the GZIP decoder") }
        defer { inflateEnd(&stream) }
        guard let source = input.baseAddress, input.count <= Int(UInt32.max), target.count <= Int(UInt32.max) else {
            throw ParquetError("a GZIP page too large or empty")
        }
        stream.next_in = UnsafeMutablePointer(mutating: source.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(target.count)
        while true {
            let status = inflate(&stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                guard stream.avail_in > 0 else { return target.count - Int(stream.avail_out) }
                // Another member follows.
                guard inflateReset(&stream) == Z_OK else { throw ParquetError("cannot restart the GZIP decoder") }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_out == 0 && stream.avail_in > 0:
                throw ParquetError("GZIP page data is longer than the page claims")
            case Z_BUF_ERROR:
                throw ParquetError("GZIP page data is truncated")
            default:
                throw ParquetError("GZIP page data is corrupt (zlib status \(status))")
            }
        }
    }

    /// Brotli, streamed: the decoder's output is copied into `target` as it comes.
    private static func brotli(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        guard let decoder = BrotliDecoderCreateInstance(nil, nil, nil) else { throw ParquetError("cannot start the BROTLI decoder") }
        defer { BrotliDecoderDestroyInstance(decoder) }
        var produced = 0
        var availableIn = input.count
        var nextIn = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        while true {
            var availableOut = 0
            let result = BrotliDecoderDecompressStream(decoder, &availableIn, &nextIn, &availableOut, nil, nil)
            var taken = 0
            while let chunk = BrotliDecoderTakeOutput(decoder, &taken), taken > 0 {
                guard taken <= target.count - produced, let base = target.baseAddress else {
                    throw ParquetError("BROTLI page data is longer than the page claims")
                }
                (base + produced).copyMemory(from: chunk, byteCount: taken)
                produced += taken
                taken = 0
            }
            switch result {
            case BROTLI_DECODER_RESULT_SUCCESS:
                guard availableIn == 0 else { throw ParquetError("BROTLI page has bytes after its stream") }
                return produced
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                continue
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                throw ParquetError("BROTLI page data is truncated")
            default:
                throw ParquetError("BROTLI page data is corrupt")
            }
        }
    }

    private static func zstd(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        do {
            return try ZstdFrames.decompress(input, into: target)
        } catch {
            throw ParquetError("ZSTD page data is corrupt: \(error)")
        }
    }

    private static func lz4Raw(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        do {
            return try LZ4Block.decompress(input, into: target)
        } catch {
            throw ParquetError("LZ4_RAW page data is corrupt: \(error)")
        }
    }

    /// The deprecated LZ4 codec: Hadoop's framing (big-endian uncompressed and compressed
    /// sizes before each block), as most writers made it; some wrote raw LZ4 blocks, or LZ4
    /// frames, under the same codec, which are tried after it.
    private static func lz4Hadoop(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ParquetError) -> Int {
        if let produced = hadoopFrames(input, into: target) { return produced }
        if let produced = try? LZ4Block.decompress(input, into: target), produced == target.count { return produced }
        do {
            let decoded = try CompressionCodec.lz4Frame.decompress(Buffer(copying: input), uncompressedLength: target.count)
            decoded.withUnsafeBytes { target.copyMemory(from: $0) }
            return decoded.count
        } catch {
            throw ParquetError("LZ4 page data is neither Hadoop-framed, a raw block nor an LZ4 frame")
        }
    }

    private static func hadoopFrames(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) -> Int? {
        func bigEndian(_ offset: Int) -> Int {
            Int(input[offset]) << 24 | Int(input[offset + 1]) << 16 | Int(input[offset + 2]) << 8 | Int(input[offset + 3])
        }
        var position = 0, produced = 0
        while position < input.count {
            guard input.count - position >= 8 else { return nil }
            let uncompressed = bigEndian(position), compressed = bigEndian(position + 4)
            position += 8
            guard compressed <= input.count - position, uncompressed <= target.count - produced else { return nil }
            let block = UnsafeRawBufferPointer(rebasing: input[position..<position + compressed])
            let into = UnsafeMutableRawBufferPointer(rebasing: target[produced..<produced + uncompressed])
            guard let written = try? LZ4Block.decompress(block, into: into), written == uncompressed else { return nil }
            position += compressed
            produced += uncompressed
        }
        return produced == target.count ? produced : nil
    }
}
