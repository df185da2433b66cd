import ArrowCore
import CBrotli
import CSnappy
import CZlib

/// Compresses Parquet pages with the writer's codec: snappy, zlib (as gzip) and brotli here;
/// LZ4 and Zstandard through ArrowCore's wrappers.
enum PageCompressor {
    /// `input` compressed with `codec` (at `level`, when the codec has levels; nil for its default).
    static func compress(_ input: UnsafeRawBufferPointer, codec: ParquetCompression, level: Int?) throws(ParquetError) -> Buffer {
        switch codec {
        case .uncompressed:
            return Buffer(copying: input)
        case .snappy:
            var length = snappy_max_compressed_length(input.count)
            let allocation = AlignedAllocation(capacity: length, zeroed: false)
            let empty: CChar = 0
            let status = withUnsafePointer(to: empty) { fallback in
                snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self) ?? fallback, input.count,
                                allocation.base.assumingMemoryBound(to: CChar.self), &length)
            }
            guard status == SNAPPY_OK else { throw ParquetError("snappy compression failed (\(status))") }
            return Buffer(owner: allocation, baseAddress: allocation.base, count: length)
        case .gzip:
            return try gzip(input, level: level ?? 6)
        case .brotli:
            var length = BrotliEncoderMaxCompressedSize(input.count)
            if length == 0 { length = input.count + 1024 }
            let allocation = AlignedAllocation(capacity: length, zeroed: false)
            let quality = Int32(min(max(level ?? 1, 0), 11))
            let done = BrotliEncoderCompress(quality, 22, BROTLI_MODE_GENERIC, input.count,
                                             input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                             &length, allocation.base.assumingMemoryBound(to: UInt8.self))
            guard done == BROTLI_TRUE else { throw ParquetError("brotli compression failed") }
            return Buffer(owner: allocation, baseAddress: allocation.base, count: length)
        case .zstd:
            do {
                return try CompressionCodec.zstd.compress(Buffer(copying: input), level: level)
            } catch {
                throw ParquetError("zstd compression failed: \(error)")
            }
        case .lz4Raw:
            do {
                return try LZ4Block.compress(input)
            } catch {
                throw ParquetError("LZ4 compression failed: \(error)")
            }
        default:
            throw ParquetError("the writer does not compress with \(codec)")
        }
    }

    /// A gzip member (zlib's deflate with a gzip header and trailer), as Parquet's GZIP codec is.
    private static func gzip(_ input: UnsafeRawBufferPointer, level: Int) throws(ParquetError) -> Buffer {
        var stream = z_stream()
        guard deflateInit2_(&stream, Int32(min(max(level, 0), 9)), Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetError("zlib cannot start a gzip stream")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        let allocation = AlignedAllocation(capacity: bound, zeroed: false)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = allocation.base.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(bound)
        guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw ParquetError("gzip compression did not finish") }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: bound - Int(stream.avail_out))
    }
}
