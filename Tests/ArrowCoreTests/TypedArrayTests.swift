import Testing
@testable import ArrowCore

private func int32Array(_ values: [Int32?]) -> ArrayData {
    let builder = PrimitiveBuilder<Int32>()
    builder.append(contentsOf: values)
    return builder.finish()
}

private func stringArray(_ values: [String?], type: DataType) throws -> ArrayData {
    var builder = makeBuilder(for: type)
    for value in values {
        switch builder {
        case let b as StringBuilder: try b.append(value)
        case let b as LargeStringBuilder: try b.append(value)
        case let b as StringViewBuilder: try b.append(value)
        default: builder.appendNull()
        }
    }
    return builder.finish()
}

@Suite("Typed arrays")
struct TypedArrayTests {
    @Test("a view refuses an array of another type")
    func viewsCheckTheirType() throws {
        let ints = int32Array([1, 2])
        #expect(throws: ArrowError.self) { try PrimitiveArray<Int64>(ints) }
        #expect(throws: ArrowError.self) { try PrimitiveArray<UInt32>(ints) }
        #expect(throws: ArrowError.self) { try PrimitiveArray<Float>(ints) }
        #expect(throws: ArrowError.self) { try BooleanArray(ints) }
        #expect(throws: ArrowError.self) { try StringArray(ints) }
        #expect(throws: ArrowError.self) { try BinaryArray(ints) }
        #expect(throws: ArrowError.self) { try ListArray(ints) }
        #expect(throws: ArrowError.self) { try StructArray(ints) }
        #expect(throws: ArrowError.self) { try UnionArray(ints) }
        #expect(throws: ArrowError.self) { try DictionaryArray(ints) }
        #expect(throws: ArrowError.self) { try RunEndEncodedArray(ints) }
        #expect(throws: ArrowError.self) { try DecimalArray(ints) }
        #expect(throws: ArrowError.self) { try NullArray(ints) }
        let strings = try stringArray(["a"], type: .utf8)
        #expect(throws: ArrowError.self) { try BinaryArray(strings) }
        #expect(throws: ArrowError.self) { try PrimitiveArray<Int32>(strings) }
        #expect(try PrimitiveArray<Int32>(ints).count == 2)
    }

    @Test("a view refuses buffers too small for the array's length")
    func viewsCheckBufferSizes() {
        let short = ArrayData(type: .int64, length: 4, nullCount: 0, buffers: [Buffer(), Buffer(values: [Int64(1), 2])])
        #expect(throws: ArrowError.self) { try PrimitiveArray<Int64>(short) }
        let missing = ArrayData(type: .int64, length: 1, nullCount: 0, buffers: [Buffer()])
        #expect(throws: ArrowError.self) { try PrimitiveArray<Int64>(missing) }
        let noBitmap = ArrayData(type: .int64, length: 2, nullCount: 1, buffers: [Buffer(), Buffer(values: [Int64(1), 2])])
        #expect(throws: ArrowError.self) { try PrimitiveArray<Int64>(noBitmap) }
        let offsets = ArrayData(type: .utf8, length: 3, nullCount: 0,
                                buffers: [Buffer(), Buffer(values: [Int32(0), 1]), Buffer(copying: [65])])
        #expect(throws: ArrowError.self) { try StringArray(offsets) }
        let views = ArrayData(type: .utf8View, length: 2, nullCount: 0, buffers: [Buffer(), Buffer(values: [UInt64(0)])])
        #expect(throws: ArrowError.self) { try StringArray(views) }
        let child = int32Array([1, 2, 3])
        let lists = ArrayData(type: .fixedSizeList(Field("item", .int32), 2), length: 2, nullCount: 0, buffers: [Buffer()],
                              children: [child])
        #expect(throws: ArrowError.self) { try ListArray(lists) }
        let fixed = ArrayData(type: .fixedSizeBinary(Int.max), length: 2, nullCount: 0, buffers: [Buffer(), Buffer()])
        #expect(throws: ArrowError.self) { try BinaryArray(fixed) }
    }

