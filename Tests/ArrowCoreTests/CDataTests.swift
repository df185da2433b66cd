import ArrowCore
import CArrowABI
import Synchronization
import Testing

// MARK: Helpers

/// Counts how often something happened; shared between a test and the objects or callbacks it watches.
private final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    var count: Int { value.load(ordering: .sequentiallyConsistent) }
    func increment() { value.add(1, ordering: .sequentiallyConsistent) }
}

/// A buffer owner that counts its own deinit, to see when exported memory is let go.
private final class TrackedAllocation: BufferOwner, @unchecked Sendable {
    // Written only in `init`, before a `Buffer` exposes it.
    let base: UnsafeMutableRawPointer
    let count: Int
    let freed: Counter

    init(_ bytes: [UInt8], freed: Counter) {
        count = bytes.count
        self.freed = freed
        let base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let start = source.baseAddress, source.count > 0 { base.copyMemory(from: start, byteCount: source.count) }
        }
        self.base = base
    }

    deinit {
        base.deallocate()
        freed.increment()
    }

    var buffer: Buffer { Buffer(owner: self, baseAddress: UnsafeRawPointer(base), count: count) }
}

private func bytes<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

private func int32Array(_ values: [Int32], freed: Counter) -> ArrayData {
    ArrayData(type: .int32, length: values.count, nullCount: 0,
              buffers: [Buffer(), TrackedAllocation(bytes(values), freed: freed).buffer])
}

private func gold(_ name: String) throws -> IntegrationFile {
    try IntegrationFile.read(path: TestData.gold(name, "json.gz"))
}

/// Exports `batch` and its schema and imports them again.
private func roundTrip(_ batch: RecordBatch) throws -> RecordBatch {
    var schema = ArrowSchema()
    var array = ArrowArray()
    try CDataInterface.exportRecordBatch(batch, into: &array, schema: &schema)
    return try CDataInterface.importRecordBatch(array: &array, schema: &schema)
}

/// The release callback of the structs the tests build by hand: counts calls in the `Counter`
/// that `private_data` points to and marks the struct released, as a producer must.
private func countingArrayRelease(_ array: UnsafeMutablePointer<ArrowArray>?) {
    guard let array, let opaque = array.pointee.private_data else { return }
    Unmanaged<Counter>.fromOpaque(opaque).takeUnretainedValue().increment()
    array.pointee.release = nil
}

private func countingSchemaRelease(_ schema: UnsafeMutablePointer<ArrowSchema>?) {
    guard let schema, let opaque = schema.pointee.private_data else { return }
    Unmanaged<Counter>.fromOpaque(opaque).takeUnretainedValue().increment()
    schema.pointee.release = nil
}

/// C memory for hand-built structs, freed when the test's fixture goes away.
private final class CMemory {
    private var allocations: [UnsafeMutableRawPointer] = []

    func copy(_ bytes: [UInt8]) -> UnsafeRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let start = source.baseAddress, source.count > 0 { pointer.copyMemory(from: start, byteCount: source.count) }
        }
        allocations.append(pointer)
        return UnsafeRawPointer(pointer)
    }

    func string(_ text: String) -> UnsafePointer<CChar> {
        copy(Array(text.utf8) + [0]).assumingMemoryBound(to: CChar.self)
    }

    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    deinit { for pointer in allocations { pointer.deallocate() } }
}

/// A hand-built `ArrowArray` in C memory whose release is counted.
private final class HandBuiltArray {
    let memory = CMemory()
    let released = Counter()
    let array = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)

    init(length: Int64, nullCount: Int64 = 0, offset: Int64 = 0, buffers: [[UInt8]?], children: [HandBuiltArray] = [],
         dictionary: HandBuiltArray? = nil) {
        var c = ArrowArray()
        c.length = length
        c.null_count = nullCount
        c.offset = offset
        c.n_buffers = Int64(buffers.count)
        c.buffers = buffers.isEmpty ? nil : memory.array(buffers.map { $0.map(memory.copy) })
        c.n_children = Int64(children.count)
        c.children = children.isEmpty ? nil : memory.array(children.map { Optional($0.array) })
        c.dictionary = dictionary?.array
        c.release = countingArrayRelease
        c.private_data = Unmanaged.passUnretained(released).toOpaque()
        array.initialize(to: c)
        nested = children + (dictionary.map { [$0] } ?? [])
    }

    /// Kept alive as long as the parent, as a producer keeps its children.
    private var nested: [HandBuiltArray] = []

    deinit { array.deallocate() }
}

