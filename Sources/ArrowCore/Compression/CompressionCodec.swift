import CLZ4
import CZstd
import Synchronization

/// A codec for Arrow IPC body buffer compression, as named by the IPC format's
/// `BodyCompression` message: each buffer of a record batch is compressed on its own.
///
/// The functions are pure and may be called from any task at the same time. Each call makes
/// and frees its own codec context, except Zstandard decompression, which takes an idle
/// context kept from earlier calls (one call at a time each).
public enum CompressionCodec: Sendable, Hashable, CaseIterable {
    /// The LZ4 *frame* format (lz4frame.h), not the raw block format.
    case lz4Frame
    /// Zstandard frames.
    case zstd

    /// The codec's name for error messages, as the IPC format spells it.
    public var name: String {
        switch self {
        case .lz4Frame: "LZ4_FRAME"
        case .zstd: "ZSTD"
        }
    }

    /// The value of the IPC format's `CompressionType` enum for this codec.
    public var ipcCompressionType: Int8 {
        switch self {
        case .lz4Frame: 0
        case .zstd: 1
        }
    }

    /// The codec for a `CompressionType` value from an IPC message, or nil if it is unknown.
    public init?(ipcCompressionType value: Int8) {
        switch value {
        case 0: self = .lz4Frame
        case 1: self = .zstd
        default: return nil
        }
    }

    /// The largest uncompressed length `decompress` accepts, 2 GiB: a larger claim in a message
    /// is refused before any memory is allocated.
    public static let maximumUncompressedLength = 1 << 31

    /// The largest ratio of decompressed to compressed size that a frame of this codec can
    /// really reach, with a margin. A length claim beyond `ratio * compressed + 1 MiB` cannot be
    /// true, so `decompress` refuses it before allocating: that keeps a few hostile bytes from
    /// making us zero-fill gigabytes.
    ///
    /// LZ4 spends at least one byte per 255 bytes of match length, so 1024 is four times its real
    /// limit. Zstandard's best case is an RLE block, 4 bytes for 128 KiB (32768:1), and data
    /// such as an all-zero null column really does come close to that, so its bound is 65536.
    public var maximumCompressionRatio: Int {
        switch self {
        case .lz4Frame: 1024
        case .zstd: 65536
        }
    }

    /// The default level for both codecs: Arrow C++'s choice for IPC, which favours speed.
    var defaultLevel: Int { 1 }

    // MARK: - Compression

    /// Compresses `input` into one complete frame of this codec (no Arrow length prefix).
    ///
    /// `level` is the codec's own compression level (LZ4: negative is faster, 0...12, higher
    /// levels use LZ4HC; Zstandard: `ZSTD_minCLevel()`...`ZSTD_maxCLevel()`); nil means the
    /// default Arrow C++ uses for IPC. Levels outside the codec's range are clamped to it.
    /// The result is a new buffer, 64-byte aligned, that no one else refers to.
    public func compress(_ input: Buffer, level: Int? = nil) throws(ArrowError) -> Buffer {
        let (allocation, written) = try compressedAllocation(input, reserving: 0, level: level)
        return tightBuffer(allocation, count: written)
    }

    /// Compresses `input` into a new allocation, leaving `prefix` bytes free at its start.
    /// Returns the allocation and the number of bytes used (prefix included). The allocation
    /// always has room for `prefix + input.count` bytes, so a caller can store `input`
    /// uncompressed in it instead.
    func compressedAllocation(_ input: Buffer, reserving prefix: Int, level: Int?) throws(ArrowError)
        -> (AlignedAllocation, Int)
    {
        let level = level ?? defaultLevel
        return try withExtendedLifetime(input) { () throws(ArrowError) -> (AlignedAllocation, Int) in
            let source = input.baseAddress
            switch self {
            case .lz4Frame:
                return try lz4Compress(source, count: input.count, prefix: prefix, level: level)
            case .zstd:
                return try zstdCompress(source, count: input.count, prefix: prefix, level: level)
            }
        }
    }