    @Test("init(validating:) rejects offsets that a plain view would only trust")
    func validatingInitRejectsBadOffsets() {
        let bad = ArrayData(type: .utf8, length: 1, nullCount: 0,
                            buffers: [Buffer(), Buffer(values: [Int32(0), 50]), Buffer(copying: [65, 66])])
        #expect(throws: ArrowError.self) { try StringArray(validating: bad) }
        let good = ArrayData(type: .utf8, length: 1, nullCount: 0,
                             buffers: [Buffer(), Buffer(values: [Int32(0), 2]), Buffer(copying: [65, 66])])
        #expect((try? StringArray(validating: good))?.first == "AB")
    }

    @Test("primitive views read slices from the slice's first slot")
    func primitiveSlices() throws {
        let values: [Int32?] = (0..<100).map { $0 % 7 == 3 ? nil : Int32($0) }
        let array = int32Array(values)
        for (start, length) in [(0, 100), (1, 50), (13, 0), (64, 36), (99, 1)] {
            let view = try PrimitiveArray<Int32>(try array.slice(start, length))
            #expect(view.count == length)
            #expect(Array(view) == Array(values[start..<(start + length)]))
            #expect(view.nullCount == values[start..<(start + length)].filter { $0 == nil }.count)
        }
        let view = try PrimitiveArray<Int32>(try array.slice(3, 5))
        #expect(view.isNull(0))
        #expect(view.value(at: 0) == 0)
        #expect(view.value(at: 1) == 4)
        let sum: Int32 = view.compactMap { $0 }.reduce(0, +)
        #expect(sum == 22)
    }

    @Test("boolean views read slices that start inside a byte")
    func booleanSlices() throws {
        let builder = BooleanBuilder()
        let values: [Bool?] = (0..<40).map { $0 % 6 == 0 ? nil : $0 % 4 < 2 }
        builder.append(contentsOf: values)
        let array = builder.finish()
        for start in [0, 3, 8, 11] {
            let view = try BooleanArray(try array.slice(start, 20))
            #expect(Array(view) == Array(values[start..<(start + 20)]))
        }
    }

    @Test("string views of every layout read slices, empty strings and long view strings",
          arguments: [DataType.utf8, .largeUtf8, .utf8View])
    func stringSlices(type: DataType) throws {
        let long = "this string is longer than twelve bytes"
        let values: [String?] = ["", "a", nil, long, "exactly12byt", "", long + "!", nil, "z"]
        let array = try roundTripThroughIPCStream(try stringArray(values, type: type))
        #expect(array.type == type)
        let whole = try StringArray(array)
        #expect(Array(whole) == values)
        #expect(whole.utf8Count(at: 3) == long.utf8.count)
        #expect(whole.withUTF8(at: 4) { Array($0) } == Array("exactly12byt".utf8))
        let slice = try StringArray(try array.slice(2, 5))
        #expect(Array(slice) == Array(values[2..<7]))
        #expect(slice.isNull(0))
        #expect(!slice.isNull(1))
    }

    @Test("binary views of every layout read zero-copy values and slices")
    func binarySlices() throws {
        let values: [[UInt8]?] = [[1, 2, 3], nil, [], [UInt8](repeating: 0xAB, count: 40), [4, 5, 6]]
        let builders: [any ArrayBuilder] = [BinaryBuilder(), LargeBinaryBuilder(), BinaryViewBuilder()]
        for var builder in builders {
            for value in values {
                switch builder {
                case let b as BinaryBuilder: try b.append(value)
                case let b as LargeBinaryBuilder: try b.append(value)
                case let b as BinaryViewBuilder: try b.append(value)
                default: builder.appendNull()
                }
            }
            let array = try roundTripThroughIPCStream(builder.finish())
            let view = try BinaryArray(array)
            #expect(view.map { $0?.array } == values)
            let slice = try BinaryArray(try array.slice(3, 2))
            #expect(slice.map { $0?.array } == Array(values[3..<5]))
            #expect(slice.withBytes(at: 1) { Array($0) } == [4, 5, 6])
        }
        let fixed = try FixedSizeBinaryBuilder(byteWidth: 2)
        try fixed.append([1, 2]); try fixed.append(nil); try fixed.append([3, 4])
        let view = try BinaryArray(try fixed.finish().slice(1, 2))
        #expect(view.map { $0?.array } == [nil, [3, 4]])
        #expect(view.bytes(at: 0).count == 2)
    }