/// A hand-built `ArrowSchema` in C memory whose release is counted.
private final class HandBuiltSchema {
    let memory = CMemory()
    let released = Counter()
    let schema = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
    private var nested: [HandBuiltSchema] = []

    init(format: String?, name: String? = "x", metadata: [UInt8]? = nil, flags: Int64 = 2,
         children: [HandBuiltSchema?] = [], childCount: Int64? = nil, dictionary: HandBuiltSchema? = nil) {
        var c = ArrowSchema()
        c.format = format.map(memory.string)
        c.name = name.map(memory.string)
        c.metadata = metadata.map { memory.copy($0).assumingMemoryBound(to: CChar.self) }
        c.flags = flags
        c.n_children = childCount ?? Int64(children.count)
        c.children = children.isEmpty ? nil : memory.array(children.map { $0?.schema })
        c.dictionary = dictionary?.schema
        c.release = countingSchemaRelease
        c.private_data = Unmanaged.passUnretained(released).toOpaque()
        schema.initialize(to: c)
        nested = children.compactMap { $0 } + (dictionary.map { [$0] } ?? [])
    }

    deinit { schema.deallocate() }
}

private let goldCases = TestData.goldCases

// MARK: Tests

/// The C Data Interface: format strings, export, import, ownership and rejection of malformed structs.
struct CDataTests {
    // MARK: Round trips of every type

    @Test func goldFilesArePresent() {
        #expect(goldCases.count == 32)
    }

    @Test(arguments: goldCases)
    func goldBatchesSurviveExportAndImport(_ name: String) throws {
        let file = try gold(name)
        for batch in file.batches {
            let back = try roundTrip(batch)
            #expect(back.schema == batch.schema)
            #expect(back.firstDifference(from: batch) == nil)
            #expect(batch.firstDifference(from: back) == nil)
        }
    }

    @Test(arguments: goldCases)
    func slicedGoldBatchesSurviveExportAndImport(_ name: String) throws {
        let file = try gold(name)
        for batch in file.batches where batch.length >= 3 {
            let sliced = try batch.slice(1, batch.length - 2)
            let back = try roundTrip(sliced)
            #expect(back.firstDifference(from: sliced) == nil)
            // And every column alone, with its own non-zero offset.
            for (field, column) in zip(sliced.schema.fields, sliced.columns) {
                var schema = ArrowSchema()
                var array = ArrowArray()
                try CDataInterface.exportField(field, into: &schema)
                try CDataInterface.exportArray(column, into: &array)
                let (importedField, data) = try CDataInterface.importArray(from: &array, field: &schema)
                #expect(importedField == field)
                #expect(data.offset == column.offset || column.length == 0)
                #expect(data.firstDifference(from: column, path: field.name) == nil)
            }
        }
    }

    @Test func exportedSchemaFormatStringsFollowTheSpecification() throws {
        let cases: [(DataType, String)] = [
            (.null, "n"), (.bool, "b"), (.int8, "c"), (.uint8, "C"), (.int16, "s"), (.uint16, "S"),
            (.int32, "i"), (.uint32, "I"), (.int64, "l"), (.uint64, "L"), (.float16, "e"), (.float32, "f"), (.float64, "g"),
            (.decimal(bitWidth: 32, precision: 9, scale: 2), "d:9,2,32"),
            (.decimal(bitWidth: 64, precision: 18, scale: -3), "d:18,-3,64"),
            (.decimal(bitWidth: 128, precision: 38, scale: 10), "d:38,10"),
            (.decimal(bitWidth: 256, precision: 76, scale: 20), "d:76,20,256"),
            (.date32, "tdD"), (.date64, "tdm"), (.time32(.second), "tts"), (.time32(.millisecond), "ttm"),
            (.time64(.microsecond), "ttu"), (.time64(.nanosecond), "ttn"),
            (.timestamp(.second, timeZone: nil), "tss:"), (.timestamp(.nanosecond, timeZone: "Europe/Paris"), "tsn:Europe/Paris"),
            (.duration(.millisecond), "tDm"), (.interval(.yearMonth), "tiM"), (.interval(.dayTime), "tiD"),
            (.interval(.monthDayNano), "tin"), (.binary, "z"), (.largeBinary, "Z"), (.utf8, "u"), (.largeUtf8, "U"),
            (.binaryView, "vz"), (.utf8View, "vu"), (.fixedSizeBinary(5), "w:5"),
            (.list(Field("item", .int32)), "+l"), (.largeList(Field("item", .int32)), "+L"),
            (.listView(Field("item", .int32)), "+vl"), (.largeListView(Field("item", .int32)), "+vL"),
            (.fixedSizeList(Field("item", .int32), 3), "+w:3"), (.struct([Field("a", .int8)]), "+s"),
            (.union(.dense, [Field("a", .int8), Field("b", .utf8)], typeIDs: [5, 2]), "+ud:5,2"),
            (.union(.sparse, [Field("a", .int8)], typeIDs: [0]), "+us:0"),
            (.runEndEncoded(runEnds: Field("run_ends", .int32, nullable: false), values: Field("values", .utf8)), "+r"),
            (.dictionary(index: .uint16, value: .utf8, ordered: false), "S"),
        ]
        for (type, format) in cases {
            var schema = ArrowSchema()
            try CDataInterface.exportType(type, into: &schema)
            #expect(schema.format.map { String(cString: $0) } == format, "\(type)")
            #expect(try CDataInterface.importField(from: &schema).type == type, "\(type)")
        }
    }

