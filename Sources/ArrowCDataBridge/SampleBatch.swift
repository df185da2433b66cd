import ArrowCore
import Synchronization

/// A small record batch built by hand in Swift, whose every buffer is a `CountedAllocation`, so
/// that a test can see that a consumer's release frees our memory.
///
/// Its values, as pyarrow reads them:
///
/// | id | score | name | tags | view | color |
/// |---|---|---|---|---|---|
/// | 0 | 0.5 | "a" | ["x"] | "short" | "red" |
/// | 1 | null | null | [] | "a string longer than twelve" | "green" |
/// | 2 | 2.5 | "ccc" | null | null | null |
/// | 3 | null | "" | ["y", "z"] | "" | "red" |
/// | 4 | 4.5 | "eeeee" | ["w"] | "another long string value" | "blue" |
enum SampleBatch {
    /// Buffers of sample batches not yet freed.
    static let liveBuffers = Atomic<Int>(0)

    static func make() throws(ArrowError) -> RecordBatch {
        let rows = 5
        let id = ArrayData(type: .int64, length: rows, nullCount: 0,
                           buffers: [Buffer(), counted(values: (0..<Int64(rows)).map { $0 })])
        let score = ArrayData(type: .float64, length: rows, nullCount: 2,
                              buffers: [bitmap([true, false, true, false, true]), counted(values: [0.5, 0, 2.5, 0, 4.5] as [Double])])
        let name = utf8(["a", nil, "ccc", "", "eeeee"])
        let tagValues = utf8(["x", "y", "z", "w"])
        let tagField = Field("item", .utf8)
        let tags = ArrayData(type: .list(tagField), length: rows, nullCount: 1,
                             buffers: [bitmap([true, true, false, true, true]), counted(values: [0, 1, 1, 1, 3, 4] as [Int32])],
                             children: [tagValues])
        let view = utf8View(["short", "a string longer than twelve", nil, "", "another long string value"])
        let colorType = DataType.dictionary(index: .int8, value: .utf8, ordered: false)
        let color = ArrayData(type: colorType, length: rows, nullCount: 1,
                              buffers: [bitmap([true, true, false, true, true]), counted(values: [0, 1, 0, 0, 2] as [Int8])],
                              dictionary: utf8(["red", "green", "blue"]))
        let schema = Schema([
            Field("id", .int64, nullable: false),
            Field("score", .float64),
            Field("name", .utf8, metadata: ["unit": "none"]),
            Field("tags", .list(tagField)),
            Field("view", .utf8View),
            Field("color", colorType),
        ], metadata: ["producer": "swift-arrow-flight"])
        let batch = try RecordBatch(schema: schema, columns: [id, score, name, tags, view, color])
        try batch.validate()
        return batch
    }

    private static func counted(_ bytes: [UInt8]) -> Buffer {
        let allocation = CountedAllocation(bytes)
        return Buffer(owner: allocation, baseAddress: UnsafeRawPointer(allocation.base), count: bytes.count)
    }

    private static func counted<T: BitwiseCopyable>(values: [T]) -> Buffer {
        counted(values.withUnsafeBytes { Array($0) })
    }

    private static func bitmap(_ valid: [Bool]) -> Buffer {
        var bytes = [UInt8](repeating: 0, count: (valid.count + 7) / 8)
        for (i, bit) in valid.enumerated() where bit { bytes[i / 8] |= 1 << UInt8(i % 8) }
        return counted(bytes)
    }

    private static func utf8(_ values: [String?]) -> ArrayData {
        var offsets: [Int32] = [0]
        var data: [UInt8] = []
        for value in values {
            data.append(contentsOf: (value ?? "").utf8)
            offsets.append(Int32(data.count))
        }
        let nulls = values.filter { $0 == nil }.count
        return ArrayData(type: .utf8, length: values.count, nullCount: nulls,
                         buffers: [nulls == 0 ? Buffer() : bitmap(values.map { $0 != nil }), counted(values: offsets), counted(data)])
    }

    /// Strings of up to 12 bytes are inlined in their view; longer ones go to one data buffer.
    private static func utf8View(_ values: [String?]) -> ArrayData {
        var views: [UInt8] = []
        var data: [UInt8] = []
        func append(_ value: Int32, to bytes: inout [UInt8]) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        for value in values {
            let utf8 = Array((value ?? "").utf8)
            append(Int32(utf8.count), to: &views)
            if utf8.count <= 12 {
                views.append(contentsOf: utf8 + [UInt8](repeating: 0, count: 12 - utf8.count))
            } else {
                views.append(contentsOf: utf8.prefix(4))
                append(0, to: &views)
                append(Int32(data.count), to: &views)
                data.append(contentsOf: utf8)
            }
        }
        let nulls = values.filter { $0 == nil }.count
        return ArrayData(type: .utf8View, length: values.count, nullCount: nulls,
                         buffers: [bitmap(values.map { $0 != nil }), counted(views), counted(data)])
    }
}

/// Memory that counts itself in `SampleBatch.liveBuffers` while it is alive.
private final class CountedAllocation: BufferOwner, @unchecked Sendable {
    // Written only in `init`, before any `Buffer` exposes it.
    let base: UnsafeMutableRawPointer

    init(_ bytes: [UInt8]) {
        base = .allocate(byteCount: Swift.max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let start = source.baseAddress, source.count > 0 { base.copyMemory(from: start, byteCount: source.count) }
        }
        SampleBatch.liveBuffers.add(1, ordering: .sequentiallyConsistent)
    }

    deinit {
        base.deallocate()
        SampleBatch.liveBuffers.subtract(1, ordering: .sequentiallyConsistent)
    }
}