    @Test("a binary element stays readable after the view and its array are gone")
    func binaryElementsOwnTheirMemory() throws {
        let element: Buffer? = try {
            let builder = BinaryBuilder()
            try builder.append([9, 8, 7])
            return try BinaryArray(builder.finish())[0]
        }()
        #expect(element?.array == [9, 8, 7])
    }

    @Test("list views of every kind read their elements from slices",
          arguments: [ListKind.list, .largeList, .listView, .largeListView, .fixedSize(2)])
    func listSlices(kind: ListKind) throws {
        let builder = try ListBuilder(kind, values: PrimitiveBuilder<Int32>())
        var expected: [[Int32?]?] = []
        for i in 0..<10 {
            let list: [Int32?]? = i % 4 == 1 ? nil : [Int32(i), i % 3 == 0 ? nil : Int32(-i)]
            if let list {
                builder.values.append(contentsOf: list)
                try builder.append()
            } else {
                builder.appendNull()
            }
            expected.append(list)
        }
        let array = try roundTripThroughIPCStream(builder.finish())
        for (start, length) in [(0, 10), (1, 4), (5, 5), (9, 1), (4, 0)] {
            let view = try ListArray(try array.slice(start, length))
            let contents: [[Int32?]?] = try view.map { list in try list.map { Array(try PrimitiveArray<Int32>($0)) } }
            #expect(contents == Array(expected[start..<(start + length)]), "\(kind) \(start) \(length)")
        }
        let view = try ListArray(array)
        #expect(view.valueField.name == "item")
        #expect(view.valueRange(at: 2).count == 2)
        #expect(view.values(at: 1).length == (kind == .fixedSize(2) ? 2 : 0))
    }

    @Test("struct views slice their children to the struct's window")
    func structSlices() throws {
        let builder = StructBuilder(fields: [Field("n", .int32), Field("s", .utf8View)])
        let ns = try #require(builder.child(0, as: PrimitiveBuilder<Int32>.self))
        let ss = try #require(builder.child(1, as: StringViewBuilder.self))
        for i in 0..<6 {
            if i == 2 {
                builder.appendNull()
            } else {
                ns.append(Int32(i))
                try ss.append("row \(i) with a long enough string")
                builder.append()
            }
        }
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try StructArray(try array.slice(1, 4))
        #expect(view.length == 4)
        #expect(view.nullCount == 1)
        #expect(view.isNull(1))
        #expect(Array(try PrimitiveArray<Int32>(view.field(at: 0))) == [1, nil, 3, 4])
        #expect(try StringArray(view.columns[1])[3] == "row 4 with a long enough string")
        #expect(view.field(named: "missing") == nil)
    }

    @Test("union views find each slot's child and offset, also in slices")
    func unionSlices() throws {
        let dense = try DenseUnionBuilder(fields: [Field("i", .int32), Field("s", .utf8)],
                                          children: [PrimitiveBuilder<Int32>(), StringBuilder()])
        let sparse = try SparseUnionBuilder(fields: [Field("i", .int32), Field("s", .utf8)],
                                            children: [PrimitiveBuilder<Int32>(), StringBuilder()])
        for builder in [dense as any ArrayBuilder, sparse] {
            func add(_ value: Int32) throws {
                if let b = builder as? DenseUnionBuilder {
                    b.child(0, as: PrimitiveBuilder<Int32>.self)?.append(value); try b.append(childAt: 0)
                } else if let b = builder as? SparseUnionBuilder {
                    b.child(0, as: PrimitiveBuilder<Int32>.self)?.append(value); try b.append(childAt: 0)
                }
            }
            func add(_ value: String) throws {
                if let b = builder as? DenseUnionBuilder {
                    try b.child(1, as: StringBuilder.self)?.append(value); try b.append(childAt: 1)
                } else if let b = builder as? SparseUnionBuilder {
                    try b.child(1, as: StringBuilder.self)?.append(value); try b.append(childAt: 1)
                }
            }
            try add(1); try add("two"); try add(3); try add("four")
            var erased = builder
            let array = try roundTripThroughIPCStream(erased.finish())
            let view = try UnionArray(try array.slice(1, 3))
            #expect(view.map(\.childIndex) == [1, 0, 1])
            let strings = try StringArray(view.child(at: 1))
            let ints = try PrimitiveArray<Int32>(view.child(at: 0))
            #expect(strings[view[0].offset] == "two")
            #expect(ints[view[1].offset] == 3)
            #expect(strings[view[2].offset] == "four")
        }
    }

