import Testing
@testable import ArrowCore

// MARK: - Array construction helpers

private func bitmap(_ valid: [Bool]) -> Buffer {
    var bytes = [UInt8](repeating: 0, count: (valid.count + 7) / 8)
    for (i, isValid) in valid.enumerated() where isValid { bytes[i >> 3] |= 1 << UInt8(i & 7) }
    return Buffer(values: bytes)
}

private func validity(_ valid: [Bool]?) -> (Buffer, Int) {
    guard let valid else { return (Buffer(), 0) }
    return (bitmap(valid), valid.filter { !$0 }.count)
}

/// A fixed-width array whose values buffer holds `values`; a slot may span several of them
/// (two `UInt64` words per decimal128 slot, for example).
private func fixed<T: BitwiseCopyable>(_ type: DataType, _ values: [T], valid: [Bool]? = nil) -> ArrayData {
    let (bits, nulls) = validity(valid)
    let slotWidth = type.byteWidth ?? MemoryLayout<T>.stride
    let length = values.count * MemoryLayout<T>.stride / slotWidth
    return ArrayData(type: type, length: length, nullCount: nulls, buffers: [bits, Buffer(values: values)])
}

private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { [UInt8]($0) }
}

/// utf8 or binary (with 32-bit offsets) or their large forms (64-bit offsets).
private func variable(_ values: [[UInt8]?], type: DataType) -> ArrayData {
    var data: [UInt8] = []
    var offsets: [Int] = [0]
    for value in values {
        data += value ?? []
        offsets.append(data.count)
    }
    let (bits, nulls) = validity(values.contains { $0 == nil } ? values.map { $0 != nil } : nil)
    let offsetBuffer: Buffer = switch type {
    case .largeUtf8, .largeBinary: Buffer(values: offsets.map { Int64($0) })
    default: Buffer(values: offsets.map { Int32($0) })
    }
    return ArrayData(type: type, length: values.count, nullCount: nulls, buffers: [bits, offsetBuffer, Buffer(values: data)])
}

private func strings(_ values: [String?], type: DataType = .utf8) -> ArrayData {
    variable(values.map { $0.map { Array($0.utf8) } }, type: type)
}

private func int32s(_ values: [Int32?]) -> ArrayData {
    fixed(.int32, values.map { $0 ?? 0 }, valid: values.contains(nil) ? values.map { $0 != nil } : nil)
}

/// Validates `array` (so a mistake in a test's layout shows up as such) and formats every slot.
private func cells(_ array: ArrayData) throws -> [String] {
    try array.validate()
    return (0..<array.length).map { array.formatValue(at: $0) }
}

// MARK: - Value formatting

