import Testing
@testable import ArrowCore

/// Validates `array`, sends it through an IPC stream as the only column of a batch, checks that
/// what comes back equals it, and returns the column read back.
@discardableResult
func roundTripThroughIPCStream(_ array: ArrayData, sourceLocation: SourceLocation = #_sourceLocation) throws -> ArrayData {
    try array.validate()
    let batch = try RecordBatch(["column": array])
    let stream = try IPCStreamWriter.encode(schema: batch.schema, batches: [batch])
    let read = try IPCStreamReader.readAll(stream)
    #expect(read.batches.count == 1, sourceLocation: sourceLocation)
    guard let back = read.batches.first else { return array }
    #expect(back.firstDifference(from: batch) == nil, sourceLocation: sourceLocation)
    return back.columns[0]
}

@Suite("Builders")
struct BuilderTests {
    // MARK: - Fixed width

    @Test("a primitive builder without nulls writes no validity bitmap")
    func primitiveWithoutNullsHasNoBitmap() throws {
        let builder = PrimitiveBuilder<Int32>()
        builder.append(contentsOf: [1, 2, 3] as [Int32])
        let array = builder.finish()
        #expect(array.length == 3)
        #expect(array.nullCount == 0)
        #expect(array.buffers[0].count == 0)
        try roundTripThroughIPCStream(array)
        #expect(Array(try PrimitiveArray<Int32>(array)) == [1, 2, 3])
    }

    @Test("a primitive builder materializes the bitmap at the first null, keeping earlier slots valid")
    func primitiveMaterializesBitmapLazily() throws {
        let builder = PrimitiveBuilder<Int64>(capacity: 1)
        var expected: [Int64?] = []
        for i in 0..<1000 {
            let value: Int64? = i % 97 == 96 ? nil : Int64(i) * -3
            builder.append(value)
            expected.append(value)
        }
        #expect(builder.nullCount == 10)
        let array = builder.finish()
        #expect(array.nullCount == 10)
        #expect(array.buffers[0].count == 125)
        let back = try roundTripThroughIPCStream(array)
        #expect(Array(try PrimitiveArray<Int64>(back)) == expected)
    }

    @Test("every numeric Swift type builds its Arrow type and reads back")
    func everyNumericType() throws {
        func check<T: ArrowPrimitiveType & Equatable>(_ values: [T?]) throws {
            let builder = PrimitiveBuilder<T>()
            builder.append(contentsOf: values)
            let array = builder.finish()
            #expect(array.type == T.arrowType)
            let back = try roundTripThroughIPCStream(array)
            #expect(Array(try PrimitiveArray<T>(back)) == values)
        }
        try check([Int8.min, nil, Int8.max, 0])
        try check([Int16.min, nil, Int16.max])
        try check([Int32.min, nil, Int32.max])
        try check([Int64.min, nil, Int64.max])
        try check([UInt8.max, nil, 0])
        try check([UInt16.max, nil, 1])
        try check([UInt32.max, nil, 2])
        try check([UInt64.max, nil, 3])
        try check([Float16(1.5), nil, -Float16.infinity])
        try check([Float(0.1), nil, -Float.greatestFiniteMagnitude])
        try check([Double.pi, nil, -0.0, Double.leastNonzeroMagnitude])
        try check([DayTimeInterval(days: 1, milliseconds: -5), nil])
        try check([MonthDayNanoInterval(months: -2, days: 3, nanoseconds: Int64.max), nil])
    }

    @Test("interval structs have the byte layout of the format")
    func intervalLayouts() {
        #expect(MemoryLayout<DayTimeInterval>.size == 8)
        #expect(MemoryLayout<DayTimeInterval>.offset(of: \.milliseconds) == 4)
        #expect(MemoryLayout<MonthDayNanoInterval>.size == 16)
        #expect(MemoryLayout<MonthDayNanoInterval>.offset(of: \.days) == 4)
        #expect(MemoryLayout<MonthDayNanoInterval>.offset(of: \.nanoseconds) == 8)
    }

    @Test("temporal types build through the integer builder and keep their type")
    func temporalTypes() throws {
        let types: [DataType] = [.date32, .time32(.millisecond), .interval(.yearMonth)]
        for type in types {
            let builder = try PrimitiveBuilder<Int32>(type: type)
            builder.append(contentsOf: [18_000, nil, -1] as [Int32?])
            let array = builder.finish()
            #expect(array.type == type)
            #expect(Array(try PrimitiveArray<Int32>(try roundTripThroughIPCStream(array))) == [18_000, nil, -1])
        }
        let wide: [DataType] = [.date64, .time64(.nanosecond), .timestamp(.microsecond, timeZone: "UTC"),
                                .timestamp(.second, timeZone: nil), .duration(.millisecond)]
        for type in wide {
            let builder = try PrimitiveBuilder<Int64>(type: type)
            builder.append(contentsOf: [1_700_000_000_000, nil] as [Int64?])
            let array = builder.finish()
            #expect(array.type == type)
            #expect(Array(try PrimitiveArray<Int64>(try roundTripThroughIPCStream(array))) == [1_700_000_000_000, nil])
        }
    }

