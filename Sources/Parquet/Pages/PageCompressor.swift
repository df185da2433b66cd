import ArrowCore
import CBrotli
import CSnappy
import CZlib

/// Compresses a column chunk's pages with the writer's codec: snappy, zlib (as gzip) and
/// brotli here; LZ4 and Zstandard through ArrowCore's wrappers. The output goes into one
/// buffer kept from page to page, and Zstandard keeps its context, so a chunk of many pages
/// allocates once. Not shared: one column writer uses it.
final class PageCompressor {
    let codec: ParquetCompression
    let level: Int?
    private let output = GrowableBuffer()
    private let zstd: ZstdCompressionContext?

    init(codec: ParquetCompression, level: Int?) {
        self.codec = codec
        self.level = level
        zstd = codec == .zstd ? ZstdCompressionContext(level: level) : nil
    }

    /// `input` compressed; the bytes stay valid until the next call. An uncompressed
    /// chunk's page is `input` itself.
    func compress(_ input: UnsafeRawBufferPointer) throws(ParquetError) -> UnsafeRawBufferPointer {
        if codec == .uncompressed { return input }
        output.removeAll()
        let written: Int
        switch codec {
        case .snappy:
            var length = snappy_max_compressed_length(input.count)
            output.reserve(length)
            let empty: CChar = 0
            let status = withUnsafePointer(to: empty) { fallback in
                snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self) ?? fallback, input.count,
                                output.base.assumingMemoryBound(to: CChar.self), &length)
            }
            guard status == SNAPPY_OK else { throw ParquetError("snappy compression failed (\(status))") }
            written = length
        case .gzip:
            written = try Self.gzip(input, level: level ?? 6, into: output)
        case .brotli:
            var length = BrotliEncoderMaxCompressedSize(input.count)
            if length == 0 { length = input.count + 1024 }
            output.reserve(length)
            let quality = Int32(min(max(level ?? 1, 0), 11))
            let done = BrotliEncoderCompress(quality, 22, BROTLI_MODE_GENERIC, input.count,
                                             input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                             &length, output.base.assumingMemoryBound(to: UInt8.self))
            guard done == BROTLI_TRUE else { throw ParquetError("brotli compression failed") }
            written = length
        case .zstd:
            guard let zstd else { throw ParquetError("zstd compression failed: no context") }
            let bound = ZstdCompressionContext.bound(input.count)
            output.reserve(bound)
            do {
                written = try zstd.compress(input, into: UnsafeMutableRawBufferPointer(start: output.base, count: bound))
            } catch {
                throw ParquetError("zstd compression failed: \(error)")
            }
        case .lz4Raw:
            guard let bound = LZ4Block.bound(input.count) else { throw ParquetError("LZ4 compression of a page of \(input.count) bytes") }
            output.reserve(bound)
            do {
                written = try LZ4Block.compress(input, into: UnsafeMutableRawBufferPointer(start: output.base, count: bound))
            } catch {
                throw ParquetError("LZ4 compression failed: \(error)")
            }
        default:
            throw ParquetError("the writer does not compress with \(codec)")
        }
        output.advance(written)
        return UnsafeRawBufferPointer(start: output.base, count: written)
    }

    /// A gzip member (zlib's deflate with a gzip header and trailer), as Parquet's GZIP codec is.
    private static func gzip(_ input: UnsafeRawBufferPointer, level: Int, into output: GrowableBuffer) throws(ParquetError) -> Int {
        var stream = z_stream()
        guard deflateInit2_(&stream, Int32(min(max(level, 0), 9)), Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetError("zlib cannot start a gzip stream")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        output.reserve(bound)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = output.base.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(bound)
        guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw ParquetError("gzip compression did not finish") }
        return bound - Int(stream.avail_out)
    }
}