    private func lz4Compress(_ source: UnsafeRawPointer?, count: Int, prefix: Int, level: Int) throws(ArrowError)
        -> (AlignedAllocation, Int)
    {
        var preferences = LZ4F_preferences_t()
        preferences.compressionLevel = Int32(clamping: level)
        // Recording the size in the frame header lets any reader check it; it costs 8 bytes.
        preferences.frameInfo.contentSize = UInt64(count)
        let bound = LZ4F_compressFrameBound(count, &preferences)
        guard LZ4F_isError(bound) == 0, bound >= count, bound <= Int.max - prefix else {
            throw .notSupported("\(name): cannot compress a buffer of \(count) bytes")
        }
        let capacity = prefix + bound
        let allocation = AlignedAllocation(capacity: capacity)
        // The libraries accept an empty input but not a null pointer to it; any valid address will do.
        let written = LZ4F_compressFrame(allocation.base + prefix, bound, source ?? UnsafeRawPointer(allocation.base),
                                         count, &preferences)
        guard LZ4F_isError(written) == 0 else {
            throw .io("\(name) compression failed: \(lz4ErrorName(written))")
        }
        return (allocation, prefix + written)
    }

    private func zstdCompress(_ source: UnsafeRawPointer?, count: Int, prefix: Int, level: Int) throws(ArrowError)
        -> (AlignedAllocation, Int)
    {
        let bound = ZSTD_compressBound(count)
        guard ZSTD_isError(bound) == 0, bound >= count, bound <= Int.max - prefix else {
            throw .notSupported("\(name): cannot compress a buffer of \(count) bytes")
        }
        let clamped = Swift.min(Swift.max(level, Int(ZSTD_minCLevel())), Int(ZSTD_maxCLevel()))
        let allocation = AlignedAllocation(capacity: prefix + bound)
        let written = ZSTD_compress(allocation.base + prefix, bound, source ?? UnsafeRawPointer(allocation.base),
                                    count, Int32(clamped))
        guard ZSTD_isError(written) == 0 else {
            throw .io("\(name) compression failed: \(zstdErrorName(written))")
        }
        return (allocation, prefix + written)
    }

    // MARK: - Decompression