    @Test("dictionary views read indices from slices and keep the whole dictionary")
    func dictionarySlices() throws {
        let builder = try DictionaryBuilder<UInt16>()
        for value in ["x", "y", nil, "x", "z", "y"] as [String?] { try builder.append(value) }
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try DictionaryArray(try array.slice(2, 4))
        #expect(Array(view) == [nil, 0, 2, 1])
        #expect(view.index(at: 0) == 0)
        let dictionary = try StringArray(view.dictionary)
        #expect(view.compactMap { $0.flatMap { dictionary[$0] } } == ["x", "z", "y"])
    }

    @Test("run-end encoded views map logical slots to runs, by search and by iteration, in slices")
    func runEndEncodedSlices() throws {
        let builder = try RunEndEncodedBuilder(runEnds: .int32, values: PrimitiveBuilder<Int64>())
        let values: [Int64?] = [5, 5, 5, 6, nil, nil, 7, 7, 7, 7]
        for value in values { try builder.append(value) }
        let array = try roundTripThroughIPCStream(builder.finish())
        for (start, length) in [(0, 10), (1, 5), (4, 6), (9, 1), (3, 0)] {
            let view = try RunEndEncodedArray(try array.slice(start, length))
            let runValues = try PrimitiveArray<Int64>(view.values)
            let iterated = Array(view)
            let searched = (0..<length).map { view.physicalIndex(at: $0) }
            #expect(iterated == searched)
            #expect(iterated.map { runValues[$0] } == Array(values[start..<(start + length)]))
        }
        #expect(try RunEndEncodedArray(array).runCount == 4)
    }

    @Test("decimal views give exact text and sign-extended limbs")
    func decimalViews() throws {
        let builder = try DecimalBuilder(precision: 20, scale: 4, bitWidth: 128)
        for text in ["1", "-0.0001", nil, "1234567890123456.7891"] as [String?] { try builder.append(text) }
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try DecimalArray(try array.slice(1, 3))
        #expect(Array(view) == ["-0.0001", nil, "1234567890123456.7891"])
        #expect(view.limbs(at: 0) == [UInt64.max, UInt64.max])
        #expect(view.limbs(at: 2) == [12_345_678_901_234_567_891 as UInt64, 0])
        #expect(view.precision == 20)
        #expect(view.scale == 4)
    }

    @Test("views work on batches read from an IPC stream")
    func viewsOverIPCData() throws {
        let ids = PrimitiveBuilder<Int64>()
        let tags = try DictionaryBuilder<Int8>()
        for i in 0..<1000 {
            ids.append(i % 11 == 0 ? nil : Int64(i))
            try tags.append(["a", "b", "c"][i % 3])
        }
        let batch = try RecordBatch(["id": ids.finish(), "tag": tags.finish()])
        let stream = try IPCStreamWriter.encode(schema: batch.schema, batches: [batch])
        let read = try IPCStreamReader.readAll(stream)
        let back = try #require(read.batches.first)
        let idView = try PrimitiveArray<Int64>(back.columns[0])
        #expect(idView.compactMap { $0 }.count == 1000 - 91)
        #expect(idView[999] == 999)
        let tagView = try DictionaryArray(back.columns[1])
        #expect(tagView[4] == 1)
    }
}