    @Test func flagsCarryNullabilityOrderingAndSortedKeys() throws {
        let entries = Field("entries", .struct([Field("key", .utf8, nullable: false), Field("value", .int32)]), nullable: false)
        let field = Field("m", .map(entries, keysSorted: true), nullable: false)
        var schema = ArrowSchema()
        try CDataInterface.exportField(field, into: &schema)
        #expect(schema.flags == Int64(ARROW_FLAG_MAP_KEYS_SORTED))
        #expect(try CDataInterface.importField(from: &schema) == field)

        let dictionary = Field("d", .dictionary(index: .int8, value: .largeUtf8, ordered: true))
        try CDataInterface.exportField(dictionary, into: &schema)
        #expect(schema.flags == Int64(ARROW_FLAG_NULLABLE | ARROW_FLAG_DICTIONARY_ORDERED))
        #expect(schema.dictionary?.pointee.format.map { String(cString: $0) } == "U")
        #expect(schema.n_children == 0)
        #expect(try CDataInterface.importField(from: &schema) == dictionary)
    }

    @Test func metadataUsesTheBinaryLayoutAndSurvives() throws {
        let schema = Schema([Field("a", .int8, metadata: Metadata([(key: "k", value: "v"), (key: "é", value: "")]))],
                            metadata: ["origin": "swift"])
        var c = ArrowSchema()
        try CDataInterface.exportSchema(schema, into: &c)
        let child = try #require(c.children?[0])
        let raw = try #require(child.pointee.metadata.map { UnsafeRawPointer($0) })
        #expect(raw.loadUnaligned(as: Int32.self) == 2)
        #expect(raw.loadUnaligned(fromByteOffset: 4, as: Int32.self) == 1)
        #expect(raw.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "k"))
        #expect(try CDataInterface.importSchema(from: &c) == schema)
        #expect(c.release == nil)
    }