    /// Decompresses `input`, one or more complete frames of this codec, into a new buffer of
    /// exactly `uncompressedLength` bytes.
    ///
    /// Safe on hostile input: it reads only `input` and writes only the buffer it allocates,
    /// once. It throws `ArrowError.invalid` when the frames are corrupt or truncated, when they
    /// decode to fewer or more bytes than `uncompressedLength`, and, before allocating anything,
    /// when `uncompressedLength` is negative or above what `input.count` bytes can possibly
    /// decode to (see `maximumCompressionRatio`); `ArrowError.notSupported` when it is above
    /// `maximumUncompressedLength`.
    /// An empty `input` decodes only to an empty buffer.
    public func decompress(_ input: Buffer, uncompressedLength: Int) throws(ArrowError) -> Buffer {
        try checkPlausible(uncompressedLength: uncompressedLength, compressedLength: input.count)
        if input.count == 0 {
            guard uncompressedLength == 0 else {
                throw .invalid("\(name): no compressed data for \(uncompressedLength) bytes")
            }
            return Buffer()
        }
        // One spare byte past the expected length: if the decoder fills it, the data is longer
        // than promised, and we know without a second buffer or a second pass.
        let allocation = AlignedAllocation(capacity: uncompressedLength + 1)
        let produced = try withExtendedLifetime(input) { () throws(ArrowError) -> Int in
            let source = UnsafeRawBufferPointer(start: input.baseAddress, count: input.count)
            let target = UnsafeMutableRawBufferPointer(start: allocation.base, count: uncompressedLength + 1)
            switch self {
            case .lz4Frame: return try lz4Decompress(source, into: target)
            case .zstd: return try zstdDecompress(source, into: target)
            }
        }
        guard produced == uncompressedLength else {
            let what = produced > uncompressedLength ? "more than" : "\(produced) bytes, not"
            throw .invalid("\(name) data decompressed to \(what) the expected \(uncompressedLength) bytes")
        }
        return Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: uncompressedLength)
    }

    /// Throws unless `uncompressedLength` is a length that `compressedLength` bytes of this
    /// codec could decode to and that we are willing to allocate.
    func checkPlausible(uncompressedLength: Int, compressedLength: Int) throws(ArrowError) {
        guard uncompressedLength >= 0 else {
            throw .invalid("\(name): negative uncompressed length \(uncompressedLength)")
        }
        guard uncompressedLength <= Self.maximumUncompressedLength else {
            throw .notSupported("\(name): uncompressed length \(uncompressedLength) is above the limit of \(Self.maximumUncompressedLength) bytes")
        }
        // Saturating arithmetic: compressedLength comes from the message too.
        let (scaled, overflow) = compressedLength.multipliedReportingOverflow(by: maximumCompressionRatio)
        let limit = overflow || scaled > Int.max - (1 << 20) ? Int.max : scaled + (1 << 20)
        guard uncompressedLength <= limit else {
            throw .invalid("\(name): \(compressedLength) compressed bytes cannot hold \(uncompressedLength) bytes")
        }
    }

    /// Runs the LZ4 frame decoder over all of `source`, writing at most `target.count` bytes.
    /// Returns the number of bytes written.
    private func lz4Decompress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer)
        throws(ArrowError) -> Int
    {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw .io("\(name): cannot create a decompression context: \(lz4ErrorName(created))")
        }
        defer { LZ4F_freeDecompressionContext(context) }

        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else { return 0 }
        var consumed = 0
        var produced = 0
        var frameComplete = false
        while consumed < source.count {
            var sourceSize = source.count - consumed
            var targetSize = target.count - produced
            let hint = LZ4F_decompress(context, targetBase + produced, &targetSize,
                                       sourceBase + consumed, &sourceSize, nil)
            guard LZ4F_isError(hint) == 0 else {
                throw .invalid("\(name) data is corrupt: \(lz4ErrorName(hint))")
            }
            consumed += sourceSize
            produced += targetSize
            // 0 means a frame ended; another may follow, as concatenated frames are one stream.
            frameComplete = hint == 0
            if produced == target.count {
                // The spare byte was written: the data is longer than expected.
                return produced
            }
            guard sourceSize > 0 || targetSize > 0 else {
                throw .invalid("\(name) data is corrupt: the decoder stopped at byte \(consumed) of \(source.count)")
            }
        }
        guard frameComplete else {
            throw .invalid("\(name) data is truncated: the frame does not end within \(source.count) bytes")
        }
        return produced
    }

    /// Decodes every Zstandard frame in `source`, writing at most `target.count` bytes.
    /// Returns the number of bytes written.
    private func zstdDecompress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer)
        throws(ArrowError) -> Int
    {
        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else { return 0 }
        let result = ZstdDecoders.shared.decompress(targetBase, target.count, sourceBase, source.count)
        guard ZSTD_isError(result) == 0 else {
            throw .invalid("\(name) data is corrupt or longer than expected: \(zstdErrorName(result))")
        }
        return result
    }

    // MARK: - Arrow IPC buffer convention

    /// The length prefix that marks an IPC body buffer as stored without compression.
    public static let uncompressedMarker: Int64 = -1

    /// Decodes one body buffer of a compressed IPC record batch.
    ///
    /// An empty `raw` buffer stays empty. Otherwise the first 8 bytes are a little-endian int64:
    /// -1 means the rest is stored as is, and the result is a zero-copy slice of `raw`; any
    /// other value is the uncompressed length and the rest is decompressed (see `decompress`).
    /// Throws `ArrowError.invalid` for a buffer shorter than its prefix or a length below -1.
    public static func decodeIPCBuffer(_ raw: Buffer, codec: CompressionCodec) throws(ArrowError) -> Buffer {
        if raw.count == 0 { return Buffer() }
        guard raw.count >= 8 else {
            throw .invalid("compressed \(codec.name) buffer of \(raw.count) bytes is shorter than its 8-byte length prefix")
        }
        let length = Int64(littleEndian: raw.load(fromByteOffset: 0, as: Int64.self))
        let body = raw.slice(offset: 8, count: raw.count - 8)
        if length == uncompressedMarker { return body }
        guard length >= 0 else {
            throw .invalid("compressed \(codec.name) buffer has uncompressed length \(length)")
        }
        return try codec.decompress(body, uncompressedLength: Int(length))
    }

    /// Encodes one body buffer for a compressed IPC record batch: the 8-byte little-endian
    /// uncompressed length, then the compressed frame. When compression would not make the
    /// buffer smaller, the data is stored as is behind a -1 prefix instead, as the format allows.
    /// An empty buffer stays empty. `level` is as for `compress`. The result is a new buffer that
    /// no one else refers to.
    public static func encodeIPCBuffer(_ plain: Buffer, codec: CompressionCodec, level: Int? = nil) throws(ArrowError)
        -> Buffer
    {
        if plain.count == 0 { return Buffer() }
        let (allocation, written) = try codec.compressedAllocation(plain, reserving: 8, level: level)
        if written - 8 < plain.count {
            allocation.base.storeBytes(of: Int64(plain.count).littleEndian, as: Int64.self)
            return codec.tightBuffer(allocation, count: written)
        }
        // Both codecs' bounds exceed the input size, so the plain bytes fit in the same allocation.
        allocation.base.storeBytes(of: uncompressedMarker.littleEndian, as: Int64.self)
        plain.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { (allocation.base + 8).copyMemory(from: base, byteCount: bytes.count) }
        }
        return Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: 8 + plain.count)
    }

    // MARK: - Helpers

    /// A buffer of the first `count` bytes of `allocation`. When compression shrank the data a
    /// lot, the worst-case allocation is mostly unused, so the bytes move to one of their size
    /// rather than pinning the rest for as long as the buffer lives.
    func tightBuffer(_ allocation: AlignedAllocation, count: Int) -> Buffer {
        let unused = allocation.capacity - count
        if unused > 4096 && unused > count / 4 {
            return Buffer(copying: UnsafeRawBufferPointer(start: allocation.base, count: count))
        }
        return Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: count)
    }

    private func lz4ErrorName(_ code: Int) -> String {
        LZ4F_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }

    private func zstdErrorName(_ code: Int) -> String {
        ZSTD_getErrorName(code).map { String(cString: $0) } ?? "error \(code)"
    }
}