@Suite("PrettyPrinter values")
struct PrettyPrinterValueTests {
    @Test("date32 is an ISO date in the proleptic Gregorian calendar, before and after the epoch")
    func date32() throws {
        let days: [Int32] = [0, -1, 19_000, 11_016, -25_508, -719_162, -719_163, -719_528, -719_529, 2_932_896, 2_932_897]
        #expect(try cells(fixed(.date32, days)) == [
            "1970-01-01", "1969-12-31", "2022-01-08", "2000-02-29", "1900-03-01", "0001-01-01", "0000-12-31",
            "0000-01-01", "-0001-12-31", "9999-12-31", "+10000-01-01",
        ])
        let extremes = try cells(fixed(.date32, [Int32.min, Int32.max]))
        #expect(extremes[0].hasPrefix("-"))
        #expect(extremes[1].hasPrefix("+"))
    }

    @Test("date64 milliseconds round down to their day")
    func date64() throws {
        let millis: [Int64] = [0, 19_000 * 86_400_000, -1, -86_400_000, 1, 86_399_999]
        #expect(try cells(fixed(.date64, millis)) == [
            "1970-01-01", "2022-01-08", "1969-12-31", "1969-12-31", "1970-01-01", "1970-01-01",
        ])
    }

    @Test("timestamps carry the fraction digits of their unit")
    func timestampUnits() throws {
        let cases: [(TimeUnit, Int64, String)] = [
            (.second, 1_709_214_330, "2024-02-29T13:45:30Z"),
            (.millisecond, 1_709_214_330_123, "2024-02-29T13:45:30.123Z"),
            (.microsecond, 1_709_214_330_123_456, "2024-02-29T13:45:30.123456Z"),
            (.nanosecond, 1_709_214_330_123_456_789, "2024-02-29T13:45:30.123456789Z"),
            (.nanosecond, Int64.min, "1677-09-21T00:12:43.145224192Z"),
            (.nanosecond, Int64.max, "2262-04-11T23:47:16.854775807Z"),
            (.millisecond, -1, "1969-12-31T23:59:59.999Z"),
        ]
        for (unit, value, expected) in cases {
            #expect(try cells(fixed(.timestamp(unit, timeZone: "UTC"), [value])) == [expected])
        }
    }

    @Test("timestamp time zones: none, UTC, fixed offsets and named zones")
    func timestampZones() throws {
        let value: [Int64] = [1_709_214_330_123]
        let cases: [(String?, String)] = [
            (nil, "2024-02-29T13:45:30.123"),
            ("", "2024-02-29T13:45:30.123"),
            ("UTC", "2024-02-29T13:45:30.123Z"),
            ("+00:00", "2024-02-29T13:45:30.123Z"),
            ("+05:30", "2024-02-29T19:15:30.123+05:30"),
            ("-08:00", "2024-02-29T05:45:30.123-08:00"),
            ("+12:00", "2024-03-01T01:45:30.123+12:00"),
            ("Europe/Paris", "2024-02-29T13:45:30.123Z[Europe/Paris]"),
        ]
        for (zone, expected) in cases {
            #expect(try cells(fixed(.timestamp(.millisecond, timeZone: zone), value)) == [expected], "zone \(zone ?? "nil")")
        }
        // Near the ends of the range a zone offset must not overflow.
        let extreme = try cells(fixed(.timestamp(.second, timeZone: "+05:30"), [Int64.max, Int64.min]))
        #expect(extreme.allSatisfy { $0.hasSuffix("+05:30") })
    }

    @Test("time32 and time64 are HH:MM:SS with the unit's fraction")
    func times() throws {
        #expect(try cells(fixed(.time32(.second), [Int32(0), 3_661, 86_399])) == ["00:00:00", "01:01:01", "23:59:59"])
        #expect(try cells(fixed(.time32(.millisecond), [Int32(45_296_789)])) == ["12:34:56.789"])
        #expect(try cells(fixed(.time64(.microsecond), [Int64(86_399_999_999)])) == ["23:59:59.999999"])
        #expect(try cells(fixed(.time64(.nanosecond), [Int64(1)])) == ["00:00:00.000000001"])
    }

    @Test("decimals are exact with the scale applied")
    func decimal128() throws {
        func d128(_ values: [(Int64, UInt64)], scale: Int) -> ArrayData {
            // (high, low) words of a two's-complement 128-bit value.
            fixed(.decimal(bitWidth: 128, precision: 38, scale: scale), values.flatMap { [$0.1, UInt64(bitPattern: $0.0)] })
        }
        func small(_ v: Int64) -> (Int64, UInt64) { (v < 0 ? -1 : 0, UInt64(bitPattern: v)) }
        #expect(try cells(d128([small(-12_345), small(12_345), small(5), small(-5), small(0)], scale: 2)) == [
            "-123.45", "123.45", "0.05", "-0.05", "0.00",
        ])
        #expect(try cells(d128([small(5), small(-5), small(12_345)], scale: 4)) == ["0.0005", "-0.0005", "1.2345"])
        #expect(try cells(d128([small(123), small(-7), small(0)], scale: -2)) == ["12300", "-700", "0"])
        #expect(try cells(d128([(Int64.max, UInt64.max), (Int64.min, 0)], scale: 0)) == [
            "170141183460469231731687303715884105727", "-170141183460469231731687303715884105728",
        ])
        #expect(try cells(d128([(Int64.max, UInt64.max)], scale: 38)) == ["1.70141183460469231731687303715884105727"])
    }

    @Test("256-bit decimals, including the extremes, are exact")
    func decimal256() throws {
        func d256(_ words: [[UInt64]], scale: Int) -> ArrayData {
            fixed(.decimal(bitWidth: 256, precision: 76, scale: scale), words.flatMap { $0 })
        }
        let minimum: [UInt64] = [0, 0, 0, 1 << 63]
        let maximum: [UInt64] = [.max, .max, .max, .max >> 1]
        let minusOne: [UInt64] = [.max, .max, .max, .max]
        // 10^40 = 0x1D_6329F1C35CA4BFAB_B9F5610000000000 reaches into the third word.
        let tenTo40: [UInt64] = [0xB9F5_6100_0000_0000, 0x6329_F1C3_5CA4_BFAB, 0x1D, 0]
        #expect(try cells(d256([minimum, maximum, minusOne, tenTo40], scale: 0)) == [
            "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
            "57896044618658097711785492504343953926634992332820282019728792003956564819967",
            "-1",
            "1" + String(repeating: "0", count: 40),
        ])
        // Exact means the scale's digits are all kept, trailing zeros included.
        #expect(try cells(d256([tenTo40, minusOne], scale: 42)) == [
            "0.01" + String(repeating: "0", count: 40), "-0." + String(repeating: "0", count: 41) + "1",
        ])
    }

    @Test("32- and 64-bit decimals sign-extend")
    func smallDecimals() throws {
        #expect(try cells(fixed(.decimal(bitWidth: 32, precision: 9, scale: 3), [Int32(-1), Int32.max])) == [
            "-0.001", "2147483.647",
        ])
        #expect(try cells(fixed(.decimal(bitWidth: 64, precision: 18, scale: 1), [Int64.min])) == ["-922337203685477580.8"])
    }

    @Test("float16 prints the shortest decimal that reads back as the same half")
    func float16() throws {
        let bits: [UInt16] = [0x3C00, 0x2E66, 0xC000, 0x7C00, 0xFC00, 0x7E00, 0x7BFF, 0x0000, 0x3555]
        #expect(try cells(fixed(.float16, bits)) == ["1.0", "0.1", "-2.0", "inf", "-inf", "nan", "65504.0", "0.0", "0.3333"])
    }

    @Test("the half-precision decoder agrees with Float16 on every bit pattern")
    func float16Decoder() {
        #if !(arch(x86_64) && os(macOS))
        var mismatches = 0
        for bits in UInt16.min...UInt16.max {
            let mine = float16ToFloat(bits: bits)
            let reference = Float(Float16(bitPattern: bits))
            if !(mine.bitPattern == reference.bitPattern || (mine.isNaN && reference.isNaN)) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #endif
    }

    @Test("integers, floats, bools and nulls")
    func scalars() throws {
        #expect(try cells(fixed(.int8, [Int8.min, 0, Int8.max])) == ["-128", "0", "127"])
        #expect(try cells(fixed(.uint64, [UInt64.max])) == ["18446744073709551615"])
        #expect(try cells(fixed(.int64, [Int64(1), 2, 3], valid: [true, false, true])) == ["1", "null", "3"])
        #expect(try cells(fixed(.float32, [Float(0.1), 1e20, -0.0])) == ["0.1", "1e+20", "-0.0"])
        #expect(try cells(fixed(.float64, [0.1, 1.0 / 3.0])) == ["0.1", "0.3333333333333333"])
        let bools = ArrayData(type: .bool, length: 3, nullCount: 1, buffers: [bitmap([true, true, false]), bitmap([true, false, true])])
        #expect(try cells(bools) == ["true", "false", "null"])
        #expect(try cells(ArrayData(type: .null, length: 2, nullCount: 2, buffers: [])) == ["null", "null"])
    }

    @Test("durations and intervals")
    func durationsAndIntervals() throws {
        #expect(try cells(fixed(.duration(.millisecond), [Int64(123), -5])) == ["123ms", "-5ms"])
        #expect(try cells(fixed(.duration(.nanosecond), [Int64(7)])) == ["7ns"])
        #expect(try cells(fixed(.interval(.yearMonth), [Int32(3), -14])) == ["3M", "-14M"])
        #expect(try cells(fixed(.interval(.dayTime), [Int32(2), 100])) == ["2d 100ms"])
        let monthDayNano = littleEndian(Int32(1)) + littleEndian(Int32(2)) + littleEndian(Int64(3))
        #expect(try cells(fixed(.interval(.monthDayNano), monthDayNano)) == ["1M 2d 3ns"])
    }

    @Test("binary is hex, cut after 32 bytes; strings are themselves")
    func binaryAndStrings() throws {
        let long = [UInt8](0..<40)
        let binary = variable([[0x00, 0xAB, 0xFF], [], nil, long], type: .binary)
        #expect(try cells(binary) == ["00abff", "", "null", long.prefix(32).map { String($0 / 16, radix: 16) + String($0 % 16, radix: 16) }.joined() + "…"])
        #expect(try cells(variable([[0x01]], type: .largeBinary)) == ["01"])
        #expect(try cells(strings(["héllo", nil, "", "日本"])) == ["héllo", "null", "", "日本"])
        #expect(try cells(strings(["large"], type: .largeUtf8)) == ["large"])
        #expect(try cells(fixed(.fixedSizeBinary(2), [UInt8(0x01), 0x02, 0xFE, 0xFF])) == ["0102", "feff"])
    }

    @Test("string and binary views, inline and in a data buffer")
    func views() throws {
        let short = Array("short".utf8), long = Array("a string longer than twelve bytes".utf8)
        var views: [UInt8] = littleEndian(Int32(short.count)) + short + [UInt8](repeating: 0, count: 12 - short.count)
        views += littleEndian(Int32(long.count)) + long.prefix(4) + littleEndian(Int32(0)) + littleEndian(Int32(3))
        views += [UInt8](repeating: 0, count: 16)
        let data = Buffer(values: [UInt8]("xyz".utf8) + long)
        let utf8View = ArrayData(type: .utf8View, length: 3, nullCount: 1,
                                 buffers: [bitmap([true, true, false]), Buffer(values: views), data])
        #expect(try cells(utf8View) == ["short", "a string longer than twelve bytes", "null"])
        let binaryView = ArrayData(type: .binaryView, length: 1, nullCount: 0, buffers: [Buffer(), Buffer(values: views), data])
        #expect(try cells(binaryView) == ["73686f7274"])
    }

    @Test("lists of every kind, with nulls and empties")
    func lists() throws {
        let child = int32s([1, 2, nil, 4, 5])
        let item = Field("item", .int32)
        let list = ArrayData(type: .list(item), length: 4, nullCount: 1, buffers: [bitmap([true, false, true, true]), Buffer(values: [Int32(0), 3, 3, 5, 5])], children: [child])
        #expect(try cells(list) == ["[1, 2, null]", "null", "[4, 5]", "[]"])
        let large = ArrayData(type: .largeList(item), length: 1, nullCount: 0, buffers: [Buffer(), Buffer(values: [Int64(1), 4])], children: [child])
        #expect(try cells(large) == ["[2, null, 4]"])
        let view = ArrayData(type: .listView(item), length: 2, nullCount: 0,
                             buffers: [Buffer(), Buffer(values: [Int32(3), 0]), Buffer(values: [Int32(2), 1])], children: [child])
        #expect(try cells(view) == ["[4, 5]", "[1]"])
        let largeView = ArrayData(type: .largeListView(item), length: 1, nullCount: 0,
                                  buffers: [Buffer(), Buffer(values: [Int64(2)]), Buffer(values: [Int64(3)])], children: [child])
        #expect(try cells(largeView) == ["[null, 4, 5]"])
        let fixedList = ArrayData(type: .fixedSizeList(item, 2), length: 2, nullCount: 0, buffers: [Buffer()], children: [child])
        #expect(try cells(fixedList) == ["[1, 2]", "[null, 4]"])
        #expect(try cells(fixedList.slice(1, 1)) == ["[null, 4]"])
        let nested = ArrayData(type: .list(Field("item", .list(item))), length: 1, nullCount: 0, buffers: [Buffer(), Buffer(values: [Int32(0), 2])], children: [list])
        #expect(try cells(nested) == ["[[1, 2, null], null]"])
    }

    @Test("structs, sliced structs and maps")
    func structsAndMaps() throws {
        let fields = [Field("a", .int32), Field("b", .utf8)]
        let structArray = ArrayData(type: .struct(fields), length: 3, nullCount: 1, buffers: [bitmap([true, false, true])],
                                    children: [int32s([1, 2, nil]), strings(["x", "y", "z"])])
        #expect(try cells(structArray) == ["{a: 1, b: x}", "null", "{a: null, b: z}"])
        #expect(try cells(structArray.slice(2, 1)) == ["{a: null, b: z}"])

        let entryFields = [Field("key", .utf8, nullable: false), Field("value", .int32)]
        let entries = ArrayData(type: .struct(entryFields), length: 3, nullCount: 0, buffers: [Buffer()],
                                children: [strings(["k1", "k2", "k3"]), int32s([1, nil, 3])])
        let mapType = DataType.map(Field("entries", .struct(entryFields), nullable: false), keysSorted: false)
        let map = ArrayData(type: mapType, length: 3, nullCount: 1, buffers: [bitmap([true, true, false]), Buffer(values: [Int32(0), 2, 3, 3])], children: [entries])
        #expect(try cells(map) == ["{k1: 1, k2: null}", "{k3: 3}", "null"])
        // A map whose entries struct is itself a window must read its children through that window.
        let shiftedEntries = try entries.slice(1, 2)
        let shiftedMap = ArrayData(type: mapType, length: 1, nullCount: 0, buffers: [Buffer(), Buffer(values: [Int32(0), 2])], children: [shiftedEntries])
        #expect(try cells(shiftedMap) == ["{k2: null, k3: 3}"])
    }

    @Test("unions show the selected child's value")
    func unions() throws {
        let fields = [Field("i", .int32), Field("s", .utf8)]
        let sparse = ArrayData(type: .union(.sparse, fields, typeIDs: [5, 7]), length: 3, nullCount: 0,
                               buffers: [Buffer(), Buffer(values: [Int8(5), 7, 5])],
                               children: [int32s([1, 2, nil]), strings(["a", "b", "c"])])
        #expect(try cells(sparse) == ["1", "b", "null"])
        #expect(try cells(sparse.slice(1, 2)) == ["b", "null"])
        let dense = ArrayData(type: .union(.dense, fields, typeIDs: [5, 7]), length: 3, nullCount: 0,
                              buffers: [Buffer(), Buffer(values: [Int8(5), 7, 5]), Buffer(values: [Int32(0), 0, 1])],
                              children: [int32s([10, 20]), strings(["x"])])
        #expect(try cells(dense) == ["10", "x", "20"])
    }

    @Test("dictionary and run-end encoded arrays show their logical values")
    func encodings() throws {
        let dictionary = ArrayData(type: .dictionary(index: .int8, value: .utf8, ordered: false), length: 4, nullCount: 1,
                                   buffers: [bitmap([true, true, false, true]), Buffer(values: [Int8(1), 0, 0, 1])],
                                   dictionary: strings(["a", "b"]))
        #expect(try cells(dictionary) == ["b", "a", "null", "b"])
        let reeType = DataType.runEndEncoded(runEnds: Field("run_ends", .int32, nullable: false), values: Field("values", .utf8))
        let ree = ArrayData(type: reeType, length: 6, nullCount: 0, buffers: [],
                            children: [int32s([2, 5, 6]), strings(["x", "y", nil])])
        #expect(try cells(ree) == ["x", "x", "y", "y", "y", "null"])
        #expect(try cells(ree.slice(1, 3)) == ["x", "y", "y"])
    }

    @Test("an index outside the array is reported, not trapped on")
    func outOfRange() {
        let array = int32s([1])
        #expect(array.formatValue(at: 1) == "<out of range>")
        #expect(array.formatValue(at: -1) == "<out of range>")
    }
}