    @Test("a primitive builder refuses a type its Swift type does not store")
    func primitiveTypeMismatch() {
        #expect(throws: ArrowError.self) { try PrimitiveBuilder<Int32>(type: .int64) }
        #expect(throws: ArrowError.self) { try PrimitiveBuilder<UInt32>(type: .int32) }
        #expect(throws: ArrowError.self) { try PrimitiveBuilder<Int64>(type: .float64) }
    }

    @Test("a builder starts again empty after finish and can be reused")
    func builderReuseAfterFinish() throws {
        let builder = PrimitiveBuilder<Int16>()
        builder.append(1)
        builder.appendNull()
        let first = builder.finish()
        #expect(builder.length == 0)
        builder.append(7)
        let second = builder.finish()
        #expect(Array(try PrimitiveArray<Int16>(first)) == [1, nil])
        #expect(Array(try PrimitiveArray<Int16>(second)) == [7])
        #expect(second.nullCount == 0)
        #expect(second.buffers[0].count == 0)
    }

    @Test("appending a buffer of values copies them in one go")
    func primitiveAppendsBuffer() throws {
        let builder = PrimitiveBuilder<Double>()
        builder.appendNull()
        let values: [Double] = (0..<100).map { Double($0) / 4 }
        values.withUnsafeBufferPointer { builder.append(contentsOf: $0) }
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(Array(try PrimitiveArray<Double>(array)) == [nil] + values.map { $0 })
    }

    @Test("booleans pack into bits across byte boundaries, with nulls")
    func booleans() throws {
        let builder = BooleanBuilder()
        var expected: [Bool?] = []
        for i in 0..<77 {
            let value: Bool? = i % 5 == 0 ? nil : i % 3 == 0
            builder.append(value)
            expected.append(value)
        }
        let array = builder.finish()
        #expect(array.nullCount == 16)
        #expect(Array(try BooleanArray(try roundTripThroughIPCStream(array))) == expected)
    }

    @Test("a null builder counts slots")
    func nulls() throws {
        let builder = NullBuilder()
        builder.appendNulls(5)
        builder.appendNull()
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(array.length == 6)
        #expect(array.nullCount == 6)
        #expect(try NullArray(array).isNull(5))
    }

    // MARK: - Strings and binary

    @Test("string builders of both offset widths keep nulls, empty strings and non-ASCII text")
    func strings() throws {
        let values: [String?] = ["", "a", nil, "héllo wörld", "", nil, String(repeating: "xyz", count: 100), "🙂"]
        let small = StringBuilder()
        let large = LargeStringBuilder()
        try small.append(contentsOf: values)
        try large.append(contentsOf: values)
        #expect(small.byteCount == large.byteCount)
        let a = small.finish(), b = large.finish()
        #expect(a.type == .utf8)
        #expect(b.type == .largeUtf8)
        #expect(a.nullCount == 2)
        #expect(Array(try StringArray(try roundTripThroughIPCStream(a))) == values)
        #expect(Array(try StringArray(try roundTripThroughIPCStream(b))) == values)
    }

    @Test("binary builders of both offset widths keep bytes, nulls and empty values")
    func binaries() throws {
        let values: [[UInt8]?] = [[], [0, 255, 1], nil, [UInt8](repeating: 7, count: 300)]
        let small = BinaryBuilder()
        let large = LargeBinaryBuilder()
        for value in values {
            try small.append(value)
            try large.append(value)
        }
        for array in [small.finish(), large.finish()] {
            let back = try BinaryArray(try roundTripThroughIPCStream(array))
            #expect(back.map { $0?.array } == values)
        }
    }

    @Test("an empty string builder still writes the first offset")
    func emptyStringArray() throws {
        let array = StringBuilder().finish()
        #expect(array.length == 0)
        #expect(array.buffers[1].count == 4)
        try roundTripThroughIPCStream(array)
    }

    @Test("string views keep values of up to 12 bytes inline and longer ones in data blocks")
    func stringViews() throws {
        let builder = StringViewBuilder()
        let twelve = "abcdefghijkl", thirteen = "abcdefghijklm"
        let values: [String?] = ["", "short", nil, twelve, thirteen, "a much longer string that needs a data buffer", "ünïcödé ✓✓✓"]
        try builder.append(contentsOf: values)
        let array = builder.finish()
        #expect(array.type == .utf8View)
        #expect(array.buffers.count == 3)  // validity, views, one data block
        #expect(array.buffers[2].count == thirteen.utf8.count + 45 + "ünïcödé ✓✓✓".utf8.count)
        #expect(Array(try StringArray(try roundTripThroughIPCStream(array))) == values)
    }

