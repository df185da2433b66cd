import ArrowCore
import Foundation
import Testing

/// The gold integration files that Arrow C++ 21.0.0 generated (apache/arrow-testing).
private let goldDirectory: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // ArrowCoreTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // the package
    .appendingPathComponent("../shared/testdata/arrow-testing/data/arrow-ipc-stream/integration/cpp-21.0.0")
    .standardizedFileURL.path

private let goldFiles: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: goldDirectory)) ?? [])
    .filter { $0.hasSuffix(".json.gz") }
    .sorted()

private func gold(_ name: String) throws -> IntegrationFile {
    try IntegrationFile.read(path: "\(goldDirectory)/\(name)")
}

private func parse(_ json: String) throws -> IntegrationFile {
    try IntegrationFile(json: Array(json.utf8))
}

/// A one-column file: `field` is the JSON field, `columns` the JSON of each batch's column.
private func oneColumn(_ field: String, _ columns: [String], dictionaries: String? = nil) throws -> IntegrationFile {
    let batches = columns.map { column in
        let count = (try? JSONSerialization.jsonObject(with: Data(column.utf8)) as? [String: Any])?["count"] as? Int ?? 0
        return "{\"count\": \(count), \"columns\": [\(column)]}"
    }
    let dictionarySection = dictionaries.map { ", \"dictionaries\": \($0)" } ?? ""
    return try parse("{\"schema\": {\"fields\": [\(field)]}\(dictionarySection), \"batches\": [\(batches.joined(separator: ","))]}")
}

private func onlyBatch(_ file: IntegrationFile) throws -> RecordBatch {
    try #require(file.batches.count == 1)
    return file.batches[0]
}

private let int32Field = #"{"name": "x", "type": {"name": "int", "isSigned": true, "bitWidth": 32}, "nullable": true, "children": []}"#

private let dictionaryField = #"""
{"name": "d", "type": {"name": "utf8"}, "nullable": true, "children": [],
 "dictionary": {"id": 0, "indexType": {"name": "int", "isSigned": true, "bitWidth": 8}, "isOrdered": false}}