// MARK: - Tables and schemas

@Suite("PrettyPrinter tables")
struct PrettyPrinterTableTests {
    private static func sampleBatch() throws -> RecordBatch {
        let item = Field("item", .int32)
        let schema = Schema([
            Field("id", .int32, nullable: false), Field("name", .utf8), Field("score", .float64),
            Field("when", .date32), Field("tags", .list(item)),
        ])
        let tags = ArrayData(type: .list(item), length: 3, nullCount: 1, buffers: [bitmap([true, true, false]), Buffer(values: [Int32(0), 2, 2, 2])],
                             children: [int32s([1, 2])])
        let batch = try RecordBatch(schema: schema, columns: [
            int32s([1, 22, 333]),
            strings(["alice", nil, "Zoë"]),
            fixed(.float64, [3.5, -0.25, 0], valid: [true, true, false]),
            fixed(.date32, [Int32(0), 19_000, -1]),
            tags,
        ])
        try batch.validate()
        return batch
    }

    @Test("a batch renders as an aligned table, numbers on the right and text on the left")
    func table() throws {
        let expected = """
             id | name  | score | when       | tags
            ----+-------+-------+------------+-------
              1 | alice |   3.5 | 1970-01-01 | [1, 2]
             22 | null  | -0.25 | 2022-01-08 | []
            333 | Zoë   |  null | 1969-12-31 | null
            """
        #expect(PrettyPrinter.render(try Self.sampleBatch()) == expected)
    }