    @Test("string views spill into several data blocks as the data grows")
    func stringViewBlocks() throws {
        let builder = StringViewBuilder()
        var expected: [String?] = []
        for i in 0..<3000 {
            let value = i % 10 == 0 ? nil : "value number \(i) " + String(repeating: "=", count: i % 50)
            try builder.append(value)
            expected.append(value)
        }
        let array = builder.finish()
        #expect(array.buffers.count > 4)
        #expect(Array(try StringArray(try roundTripThroughIPCStream(array))) == expected)
    }

    @Test("binary views keep bytes, nulls and long values")
    func binaryViews() throws {
        let builder = BinaryViewBuilder()
        let values: [[UInt8]?] = [[], [1], nil, [UInt8](0..<12), [UInt8](0..<13), [UInt8](repeating: 9, count: 20_000)]
        for value in values { try builder.append(value) }
        let back = try BinaryArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(back.map { $0?.array } == values)
    }

    @Test("fixed-size binary takes values of its width and rejects others")
    func fixedSizeBinary() throws {
        let builder = try FixedSizeBinaryBuilder(byteWidth: 3)
        try builder.append([1, 2, 3])
        try builder.append(nil)
        #expect(throws: ArrowError.self) { try builder.append([1, 2]) }
        #expect(throws: ArrowError.self) { try builder.append([1, 2, 3, 4]) }
        try builder.append([255, 0, 255])
        #expect(builder.length == 3)
        let back = try BinaryArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(back.map { $0?.array } == [[1, 2, 3], nil, [255, 0, 255]])
        #expect(throws: ArrowError.self) { try FixedSizeBinaryBuilder(byteWidth: -1) }
    }

    @Test("a fixed-size binary builder of width zero still counts slots")
    func fixedSizeBinaryOfWidthZero() throws {
        let builder = try FixedSizeBinaryBuilder(byteWidth: 0)
        try builder.append([])
        builder.appendNull()
        let back = try BinaryArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(back.map { $0?.array } == [[], nil])
    }

    // MARK: - Decimals

    @Test("decimal text parses exactly at every bit width",
          arguments: [32, 64, 128, 256])
    func decimalParsing(bitWidth: Int) throws {
        let precision = maximumDecimalPrecision(bitWidth: bitWidth) ?? 0
        let builder = try DecimalBuilder(precision: precision, scale: 3, bitWidth: bitWidth)
        let cases: [(String, String)] = [
            ("-12.345", "-12.345"), ("0", "0.000"), ("-0", "0.000"), ("+7", "7.000"), (".5", "0.500"),
            ("5.", "5.000"), ("1.230", "1.230"), ("1.2300", "1.230"), ("0001.1", "1.100"), ("1.5e2", "150.000"),
            ("2E-3", "0.002"), ("-1000e-6", "-0.001"), ("12e+0", "12.000"), ("000.000", "0.000"),
        ]
        var expected: [String?] = []
        for (text, value) in cases {
            try builder.append(text)
            expected.append(value)
        }
        try builder.append(nil)
        expected.append(nil)
        let largest = String(repeating: "9", count: precision - 3) + ".999"
        try builder.append(largest)
        try builder.append("-" + largest)
        expected += [largest, "-" + largest]
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(Array(try DecimalArray(array)) == expected)
    }

    @Test("decimal text that is malformed, too precise or cut by the scale is rejected")
    func decimalErrors() throws {
        let builder = try DecimalBuilder(precision: 5, scale: 2)
        for text in ["", "-", "+", ".", "abc", "1.2.3", "1,5", " 1", "1 ", "1e", "1e+", "--1", "0x10", "1.234", "1234.5",
                     "100000", "1e3", "1e-3", "NaN", "inf"] {
            #expect(throws: ArrowError.self, "\(text)") { try builder.append(text) }
        }
        #expect(builder.length == 0)
        try builder.append("999.99")
        try builder.append("-999.99")
        try builder.append("1e2")
        try builder.append("0.010")
        #expect(Array(try DecimalArray(try roundTripThroughIPCStream(builder.finish()))) == ["999.99", "-999.99", "100.00", "0.01"])
    }

    @Test("decimal builders refuse impossible widths and precisions")
    func decimalTypeChecks() {
        #expect(throws: ArrowError.self) { try DecimalBuilder(precision: 10, scale: 0, bitWidth: 32) }
        #expect(throws: ArrowError.self) { try DecimalBuilder(precision: 39, scale: 0, bitWidth: 128) }
        #expect(throws: ArrowError.self) { try DecimalBuilder(precision: 77, scale: 0, bitWidth: 256) }
        #expect(throws: ArrowError.self) { try DecimalBuilder(precision: 0, scale: 0) }
        #expect(throws: ArrowError.self) { try DecimalBuilder(precision: 5, scale: 0, bitWidth: 48) }
    }