"""#

private func dictionaryFile(values: [String], indices: [Int]) throws -> IntegrationFile {
    let quoted = values.map { "\"\($0)\"" }.joined(separator: ",")
    var offsets = [0]
    for value in values { offsets.append(offsets[offsets.count - 1] + value.utf8.count) }
    let dictionaries = """
    [{"id": 0, "data": {"count": \(values.count), "columns": [{"name": "DICT0", "count": \(values.count),
      "VALIDITY": [\(values.map { _ in "1" }.joined(separator: ","))],
      "OFFSET": [\(offsets.map(String.init).joined(separator: ","))], "DATA": [\(quoted)]}]}}]
    """
    let column = """
    {"name": "d", "count": \(indices.count), "VALIDITY": [\(indices.map { _ in "1" }.joined(separator: ","))],
     "DATA": [\(indices.map(String.init).joined(separator: ","))]}
    """
    return try oneColumn(dictionaryField, [column], dictionaries: dictionaries)
}

/// Reading and writing Arrow's integration JSON, and the logical comparison it relies on.
struct IntegrationJSONTests {
    // MARK: Gold files

    @Test func allGoldFilesArePresent() {
        #expect(goldFiles.count == 32, "looked in \(goldDirectory)")
    }

    @Test(arguments: goldFiles)
    func goldFileParsesAndValidates(_ name: String) throws {
        let file = try gold(name)
        #expect(!file.schema.fields.isEmpty)
        if !name.contains("no_batches") { #expect(!file.batches.isEmpty) }
        for batch in file.batches {
            try batch.validate()
            #expect(batch.schema == file.schema)
        }
    }

    @Test(arguments: goldFiles)
    func goldFileSurvivesWriteAndRead(_ name: String) throws {
        let file = try gold(name)
        let written = file.jsonData()
        let again = try IntegrationFile(json: written)
        #expect(again.schema == file.schema)
        try #require(again.batches.count == file.batches.count)
        for (original, copy) in zip(file.batches, again.batches) {
            #expect(copy.firstDifference(from: original) == nil)
            #expect(original.firstDifference(from: copy) == nil)
        }
        // Once normalised by a round trip, writing is stable.
        #expect(again.jsonData() == written)
    }

    @Test(arguments: goldFiles)
    func slicedGoldBatchesSurviveWriteAndRead(_ name: String) throws {
        let file = try gold(name)
        let sliced = try file.batches.filter { $0.length >= 3 }.map { try $0.slice(1, $0.length - 2) }
        let again = try IntegrationFile(json: IntegrationFile(schema: file.schema, batches: sliced).jsonData())
        try #require(again.batches.count == sliced.count)
        for (original, copy) in zip(sliced, again.batches) {
            #expect(copy.firstDifference(from: original) == nil)
        }
    }

    @Test func goldValuesDecodeAsArrowCppWroteThem() throws {
        let primitive = try gold("generated_primitive.json.gz").batches[0]
        let int8 = try #require(primitive.schema.index(of: "int8_nullable"))
        #expect(primitive.columns[int8].describeValue(at: 0) == "-128")
        #expect(primitive.columns[int8].describeValue(at: 1) == "127")
        #expect(primitive.columns[int8].describeValue(at: 8) == "null")

        let decimal = try gold("generated_decimal.json.gz").batches[0]
        #expect(decimal.columns[0].type == .decimal(bitWidth: 128, precision: 3, scale: 2))
        #expect(decimal.columns[0].describeValue(at: 2) == "1.90")
        #expect(decimal.columns[0].describeValue(at: 3) == "-9.92")

        let dictionary = try gold("generated_dictionary.json.gz").batches[0]
        #expect(dictionary.columns[0].type == .dictionary(index: .int8, value: .utf8, ordered: false))
        #expect(dictionary.columns[0].describeValue(at: 0) == "\"jhak1rp\"")
        #expect(dictionary.columns[0].describeValue(at: 1) == "null")

        let nested = try gold("generated_nested_dictionary.json.gz").batches[0]
        #expect(nested.columns[0].describeValue(at: 2) == "[\"pl5ai3l\", null]")

        let dayTime = try gold("generated_interval.json.gz").batches[0]
        #expect(dayTime.columns[1].describeValue(at: 1) == "-762259d39238547ms")
        let monthDayNano = try gold("generated_interval_mdn.json.gz").batches[0]
        #expect(monthDayNano.columns[0].describeValue(at: 1) == "327756326M-1829844699d-8743230752344178907ns")

        let views = try gold("generated_binary_view.json.gz").batches[2]
        #expect(views.columns[1].string(38) == "k€g矢€lÂ")
    }

    // MARK: firstDifference

    @Test func firstDifferenceFindsANullWhereAValueWas() throws {
        let a = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 3, "VALIDITY": [1, 1, 1], "DATA": [1, 2, 3]}"#]))
        let b = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 3, "VALIDITY": [1, 0, 1], "DATA": [1, 2, 3]}"#]))
        #expect(a.firstDifference(from: b) == "x[1]: 2 != null")
        #expect(b.firstDifference(from: a) == "x[1]: null != 2")
        #expect(a.firstDifference(from: a) == nil)
    }

    @Test func firstDifferenceIgnoresBytesBehindNulls() throws {
        let a = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 2, "VALIDITY": [0, 1], "DATA": [1, 2]}"#]))
        let b = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 2, "VALIDITY": [0, 1], "DATA": [99, 2]}"#]))
        #expect(a.firstDifference(from: b) == nil)
    }

    @Test func firstDifferenceNamesANestedChildValue() throws {
        let field = #"""
        {"name": "s", "type": {"name": "struct"}, "nullable": true, "children": [
          {"name": "x", "type": {"name": "int", "isSigned": true, "bitWidth": 32}, "nullable": true, "children": []},
          {"name": "y", "type": {"name": "list"}, "nullable": true, "children": [
            {"name": "item", "type": {"name": "utf8"}, "nullable": true, "children": []}]}]}
        """#
        func column(_ last: String) -> String {
            #"""
            {"name": "s", "count": 2, "VALIDITY": [1, 1], "children": [
              {"name": "x", "count": 2, "VALIDITY": [1, 1], "DATA": [5, 7]},
              {"name": "y", "count": 2, "VALIDITY": [1, 1], "OFFSET": [0, 1, 3], "children": [
                {"name": "item", "count": 3, "VALIDITY": [1, 1, 1], "OFFSET": [0, 1, 2, 3], "DATA": ["p", "q", "\#(last)"]}]}]}
            """#
        }
        let a = try onlyBatch(oneColumn(field, [column("a")]))
        let b = try onlyBatch(oneColumn(field, [column("b")]))
        #expect(a.firstDifference(from: b) == "s.y[1][1]: \"a\" != \"b\"")
    }

    @Test func firstDifferenceComparesDecodedDictionaryValues() throws {
        let a = try onlyBatch(dictionaryFile(values: ["a", "b"], indices: [0, 1, 1]))
        let b = try onlyBatch(dictionaryFile(values: ["a", "b", "c"], indices: [0, 1, 2]))
        #expect(a.firstDifference(from: b) == "d[2]: \"b\" != \"c\"")
        // Different dictionaries and indices that decode to the same values are equal.
        let c = try onlyBatch(dictionaryFile(values: ["b", "zz", "a"], indices: [2, 0, 0]))
        #expect(a.firstDifference(from: c) == nil)
    }

    @Test func firstDifferenceComparesRunEndEncodedByLogicalValue() throws {
        let field = #"""
        {"name": "r", "type": {"name": "runendencoded"}, "nullable": true, "children": [
          {"name": "run_ends", "type": {"name": "int", "isSigned": true, "bitWidth": 32}, "nullable": false, "children": []},
          {"name": "values", "type": {"name": "int", "isSigned": true, "bitWidth": 32}, "nullable": true, "children": []}]}
        """#
        func column(_ ends: [Int], _ values: [Int]) -> String {
            let ones = ends.map { _ in "1" }.joined(separator: ",")
            return """
            {"name": "r", "count": 3, "children": [
              {"name": "run_ends", "count": \(ends.count), "VALIDITY": [\(ones)], "DATA": [\(ends.map(String.init).joined(separator: ","))]},
              {"name": "values", "count": \(values.count), "VALIDITY": [\(ones)], "DATA": [\(values.map(String.init).joined(separator: ","))]}]}
            """
        }
        let a = try onlyBatch(oneColumn(field, [column([2, 3], [4, 5])]))
        let b = try onlyBatch(oneColumn(field, [column([1, 2, 3], [4, 4, 5])]))
        let c = try onlyBatch(oneColumn(field, [column([1, 3], [4, 5])]))
        #expect(a.firstDifference(from: b) == nil)
        #expect(a.firstDifference(from: c) == "r[1]: 4 != 5")
    }

    @Test func firstDifferenceTreatsNaNAsEqualToNaN() throws {
        let field = #"{"name": "f", "type": {"name": "floatingpoint", "precision": "DOUBLE"}, "nullable": true, "children": []}"#
        let a = try onlyBatch(oneColumn(field, [#"{"name": "f", "count": 2, "VALIDITY": [1, 1], "DATA": ["NaN", 0.5]}"#]))
        let b = try onlyBatch(oneColumn(field, [#"{"name": "f", "count": 2, "VALIDITY": [1, 1], "DATA": ["NaN", 0.25]}"#]))
        #expect(a.firstDifference(from: b) == "f[1]: 0.5 != 0.25")
        #expect(a.firstDifference(from: a) == nil)
        // NaN is written as a string and read back.
        let again = try onlyBatch(IntegrationFile(json: IntegrationFile(schema: a.schema, batches: [a]).jsonData()))
        #expect(again.firstDifference(from: a) == nil)
    }

    @Test func firstDifferenceIgnoresOffsets() throws {
        let a = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 4, "VALIDITY": [1, 0, 1, 1], "DATA": [1, 2, 3, 4]}"#]))
        let b = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 2, "VALIDITY": [0, 1], "DATA": [0, 3]}"#]))
        #expect(try a.slice(1, 2).firstDifference(from: b) == nil)
        #expect(try a.slice(2, 2).firstDifference(from: b) == "x[0]: 3 != null")
    }

    @Test func firstDifferenceReportsSchemaDifferences() throws {
        let a = try onlyBatch(oneColumn(int32Field, [#"{"name": "x", "count": 1, "VALIDITY": [1], "DATA": [1]}"#]))
        let int64Field = #"{"name": "x", "type": {"name": "int", "isSigned": true, "bitWidth": 64}, "nullable": true, "children": []}"#
        let b = try onlyBatch(oneColumn(int64Field, [#"{"name": "x", "count": 1, "VALIDITY": [1], "DATA": ["1"]}"#]))
        #expect(a.firstDifference(from: b) == "schema.fields[0] 'x': type int32 != int64")
        #expect(a.columns[0].firstDifference(from: b.columns[0], path: "x") == "x: type int32 != int64")

        let withMetadata = try RecordBatch(schema: Schema(a.schema.fields, metadata: ["k": "v"]), columns: a.columns)
        #expect(a.firstDifference(from: withMetadata) == "schema metadata: [] != [k=v]")
    }

    // MARK: Writing

    @Test func batchesWithDifferentDictionariesAreWrittenAsOneConcatenatedDictionary() throws {
        let first = try onlyBatch(dictionaryFile(values: ["a", "b"], indices: [1, 0]))
        let second = try onlyBatch(dictionaryFile(values: ["c"], indices: [0, 0]))
        let again = try IntegrationFile(json: IntegrationFile(schema: first.schema, batches: [first, second, first]).jsonData())
        try #require(again.batches.count == 3)
        #expect(again.batches[0].firstDifference(from: first) == nil)
        #expect(again.batches[1].firstDifference(from: second) == nil)
        #expect(again.batches[2].firstDifference(from: first) == nil)
        #expect(again.batches[0].columns[0].dictionary?.length == 3)
    }

    @Test func writtenJSONNamesDictionariesAndKeepsMetadata() throws {
        let file = try gold("generated_custom_metadata.json.gz")
        let text = String(decoding: file.jsonData(), as: UTF8.self)
        #expect(text.contains(#"{"key":"schema_custom_0","value":"{}"}"#))
        let again = try IntegrationFile(json: Array(text.utf8))
        #expect(again.schema.metadata == file.schema.metadata)
        #expect(again.schema.fields[2].extensionName == "!nonexistent")
    }

    // MARK: Malformed input

    @Test(arguments: [
        "{",
        "[]",
        "{}",
        #"{"schema": {"fields": []}}"#,
        #"{"schema": {"fields": [{"name": "x", "type": {"name": "nosuchtype"}}]}, "batches": []}"#,
        #"{"schema": {"fields": [{"name": "x", "type": {"name": "int", "bitWidth": 12, "isSigned": true}}]}, "batches": []}"#,
    ])
    func malformedSchemaThrowsArrowError(_ json: String) {
        #expect(throws: ArrowError.self) { try parse(json) }
    }

    @Test(arguments: [
        // DATA shorter than count
        #"{"name": "x", "count": 3, "VALIDITY": [1, 1, 1], "DATA": [1, 2]}"#,
        // a value out of the type's range
        #"{"name": "x", "count": 1, "VALIDITY": [1], "DATA": [4294967296]}"#,
        // not a number
        #"{"name": "x", "count": 1, "VALIDITY": [1], "DATA": ["one"]}"#,
        // a validity bit that is neither 0 nor 1
        #"{"name": "x", "count": 1, "VALIDITY": [2], "DATA": [1]}"#,
        // negative count
        #"{"name": "x", "count": -1, "VALIDITY": [], "DATA": []}"#,
    ])
    func malformedColumnThrowsArrowError(_ column: String) {
        #expect(throws: ArrowError.self) { try oneColumn(int32Field, [column]) }
    }

    @Test func listOffsetsPastTheChildAreRejectedByValidation() throws {
        let field = #"""
        {"name": "l", "type": {"name": "list"}, "nullable": true, "children": [
          {"name": "item", "type": {"name": "int", "isSigned": true, "bitWidth": 32}, "nullable": true, "children": []}]}
        """#
        let column = #"""
        {"name": "l", "count": 1, "VALIDITY": [1], "OFFSET": [0, 5], "children": [
          {"name": "item", "count": 2, "VALIDITY": [1, 1], "DATA": [1, 2]}]}
        """#
        do {
            _ = try oneColumn(field, [column])
            Issue.record("expected an error")
        } catch let error as ArrowError {
            guard case .invalid(let message) = error else { throw error }
            #expect(message.contains("batches[0]"))
            #expect(message.contains("past the child length 2"))
        }
    }

    @Test func malformedValuesThrowArrowError() throws {
        let binary = #"{"name": "b", "type": {"name": "binary"}, "nullable": true, "children": []}"#
        #expect(throws: ArrowError.self) {
            try oneColumn(binary, [#"{"name": "b", "count": 1, "VALIDITY": [1], "OFFSET": [0, 1], "DATA": ["XY"]}"#])
        }
        // OFFSET disagreeing with the DATA lengths
        #expect(throws: ArrowError.self) {
            try oneColumn(binary, [#"{"name": "b", "count": 1, "VALIDITY": [1], "OFFSET": [0, 2], "DATA": ["AB"]}"#])
        }
        let decimal = #"{"name": "d", "type": {"name": "decimal", "precision": 9, "scale": 0, "bitWidth": 32}, "nullable": true, "children": []}"#
        #expect(throws: ArrowError.self) {
            try oneColumn(decimal, [#"{"name": "d", "count": 1, "VALIDITY": [1], "DATA": ["2147483648"]}"#])
        }
        #expect(throws: Never.self) {
            try oneColumn(decimal, [#"{"name": "d", "count": 1, "VALIDITY": [1], "DATA": ["-2147483648"]}"#])
        }
        // a dictionary-encoded column without its dictionary
        #expect(throws: ArrowError.self) {
            try oneColumn(dictionaryField, [#"{"name": "d", "count": 1, "VALIDITY": [1], "DATA": [0]}"#])
        }
        // an index outside the dictionary
        #expect(throws: ArrowError.self) { try dictionaryFile(values: ["a"], indices: [1]) }
    }

    @Test func missingFileThrowsIOError() {
        #expect(throws: ArrowError.self) { try IntegrationFile.read(path: "/nonexistent/file.json.gz") }
        #expect(throws: ArrowError.self) { try IntegrationFile.read(path: "/nonexistent/file.json") }
    }
}