/// Zstandard decompression contexts kept between calls: `ZSTD_decompress` makes and frees a
/// context of about 96 KB on every call, and sets it up anew (a Parquet page is one call).
final class ZstdDecoders: Sendable {
    static let shared = ZstdDecoders()
    /// At most this many idle contexts are kept (one per thread decoding at once is enough).
    private static let kept = 8
    private let idle = Mutex<[UnsafeSendablePointer]>([])

    /// `ZSTD_decompressDCtx` with a kept context (a new one when none is idle); the result is
    /// `ZSTD_decompress`'s. A context that met an error is freed, not kept.
    func decompress(_ target: UnsafeMutableRawPointer, _ capacity: Int, _ source: UnsafeRawPointer, _ count: Int) -> Int {
        guard let context = idle.withLock({ $0.popLast()?.pointer }) ?? ZSTD_createDCtx() else {
            return ZSTD_decompress(target, capacity, source, count)
        }
        let result = ZSTD_decompressDCtx(context, target, capacity, source, count)
        let keep = ZSTD_isError(result) == 0 && idle.withLock { contexts in
            guard contexts.count < Self.kept else { return false }
            contexts.append(UnsafeSendablePointer(pointer: context))
            return true
        }
        if !keep { ZSTD_freeDCtx(context) }
        return result
    }
}

/// A decompression context handed between threads, one at a time.
struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Zstandard frames decoded straight into memory the caller owns, as Parquet pages need them.
public enum ZstdFrames {
    /// Decodes every frame in `source` into `target`; returns the bytes written. Throws when
    /// the data is corrupt or decodes to more than `target` holds.
    public static func decompress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ArrowError) -> Int {
        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else {
            guard source.isEmpty else { throw .invalid("Zstandard: nowhere to decode") }
            return 0
        }
        let result = ZstdDecoders.shared.decompress(targetBase, target.count, sourceBase, source.count)
        guard ZSTD_isError(result) == 0 else {
            throw .invalid("Zstandard data is corrupt or longer than expected: "
                + (ZSTD_getErrorName(result).map { String(cString: $0) } ?? "error \(result)"))
        }
        return result
    }
}