    @Test func exportedBuffersFollowTheCLayout() throws {
        let file = try gold("generated_union")
        let batch = try #require(file.batches.first)
        var array = ArrowArray()
        try CDataInterface.exportRecordBatch(batch, into: &array)
        defer { CDataInterface.release(&array) }
        for (i, field) in batch.schema.fields.enumerated() {
            guard case .union(let mode, _, _) = field.type, let child = array.children?[i] else { continue }
            // Unions have no validity buffer in the C layout.
            #expect(child.pointee.n_buffers == (mode == .sparse ? 1 : 2))
            #expect(child.pointee.null_count == 0)
        }

        let views = try #require(try gold("generated_binary_view").batches.first)
        var viewArray = ArrowArray()
        try CDataInterface.exportRecordBatch(views, into: &viewArray)
        defer { CDataInterface.release(&viewArray) }
        for (i, column) in views.columns.enumerated() {
            guard column.type == .binaryView || column.type == .utf8View else { continue }
            let child = try #require(viewArray.children?[i])
            let variadic = column.buffers.count - 2
            #expect(child.pointee.n_buffers == Int64(variadic + 3))
            let sizes = try #require(child.pointee.buffers?[variadic + 2]).assumingMemoryBound(to: Int64.self)
            for k in 0..<variadic { #expect(sizes[k] == Int64(column.buffers[2 + k].count)) }
        }
    }

    @Test func unknownNullCountIsComputedOnImport() throws {
        let file = try gold("generated_primitive")
        let batch = try #require(file.batches.first { $0.columns.contains { $0.nullCount > 0 } })
        let column = try #require(batch.columns.first { $0.nullCount > 0 })
        var array = ArrowArray()
        try CDataInterface.exportArray(column, into: &array)
        array.null_count = -1
        let data = try CDataInterface.importArray(from: &array, type: column.type)
        #expect(data.nullCount == column.nullCount)
    }

    @Test func aBatchStructOffsetAppliesToItsColumns() throws {
        let batch = try #require(try gold("generated_nested").batches.first { $0.length >= 4 })
        var schema = ArrowSchema()
        var array = ArrowArray()
        try CDataInterface.exportRecordBatch(batch, into: &array, schema: &schema)
        array.offset = 2
        array.length -= 3
        let back = try CDataInterface.importRecordBatch(array: &array, schema: &schema)
        #expect(back.firstDifference(from: try batch.slice(2, batch.length - 3)) == nil)
    }

    // MARK: Ownership

    @Test func exportedMemoryIsFreedExactlyOnceWhenTheConsumerReleases() throws {
        let freed = Counter()
        var array = ArrowArray()
        do {
            try CDataInterface.exportArray(int32Array([1, 2, 3], freed: freed), into: &array)
        }
        #expect(freed.count == 0)
        #expect(array.release != nil)
        CDataInterface.release(&array)
        #expect(freed.count == 1)
        #expect(array.release == nil)
        CDataInterface.release(&array)
        #expect(freed.count == 1)
    }

    @Test func releasingAParentLeavesAMovedChildAlive() throws {
        let childFreed = Counter()
        var array = ArrowArray()
        try CDataInterface.exportArray(ArrayData(type: .struct([Field("a", .int32)]), length: 2, nullCount: 0, buffers: [Buffer()],
                                                 children: [int32Array([7, 8], freed: childFreed)]),
                                       into: &array)
        let slot = try #require(array.children?[0])
        var moved = slot.pointee
        slot.pointee.release = nil
        CDataInterface.release(&array)
        #expect(childFreed.count == 0)
        let data = try CDataInterface.importArray(from: &moved, type: .int32)
        #expect(data.value(1, as: Int32.self) == 8)
        #expect(childFreed.count == 0)
        _ = consume data
        #expect(childFreed.count == 1)
    }

    @Test func importedMemoryIsReleasedWhenTheLastBufferGoesAway() throws {
        let freed = Counter()
        var array = ArrowArray()
        try CDataInterface.exportArray(int32Array([4, 5, 6], freed: freed), into: &array)
        let imported = try CDataInterface.importArray(from: &array, type: .int32)
        #expect(array.release == nil, "the consumer's struct is marked released once moved")
        let slice = try imported.slice(1, 1)
        _ = consume imported
        #expect(freed.count == 0)
        #expect(slice.value(0, as: Int32.self) == 5)
        let buffer = slice.buffers[1]
        _ = consume slice
        #expect(freed.count == 0)
        #expect(buffer.load(fromByteOffset: 8, as: Int32.self) == 6)
        _ = consume buffer
        #expect(freed.count == 1)
    }

    @Test func anArrayWithoutBuffersIsReleasedAtOnce() throws {
        let fixture = HandBuiltArray(length: 4, nullCount: 4, buffers: [])
        let data = try CDataInterface.importArray(from: fixture.array, type: .null)
        #expect(data.nullCount == 4)
        #expect(fixture.released.count == 1)
    }

    @Test func importedMemoryIsReleasedFromAnotherThread() async throws {
        let freed = Counter()
        var array = ArrowArray()
        try CDataInterface.exportArray(int32Array([1], freed: freed), into: &array)
        var imported: ArrayData? = try CDataInterface.importArray(from: &array, type: .int32)
        let task = Task.detached { [data = imported] in data?.length ?? 0 }
        imported = nil
        #expect(await task.value == 1)
        // The task's closure holds the last reference and goes away with the task, on its thread.
        for _ in 0..<200 where freed.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(freed.count == 1)
    }

    @Test func anArrayCannotBeImportedTwice() throws {
        var array = ArrowArray()
        try CDataInterface.exportArray(int32Array([1], freed: Counter()), into: &array)
        _ = try CDataInterface.importArray(from: &array, type: .int32)
        #expect(throws: ArrowError.self) { try CDataInterface.importArray(from: &array, type: .int32) }
    }

    @Test func aThrowingExportLeavesTheStructUntouched() {
        var schema = ArrowSchema()
        #expect(throws: ArrowError.self) {
            try CDataInterface.exportField(Field("x", .decimal(bitWidth: 48, precision: 5, scale: 0)), into: &schema)
        }
        #expect(throws: ArrowError.self) { try CDataInterface.exportField(Field("a\u{0}b", .int8), into: &schema) }
        #expect(schema.release == nil)
        var array = ArrowArray()
        let wrong = ArrayData(type: .utf8, length: 0, nullCount: 0, buffers: [Buffer()])
        #expect(throws: ArrowError.self) { try CDataInterface.exportArray(wrong, into: &array) }
        #expect(array.release == nil)
    }