    @Test("decimals with negative scale count the zeros they imply")
    func decimalNegativeScale() throws {
        let builder = try DecimalBuilder(precision: 4, scale: -2, bitWidth: 64)
        try builder.append("123400")
        try builder.append("-100")
        #expect(throws: ArrowError.self) { try builder.append("123450") }
        #expect(throws: ArrowError.self) { try builder.append("12340000") }
        let array = try DecimalArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(Array(array) == ["123400", "-100"])
        #expect(array.limbs(at: 0) == [1234])
    }

    @Test("unscaled decimal integers are checked against the precision and stored as limbs")
    func decimalUnscaled() throws {
        let builder = try DecimalBuilder(precision: 38, scale: 2)
        try builder.append(unscaled: -12345)
        try builder.append(unscaledLimbs: [UInt64.max, UInt64.max])  // -1
        let big = try DecimalBuilder(precision: 76, scale: 0, bitWidth: 256)
        try big.append(String(repeating: "9", count: 76))
        try big.append("-" + String(repeating: "9", count: 76))
        #expect(throws: ArrowError.self) { try big.append(String(repeating: "9", count: 77)) }
        #expect(throws: ArrowError.self) { try big.append(unscaledLimbs: [1, 0, 0, 0, 0]) }
        let small = try DecimalBuilder(precision: 3, scale: 0, bitWidth: 32)
        #expect(throws: ArrowError.self) { try small.append(unscaled: 1000) }
        try small.append(unscaled: -999)

        let a = try DecimalArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(Array(a) == ["-123.45", "-0.01"])
        #expect(a.limbs(at: 0) == [UInt64(bitPattern: -12345), UInt64.max])
        let b = try DecimalArray(try roundTripThroughIPCStream(big.finish()))
        #expect(b[0] == String(repeating: "9", count: 76))
        #expect(b[1] == "-" + String(repeating: "9", count: 76))
        #expect(b.limbs(at: 1).count == 4)
        #expect(b.limbs(at: 1)[3] >> 63 == 1)
        let c = try DecimalArray(try roundTripThroughIPCStream(small.finish()))
        #expect(c.limbs(at: 0) == [UInt64(bitPattern: -999)])
    }

    // MARK: - Lists

    @Test("lists of every offset kind hold their elements, empty lists and nulls",
          arguments: [ListKind.list, .largeList, .listView, .largeListView])
    func lists(kind: ListKind) throws {
        let builder = try ListBuilder(kind, values: PrimitiveBuilder<Int32>())
        try builder.append([1, 2, 3])
        try builder.append([])
        builder.appendNull()
        builder.values.append(4)
        builder.values.appendNull()
        try builder.append()
        let array = try roundTripThroughIPCStream(builder.finish())
        let lists = try ListArray(array)
        let contents = lists.map { $0.map { try? Array(PrimitiveArray<Int32>($0)) } }
        #expect(contents == [[1, 2, 3], [], nil, [4, nil]])
    }

    @Test("fixed-size lists need exactly their size of elements, and nulls fill it")
    func fixedSizeLists() throws {
        let builder = try ListBuilder(.fixedSize(2), values: StringBuilder())
        try builder.append(["a", "b"])
        builder.appendNull()
        try builder.values.append("c")
        #expect(throws: ArrowError.self) { try builder.append() }
        try builder.values.append("d")
        try builder.append()
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(array.children[0].length == 6)
        let lists = try ListArray(array)
        #expect(lists.map { $0.map { try? Array(StringArray($0)) } } == [["a", "b"], nil, ["c", "d"]])
    }

    @Test("a null fixed-size list closed with append(false) also gets its size of null elements")
    func fixedSizeListNullThroughAppend() throws {
        let builder = try ListBuilder(.fixedSize(3), values: PrimitiveBuilder<Int8>())
        try builder.append(false)
        try builder.append([1, 2, 3])
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(array.children[0].length == 6)
        #expect(array.children[0].nullCount == 3)
    }