/// A Zstandard compression context kept from one frame to the next: a writer that
/// compresses many pages pays for the context's tables once, not per page.
/// Not shared: one writer uses it at a time.
package final class ZstdCompressionContext {
    private let context: OpaquePointer?
    private let level: Int32

    /// A context for frames at `level` (nil: Zstandard's level 1, Arrow C++'s default),
    /// clamped to the library's range.
    package init(level: Int?) {
        context = ZSTD_createCCtx()
        self.level = Int32(Swift.min(Swift.max(level ?? 1, Int(ZSTD_minCLevel())), Int(ZSTD_maxCLevel())))
    }

    deinit { ZSTD_freeCCtx(context) }

    /// The most bytes a frame of `count` input bytes can take.
    package static func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `source` into one frame at the start of `target`, which must hold
    /// ``bound(_:)`` bytes; returns the bytes written.
    package func compress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ArrowError) -> Int {
        guard let context, let targetBase = target.baseAddress else { throw .io("Zstandard: no compression context") }
        let empty: UInt8 = 0
        let written = withUnsafePointer(to: empty) { fallback in
            ZSTD_compressCCtx(context, targetBase, target.count, source.baseAddress ?? UnsafeRawPointer(fallback), source.count, level)
        }
        guard ZSTD_isError(written) == 0 else {
            throw .io("Zstandard compression failed: " + (ZSTD_getErrorName(written).map { String(cString: $0) } ?? "error \(written)"))
        }
        return written
    }
}

/// LZ4's raw block format (lz4.h): blocks without a frame around them, as Parquet's LZ4_RAW
/// codec and Hadoop's LZ4 framing store them.
public enum LZ4Block {
    /// Decodes the one block in `source` into `target`; returns the bytes written. Throws
    /// when the block is corrupt, or decodes to more than `target` holds.
    public static func decompress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ArrowError) -> Int {
        guard source.count <= Int(Int32.max), target.count <= Int(Int32.max) else {
            throw .notSupported("LZ4 blocks of 2 GiB or more")
        }
        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else {
            guard source.isEmpty || target.isEmpty else { throw .invalid("LZ4 block: nowhere to decode") }
            return 0
        }
        let produced = LZ4_decompress_safe(sourceBase.assumingMemoryBound(to: CChar.self), targetBase.assumingMemoryBound(to: CChar.self),
                                           Int32(source.count), Int32(target.count))
        guard produced >= 0 else { throw .invalid("LZ4 block data is corrupt or longer than expected") }
        return Int(produced)
    }

    /// The most bytes a block of `count` input bytes can take; nil past LZ4's input limit.
    public static func bound(_ count: Int) -> Int? {
        count <= Int(LZ4_MAX_INPUT_SIZE) ? Swift.max(1, Int(LZ4_compressBound(Int32(count)))) : nil
    }

    /// `source` as one raw LZ4 block at the start of `target`, which must hold
    /// ``bound(_:)`` bytes; returns the bytes written.
    public static func compress(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) throws(ArrowError) -> Int {
        guard let bound = bound(source.count), target.count >= bound, let targetBase = target.baseAddress else {
            throw .notSupported("LZ4 blocks of \(source.count) bytes into \(target.count)")
        }
        guard let base = source.baseAddress, source.count > 0 else {
            // An empty block is one token byte of zero.
            targetBase.storeBytes(of: UInt8(0), as: UInt8.self)
            return 1
        }
        let written = LZ4_compress_default(base.assumingMemoryBound(to: CChar.self), targetBase.assumingMemoryBound(to: CChar.self),
                                           Int32(source.count), Int32(target.count))
        guard written > 0 else { throw .io("LZ4 block compression failed") }
        return Int(written)
    }

    /// `source` as one raw LZ4 block (the default, fast compression), in a new buffer.
    public static func compress(_ source: UnsafeRawBufferPointer) throws(ArrowError) -> Buffer {
        guard let bound = bound(source.count) else { throw .notSupported("LZ4 blocks of \(source.count) bytes") }
        let allocation = AlignedAllocation(capacity: bound, zeroed: false)
        let written = try compress(source, into: UnsafeMutableRawBufferPointer(start: allocation.base, count: bound))
        return Buffer(owner: allocation, baseAddress: allocation.base, count: written)
    }
}