    // MARK: Malformed input

    @Test(arguments: [
        "", "q", "ii", "d:", "d:10", "d:0,2", "d:10,2,48", "d:40,2", "d:+5,2", "d:5,2,32,1", "w:", "w:-1", "w:x", "tsx:", "ts",
        "tss", "tt", "ttu:", "tD", "ti", "+w:", "+w:-2", "+ud:1,a", "+ud:200", "+ud:0,0", "vx", "+", "+q", "+l", "+m", "+r",
    ])
    func malformedFormatStringsAreRejected(_ format: String) {
        let fixture = HandBuiltSchema(format: format)
        #expect(throws: ArrowError.self) { try CDataInterface.importField(from: fixture.schema) }
        #expect(fixture.released.count == 1)
        #expect(fixture.schema.pointee.release == nil)
    }

    @Test func malformedSchemaStructsAreRejectedAndReleasedOnce() {
        let leaf = HandBuiltSchema(format: "i")
        let cases: [(HandBuiltSchema, Comment)] = [
            (HandBuiltSchema(format: nil), "NULL format"),
            (HandBuiltSchema(format: "+s", childCount: -1), "negative child count"),
            (HandBuiltSchema(format: "+l", childCount: 1), "NULL children array"),
            (HandBuiltSchema(format: "+l", children: [nil]), "NULL child"),
            (HandBuiltSchema(format: "i", children: [leaf]), "a primitive type with a child"),
            (HandBuiltSchema(format: "g", dictionary: HandBuiltSchema(format: "u")), "a dictionary index that is not an integer"),
            (HandBuiltSchema(format: "+m", children: [HandBuiltSchema(format: "i")]), "map entries that are not a struct"),
            (HandBuiltSchema(format: "+r", children: [HandBuiltSchema(format: "f"), HandBuiltSchema(format: "u")]), "float run ends"),
            (HandBuiltSchema(format: "i", metadata: bytes([Int32(-1)])), "negative metadata count"),
            (HandBuiltSchema(format: "i", metadata: bytes([Int32(1), 1]) + [0xFF] + bytes([Int32(0)])), "metadata that is not UTF-8"),
        ]
        for (fixture, comment) in cases {
            #expect(throws: ArrowError.self, comment) { try CDataInterface.importField(from: fixture.schema) }
            #expect(fixture.released.count == 1, comment)
        }
        #expect(leaf.released.count == 0, "a consumer never releases a child")

        let released = HandBuiltSchema(format: "i")
        released.schema.pointee.release = nil
        #expect(throws: ArrowError.self) { try CDataInterface.importField(from: released.schema) }
        #expect(released.released.count == 0)
    }