    @Test("rows past maxRows are counted on a last line")
    func maxRows() throws {
        let batch = try RecordBatch(schema: Schema([Field("n", .int64)]), columns: [fixed(.int64, (0..<1_000).map { Int64($0) })])
        let text = PrettyPrinter.render(batch, maxRows: 10)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 13)
        #expect(lines[0] == "n")
        #expect(lines[2] == "0")
        #expect(lines[11] == "9")
        #expect(lines.last == "… 990 more rows")
        #expect(PrettyPrinter.render(batch, maxRows: 999).hasSuffix("\n… 1 more row"))
        #expect(PrettyPrinter.render(try Self.sampleBatch(), maxRows: 0) == """
            id | name | score | when | tags
            ---+------+-------+------+-----
            … 3 more rows
            """)
    }

    @Test("long cells are cut to the column width with …, counting characters not bytes")
    func truncation() throws {
        let schema = Schema([Field("a_very_long_column_name", .utf8), Field("n", .int64)])
        let batch = try RecordBatch(schema: schema, columns: [strings(["ééééééééééééé", "short"]), fixed(.int64, [Int64(1_234_567_890), 1])])
        #expect(PrettyPrinter.render(batch, maxColumnWidth: 9) == """
            a_very_l… |         n
            ----------+----------
            éééééééé… | 12345678…
            short     |         1
            """)
    }

    @Test("control characters are escaped so each row stays on one line")
    func escapes() throws {
        let batch = try RecordBatch(schema: Schema([Field("s\tt", .utf8)]), columns: [strings(["a\nb", "\u{1B}[31m", ""])])
        #expect(PrettyPrinter.render(batch) == """
            s\\tt
            ----------
            a\\nb
            \\u{1B}[31m
            """ + "\n")
    }

    @Test("a batch without columns says so")
    func noColumns() throws {
        let batch = try RecordBatch(schema: Schema([]), columns: [], length: 4)
        #expect(PrettyPrinter.render(batch) == "(no columns, 4 rows)")
    }

    @Test("a schema lists fields, nested children, nullability and metadata")
    func schema() {
        let schema = Schema([
            Field("id", .int64, nullable: false, metadata: ["ARROW:extension:name": "example.id"]),
            Field("point", .struct([Field("x", .float64, nullable: false), Field("y", .float64)])),
            Field("tags", .list(Field("item", .utf8))),
        ], metadata: ["origin": "test", "note": "two\nlines"])
        #expect(PrettyPrinter.render(schema) == """
            id: int64 not null
              -- field metadata --
              ARROW:extension:name: 'example.id'
            point: struct<x: float64, y: float64>
              child 0, x: float64 not null
              child 1, y: float64
            tags: list<item: utf8>
              child 0, item: utf8
            -- schema metadata --
            origin: 'test'
            note: 'two\\nlines'
            """)
    }
}