    @Test("maps are lists of key/value structs")
    func maps() throws {
        let entries = StructBuilder(fields: [Field("key", .utf8, nullable: false), Field("value", .int64)])
        let builder = try ListBuilder(.map(keysSorted: false), values: entries)
        func entry(_ key: String, _ value: Int64?) throws {
            try entries.child(0, as: StringBuilder.self)?.append(key)
            entries.child(1, as: PrimitiveBuilder<Int64>.self)?.append(value)
            entries.append()
        }
        try entry("a", 1)
        try entry("b", nil)
        try builder.append()
        try builder.append()
        builder.appendNull()
        try entry("c", 3)
        try builder.append()
        let array = try roundTripThroughIPCStream(builder.finish())
        guard case .map(let field, false) = array.type else {
            Issue.record("not a map: \(array.type)")
            return
        }
        #expect(field.name == "entries")
        #expect(!field.nullable)
        let maps = try ListArray(array)
        #expect(maps[0]?.length == 2)
        #expect(maps[1]?.length == 0)
        #expect(maps[2] == nil)
        let last = try StructArray(try #require(maps[3]))
        #expect(Array(try StringArray(last.field(at: 0))) == ["c"])
        #expect(Array(try PrimitiveArray<Int64>(last.field(at: 1))) == [3])
    }

    @Test("a map over anything but a two-field struct is refused")
    func mapNeedsKeyValueStruct() {
        #expect(throws: ArrowError.self) { try ListBuilder(.map(keysSorted: true), values: StringBuilder()) }
        #expect(throws: ArrowError.self) { try ListBuilder(type: .list(Field("item", .int64)), values: StringBuilder()) }
        #expect(throws: ArrowError.self) { try ListBuilder(type: .int32, values: StringBuilder()) }
    }

    @Test("lists nest")
    func nestedLists() throws {
        let inner = try ListBuilder(values: BooleanBuilder())
        let outer = try ListBuilder(.largeList, values: inner)
        try inner.append([true])
        try inner.append([false, true])
        try outer.append()
        outer.appendNull()
        try outer.append()
        let array = try roundTripThroughIPCStream(outer.finish())
        let lists = try ListArray(array)
        let first = try ListArray(try #require(lists[0]))
        #expect(first.map { $0.map { try? Array(BooleanArray($0)) } } == [[true], [false, true]])
        #expect(lists[1] == nil)
        #expect(lists[2]?.length == 0)
    }

    // MARK: - Structs and unions

    @Test("structs hold one value per child per row, with null rows")
    func structs() throws {
        let builder = try StructBuilder(fields: [Field("id", .int32), Field("name", .utf8)],
                                        children: [PrimitiveBuilder<Int32>(), StringBuilder()])
        let ids = try #require(builder.child(0, as: PrimitiveBuilder<Int32>.self))
        let names = try #require(builder.child(1, as: StringBuilder.self))
        #expect(builder.child(1, as: PrimitiveBuilder<Int32>.self) == nil)
        ids.append(1); try names.append("one"); builder.append()
        builder.appendNull()
        ids.append(3); try names.append(nil); builder.append()
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try StructArray(array)
        #expect(view.isNull(1))
        #expect(!view.isNull(2))
        #expect(Array(try PrimitiveArray<Int32>(view.field(at: 0))) == [1, nil, 3])
        #expect(Array(try StringArray(try #require(view.field(named: "name")))) == ["one", nil, nil])
    }

    @Test("struct builders refuse children of the wrong type")
    func structTypeCheck() {
        #expect(throws: ArrowError.self) {
            try StructBuilder(fields: [Field("x", .int64)], children: [PrimitiveBuilder<Int32>()])
        }
        #expect(throws: ArrowError.self) { try StructBuilder(fields: [Field("x", .int64)], children: []) }
    }

    @Test("dense unions point each slot at one child value")
    func denseUnion() throws {
        let builder = try DenseUnionBuilder(fields: [Field("i", .int64), Field("s", .utf8)], typeIDs: [5, 9],
                                            children: [PrimitiveBuilder<Int64>(), StringBuilder()])
        let ints = try #require(builder.child(0, as: PrimitiveBuilder<Int64>.self))
        let strings = try #require(builder.child(1, as: StringBuilder.self))
        ints.append(10); try builder.append(childAt: 0)
        try strings.append("x"); try builder.append(childAt: 1)
        #expect(throws: ArrowError.self) { try builder.append(childAt: 1) }  // no new value
        #expect(throws: ArrowError.self) { try builder.append(childAt: 2) }
        builder.appendNull()
        ints.append(20); try builder.append(childAt: 0)
        let array = try roundTripThroughIPCStream(builder.finish())
        let union = try UnionArray(array)
        #expect(union.map(\.typeID) == [5, 9, 5, 5])
        #expect(union.map(\.offset) == [0, 0, 1, 2])
        #expect(union.isNull(2))
        #expect(!union.isNull(3))
        #expect(array.children[0].length == 3)
        #expect(array.children[1].length == 1)
    }

    @Test("sparse unions pad the unselected children")
    func sparseUnion() throws {
        let builder = try SparseUnionBuilder(fields: [Field("b", .bool), Field("f", .float64)],
                                             children: [BooleanBuilder(), PrimitiveBuilder<Double>()])
        let bools = try #require(builder.child(0, as: BooleanBuilder.self))
        let doubles = try #require(builder.child(1, as: PrimitiveBuilder<Double>.self))
        bools.append(true); try builder.append(childAt: 0)
        doubles.append(2.5); try builder.append(childAt: 1)
        builder.appendNull()
        #expect(throws: ArrowError.self) { try builder.append(childAt: 1) }
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(array.children.allSatisfy { $0.length == 3 })
        let union = try UnionArray(array)
        #expect(union.map(\.childIndex) == [0, 1, 0])
        #expect(Array(try PrimitiveArray<Double>(union.child(at: 1))) == [nil, 2.5, nil])
    }

    // MARK: - Dictionaries and runs

    @Test("a dictionary builder stores each distinct string once, in order of first appearance")
    func dictionaryDeduplicates() throws {
        let builder = try DictionaryBuilder<Int16>()
        let values: [String?] = ["red", "green", "red", nil, "", "blue", "green", "", "red"]
        for value in values { try builder.append(value) }
        #expect(builder.dictionaryCount == 4)
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try DictionaryArray(array)
        #expect(Array(view) == [0, 1, 0, nil, 2, 3, 1, 2, 0])
        #expect(Array(try StringArray(view.dictionary)) == ["red", "green", "", "blue"])
    }

    @Test("a dictionary builder deduplicates thousands of values through table growth")
    func dictionaryGrowth() throws {
        let builder = try DictionaryBuilder<Int32>(valueType: .largeUtf8)
        for round in 0..<3 {
            for i in 0..<5000 { try builder.append("key-\(i)") }
            #expect(builder.dictionaryCount == 5000, "round \(round)")
        }
        let array = try roundTripThroughIPCStream(builder.finish())
        let view = try DictionaryArray(array)
        #expect(view[12_345] == 2345)
        #expect(try StringArray(view.dictionary)[2345] == "key-2345")
    }

    @Test("a dictionary of int8 indices refuses a 129th distinct value but still finds old ones")
    func dictionaryIndexOverflow() throws {
        let builder = try DictionaryBuilder<Int8>(valueType: .binary)
        for i in 0..<128 { try builder.append(bytes: withUnsafeBytes(of: Int32(i)) { $0 }) }
        #expect(throws: ArrowError.self) { try builder.append("new") }
        try builder.append(bytes: withUnsafeBytes(of: Int32(5)) { $0 })
        #expect(builder.length == 129)
        let view = try DictionaryArray(try roundTripThroughIPCStream(builder.finish()))
        #expect(view[128] == 5)
        #expect(view[127] == 127)
    }

    @Test("dictionary builders take every integer index type")
    func dictionaryIndexTypes() throws {
        func check<I: ArrowPrimitiveType & FixedWidthInteger>(_: I.Type) throws {
            let builder = try DictionaryBuilder<I>(valueType: .utf8, ordered: true)
            try builder.append("x"); try builder.append(nil); try builder.append("y"); try builder.append("x")
            let array = try roundTripThroughIPCStream(builder.finish())
            #expect(array.type == .dictionary(index: I.arrowType, value: .utf8, ordered: true))
            #expect(Array(try DictionaryArray(array)) == [0, nil, 1, 0])
        }
        try check(Int8.self); try check(Int16.self); try check(Int32.self); try check(Int64.self)
        try check(UInt8.self); try check(UInt16.self); try check(UInt32.self); try check(UInt64.self)
        #expect(throws: ArrowError.self) { try DictionaryBuilder<Int32>(valueType: .int32) }
    }

    @Test("a dictionary index builder encodes any value type by hand")
    func dictionaryIndexBuilder() throws {
        let values = PrimitiveBuilder<Double>()
        let builder = try DictionaryIndexBuilder(indexType: .uint8, values: values)
        values.append(1.5)
        values.append(-2)
        try builder.append(index: 1)
        builder.appendNull()
        try builder.append(index: 0)
        #expect(throws: ArrowError.self) { try builder.append(index: 2) }
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(Array(try DictionaryArray(array)) == [1, nil, 0])
        #expect(Array(try PrimitiveArray<Double>(try #require(array.dictionary))) == [1.5, -2])
    }

    @Test("run-end encoding merges equal consecutive values and consecutive nulls")
    func runEndEncodingMerges() throws {
        let builder = try RunEndEncodedBuilder(runEnds: .int16, values: StringBuilder())
        let values: [String?] = ["a", "a", "a", "b", nil, nil, "b", "b", "a", "", ""]
        for value in values { try builder.append(value) }
        #expect(builder.runCount == 6)
        let array = try roundTripThroughIPCStream(builder.finish())
        let ree = try RunEndEncodedArray(array)
        #expect(ree.runEnds.length == 6)
        #expect(Array(try PrimitiveArray<Int16>(ree.runEnds)) == [3, 4, 6, 8, 9, 11])
        let runValues = try StringArray(ree.values)
        #expect(Array(runValues) == ["a", "b", nil, "b", "a", ""])
        #expect(ree.map { runValues[$0] } == values)
        #expect(ree.isNull(5))
    }

    @Test("run-end encoding refuses to pass what its run end type can count")
    func runEndOverflow() throws {
        let builder = try RunEndEncodedBuilder(runEnds: .int16, values: PrimitiveBuilder<Int8>())
        for _ in 0..<Int(Int16.max) { try builder.append(Int8(1)) }
        #expect(builder.runCount == 1)
        #expect(throws: ArrowError.self) { try builder.append(Int8(1)) }
        #expect(throws: ArrowError.self) { try builder.append(nil) }
        let array = try roundTripThroughIPCStream(builder.finish())
        #expect(array.length == Int(Int16.max))
        #expect(throws: ArrowError.self) { try RunEndEncodedBuilder(runEnds: .int8, values: PrimitiveBuilder<Int8>()) }
    }

    @Test("run-end encoding takes runs of any value type by hand")
    func runEndRunsByHand() throws {
        let builder = makeBuilder(for: .runEndEncoded(runEnds: Field("run_ends", .int64, nullable: false),
                                                      values: Field("values", .list(Field("item", .int32)))))
        let ree = try #require(builder as? RunEndEncodedBuilder<Never>)
        var lists = ree.values
        let typed = try #require((lists as? ListBuilder<AnyArrayBuilder>))
        let ints = try #require(typed.values.base as? PrimitiveBuilder<Int32>)
        ints.append(1); ints.append(2); try typed.append()
        try ree.appendRun(length: 3)
        #expect(throws: ArrowError.self) { try ree.appendRun(length: 1) }  // no new value
        lists.appendNull()
        try ree.appendRun(length: 2)
        ree.appendNull()
        let array = try roundTripThroughIPCStream(ree.finish())
        #expect(array.length == 6)
        #expect(Array(try RunEndEncodedArray(array)) == [0, 0, 0, 1, 1, 2])
    }

    // MARK: - Type-erased building

    static let everyType: [DataType] = [
        .null, .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float16, .float32, .float64,
        .decimal(bitWidth: 32, precision: 9, scale: 2), .decimal(bitWidth: 64, precision: 18, scale: 0),
        .decimal(bitWidth: 128, precision: 38, scale: 10), .decimal(bitWidth: 256, precision: 76, scale: -3),
        .date32, .date64, .time32(.second), .time64(.microsecond), .timestamp(.nanosecond, timeZone: "Europe/Paris"),
        .duration(.second), .interval(.yearMonth), .interval(.dayTime), .interval(.monthDayNano),
        .binary, .utf8, .largeBinary, .largeUtf8, .binaryView, .utf8View, .fixedSizeBinary(5),
        .list(Field("item", .int32)), .largeList(Field("x", .utf8, nullable: false)), .listView(Field("item", .bool)),
        .largeListView(Field("item", .float64)), .fixedSizeList(Field("item", .int16), 3),
        .struct([Field("a", .int8), Field("b", .list(Field("item", .utf8View)))]),
        .map(Field("entries", .struct([Field("key", .utf8, nullable: false), Field("value", .int32)]), nullable: false),
             keysSorted: false),
        .union(.dense, [Field("a", .int32), Field("b", .utf8)], typeIDs: [3, 7]),
        .union(.sparse, [Field("a", .int32), Field("b", .null)], typeIDs: [0, 1]),
        .dictionary(index: .int8, value: .utf8, ordered: false),
        .dictionary(index: .uint32, value: .largeBinary, ordered: true),
        .dictionary(index: .int32, value: .float64, ordered: false),
        .runEndEncoded(runEnds: Field("run_ends", .int32, nullable: false), values: Field("values", .utf8)),
    ]

    @Test("makeBuilder builds valid all-null arrays of every type", arguments: BuilderTests.everyType)
    func makeBuilderForEveryType(type: DataType) throws {
        var builder = makeBuilder(for: type)
        #expect(builder.type == type)
        builder.appendNulls(5)
        #expect(builder.length == 5)
        let array = builder.finish()
        #expect(array.type == type)
        #expect(array.length == 5)
        try roundTripThroughIPCStream(array)
        #expect(builder.length == 0)
        let empty = builder.finish()
        #expect(empty.length == 0)
        try roundTripThroughIPCStream(empty)
    }

    @Test("makeBuilder returns the concrete builders a converter casts to")
    func makeBuilderConcreteTypes() {
        #expect(makeBuilder(for: .int64) is PrimitiveBuilder<Int64>)
        #expect(makeBuilder(for: .timestamp(.millisecond, timeZone: nil)) is PrimitiveBuilder<Int64>)
        #expect(makeBuilder(for: .date32) is PrimitiveBuilder<Int32>)
        #expect(makeBuilder(for: .utf8) is StringBuilder)
        #expect(makeBuilder(for: .largeUtf8) is LargeStringBuilder)
        #expect(makeBuilder(for: .utf8View) is StringViewBuilder)
        #expect(makeBuilder(for: .decimal(bitWidth: 128, precision: 10, scale: 2)) is DecimalBuilder)
        #expect(makeBuilder(for: .dictionary(index: .int16, value: .utf8, ordered: false)) is DictionaryBuilder<Int16>)
        #expect(makeBuilder(for: .struct([])) is StructBuilder)
        #expect(makeBuilder(for: .list(Field("item", .int8))) is ListBuilder<AnyArrayBuilder>)
    }

    /// One built array per layout family, with nulls, for tests that slice them.
    static func sampleArrays() throws -> [ArrayData] {
        var arrays: [ArrayData] = []
        let ints = PrimitiveBuilder<Int32>()
        let bools = BooleanBuilder()
        let strings = StringBuilder()
        let views = StringViewBuilder()
        let binaries = LargeBinaryBuilder()
        let fixed = try FixedSizeBinaryBuilder(byteWidth: 4)
        let decimals = try DecimalBuilder(precision: 30, scale: 5)
        let dictionary = try DictionaryBuilder<Int8>()
        for i in 0..<20 {
            let valid = i % 4 != 2
            ints.append(valid ? Int32(i) : nil)
            bools.append(valid ? i % 3 == 0 : nil)
            try strings.append(valid ? "s\(i)" : nil)
            try views.append(valid ? "view string number \(i)" : nil)
            try binaries.append(valid ? [UInt8](repeating: UInt8(i), count: i) : nil)
            try fixed.append(valid ? [UInt8(i), 0, 0, UInt8(i)] : nil)
            try decimals.append(valid ? "-\(i).0\(i)" : nil)
            try dictionary.append(valid ? ["p", "q", "r"][i % 3] : nil)
        }
        arrays += [ints.finish(), bools.finish(), strings.finish(), views.finish(), binaries.finish(), fixed.finish(),
                   decimals.finish(), dictionary.finish()]
        for kind in [ListKind.list, .largeListView, .fixedSize(3)] {
            let lists = try ListBuilder(kind, values: PrimitiveBuilder<Int16>())
            for i in 0..<20 {
                if i % 5 == 1 { lists.appendNull(); continue }
                let count = if case .fixedSize(let n) = kind { n } else { i % 4 }
                for k in 0..<count { lists.values.append(Int16(i * 10 + k)) }
                try lists.append()
            }
            arrays.append(lists.finish())
        }
        let structs = StructBuilder(fields: [Field("a", .int64), Field("b", .utf8)])
        let dense = try DenseUnionBuilder(fields: [Field("a", .int64), Field("b", .utf8)],
                                          children: [PrimitiveBuilder<Int64>(), StringBuilder()])
        let sparse = try SparseUnionBuilder(fields: [Field("a", .int64), Field("b", .utf8)],
                                            children: [PrimitiveBuilder<Int64>(), StringBuilder()])
        let runs = try RunEndEncodedBuilder(runEnds: .int64, values: StringBuilder())
        for i in 0..<20 {
            if i % 6 == 5 {
                structs.appendNull()
            } else {
                structs.child(0, as: PrimitiveBuilder<Int64>.self)?.append(Int64(i))
                try structs.child(1, as: StringBuilder.self)?.append("row \(i)")
                structs.append()
            }
            if i % 2 == 0 {
                dense.child(0, as: PrimitiveBuilder<Int64>.self)?.append(Int64(i)); try dense.append(childAt: 0)
                sparse.child(0, as: PrimitiveBuilder<Int64>.self)?.append(Int64(i)); try sparse.append(childAt: 0)
            } else {
                try dense.child(1, as: StringBuilder.self)?.append("u\(i)"); try dense.append(childAt: 1)
                try sparse.child(1, as: StringBuilder.self)?.append("u\(i)"); try sparse.append(childAt: 1)
            }
            try runs.append(i % 7 == 3 ? nil : "run \(i / 3)")
        }
        arrays += [structs.finish(), dense.finish(), sparse.finish(), runs.finish()]
        return arrays
    }

    @Test("slices of built arrays of every layout round-trip through IPC")
    func slicedArraysRoundTrip() throws {
        for array in try BuilderTests.sampleArrays() {
            try roundTripThroughIPCStream(array)
            for (start, length) in [(0, 0), (1, 18), (7, 9), (19, 1), (8, 12)] {
                let slice = try array.slice(start, length)
                let back = try roundTripThroughIPCStream(slice)
                #expect(back.length == length, "\(array.type)")
            }
        }
    }

    @Test("a record batch built from named columns round-trips")
    func recordBatchFromColumns() throws {
        let ids = PrimitiveBuilder<Int64>()
        let names = StringBuilder()
        for i in 0..<10 {
            ids.append(Int64(i))
            try names.append(i % 3 == 0 ? nil : "n\(i)")
        }
        let batch = try RecordBatch(["id": ids.finish(), "name": names.finish()])
        #expect(batch.schema.fields.map(\.name) == ["id", "name"])
        #expect(batch.schema.fields.allSatisfy { $0.nullable })
        #expect(batch.length == 10)
        let stream = try IPCStreamWriter.encode(schema: batch.schema, batches: [batch])
        let read = try IPCStreamReader.readAll(stream)
        #expect(read.batches.first?.firstDifference(from: batch) == nil)
        let short = PrimitiveBuilder<Int8>()
        short.append(1)
        #expect(throws: ArrowError.self) { try RecordBatch(["a": short.finish(), "b": try builtNulls(2)]) }
    }
}

private func builtNulls(_ n: Int) throws -> ArrayData {
    let builder = NullBuilder()
    builder.appendNulls(n)
    return builder.finish()
}