    @Test func malformedArrayStructsAreRejectedAndReleasedOnce() {
        let values = bytes([Int32(1), 2, 3, 4, 5])
        let cases: [(HandBuiltArray, DataType, Comment)] = [
            (HandBuiltArray(length: 5, buffers: [nil, nil]), .int32, "NULL values buffer"),
            (HandBuiltArray(length: -1, buffers: [nil, values]), .int32, "negative length"),
            (HandBuiltArray(length: 5, offset: -2, buffers: [nil, values]), .int32, "negative offset"),
            (HandBuiltArray(length: 5, nullCount: -7, buffers: [nil, values]), .int32, "null count below -1"),
            (HandBuiltArray(length: 5, nullCount: 2, buffers: [nil, values]), .int32, "nulls without a validity buffer"),
            (HandBuiltArray(length: 5, nullCount: 2, buffers: [[0xFF], values]), .int32, "a null count the bitmap contradicts"),
            (HandBuiltArray(length: 5, buffers: [values]), .int32, "one buffer for int32"),
            (HandBuiltArray(length: 5, buffers: [nil, values, values]), .int32, "three buffers for int32"),
            (HandBuiltArray(length: 2, buffers: [nil, bytes([Int32(0), 3, 1]), [1, 2, 3]]), .utf8, "decreasing offsets"),
            (HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(0), 3]), nil]), .utf8, "NULL data with a non-empty value"),
            (HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(0), -3]), [1]]), .utf8, "negative last offset"),
            (HandBuiltArray(length: 2, buffers: [nil, [0, 1]]), .dictionary(index: .int8, value: .utf8, ordered: false), "no dictionary"),
            (HandBuiltArray(length: 2, buffers: [nil]), .struct([Field("a", .int32)]), "missing struct child"),
            (HandBuiltArray(length: 2, buffers: [[0, 0]]), .union(.sparse, [], typeIDs: []), "unknown union type id"),
            (HandBuiltArray(length: 1, buffers: []), .runEndEncoded(runEnds: Field("r", .int32), values: Field("v", .int8)),
             "run-end encoded without children"),
            (HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(20), 0, 0, 0]), nil]), .utf8View, "a long view without data buffers"),
            (HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(1)])], children: [HandBuiltArray(length: 1, buffers: [])]), .int32,
             "a child on a primitive array"),
            (HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(1)])], dictionary: HandBuiltArray(length: 1, buffers: [])), .int32,
             "a dictionary on an array that is not dictionary-encoded"),
        ]
        for (fixture, type, comment) in cases {
            #expect(throws: ArrowError.self, comment) { try CDataInterface.importArray(from: fixture.array, type: type) }
            #expect(fixture.released.count == 1, comment)
            #expect(fixture.array.pointee.release == nil, comment)
        }
    }

    @Test func schemasNestedDeeperThanTheLimitAreRejected() {
        var nodes = [HandBuiltSchema(format: "i")]
        for _ in 0..<(ArrayData.maximumNestingDepth + 2) {
            nodes.append(HandBuiltSchema(format: "+l", children: [nodes[nodes.count - 1]]))
        }
        let root = nodes[nodes.count - 1]
        #expect(throws: ArrowError.self) { try CDataInterface.importField(from: root.schema) }
        #expect(root.released.count == 1)
    }

    @Test func aReleasedArrayIsRejectedWithoutCallingRelease() {
        let fixture = HandBuiltArray(length: 1, buffers: [nil, bytes([Int32(1)])])
        fixture.array.pointee.release = nil
        #expect(throws: ArrowError.self) { try CDataInterface.importArray(from: fixture.array, type: .int32) }
        #expect(fixture.released.count == 0)
    }

    @Test func aRecordBatchWithTopLevelNullsIsRejected() {
        let column = HandBuiltArray(length: 2, buffers: [nil, bytes([Int32(1), 2])])
        let fixture = HandBuiltArray(length: 2, nullCount: 1, buffers: [[0b01]], children: [column])
        #expect(throws: ArrowError.self) {
            try CDataInterface.importRecordBatch(array: fixture.array, schema: Schema([Field("a", .int32)]))
        }
        #expect(fixture.released.count == 1)
        #expect(column.released.count == 0, "a consumer never releases a child")
    }

    @Test func aBadSchemaStillReleasesTheBatchArray() throws {
        var array = ArrowArray()
        let freed = Counter()
        let batch = try RecordBatch(schema: Schema([Field("a", .int32)]), columns: [int32Array([1], freed: freed)])
        try CDataInterface.exportRecordBatch(batch, into: &array)
        _ = consume batch
        let schema = HandBuiltSchema(format: "i")
        #expect(throws: ArrowError.self) { try CDataInterface.importRecordBatch(array: &array, schema: schema.schema) }
        #expect(schema.released.count == 1)
        #expect(array.release == nil)
        #expect(freed.count == 1)
    }

    @Test func aHandBuiltArrayImportsAndIsReleasedWhenDropped() throws {
        let fixture = HandBuiltArray(length: 3, nullCount: -1, offset: 1, buffers: [[0b1011], bytes([Int32(9), 8, 7, 6])])
        var data: ArrayData? = try CDataInterface.importArray(from: fixture.array, type: .int32)
        #expect(data?.nullCount == 1)
        #expect(data?.value(2, as: Int32.self) == 6)
        #expect(fixture.released.count == 0)
        data = nil
        #expect(fixture.released.count == 1)
    }
}
