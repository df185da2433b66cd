import Foundation

/// A schema and record batches in Apache Arrow's integration-test JSON format: the human-readable
/// format that Arrow implementations exchange in their cross-language integration tests
/// (`{"schema": ..., "dictionaries": [...], "batches": [...]}`).
///
/// Reading builds `ArrayData` in the layout `ArrayData` documents, with dictionary-encoded fields
/// (including dictionaries inside dictionaries) carrying their decoded dictionary, and validates
/// every batch. Writing produces the same format, so that reading the output gives batches
/// without any `firstDifference` from the ones written.
public struct IntegrationFile: Sendable {
    /// The schema. Dictionary-encoded fields have type `.dictionary(index:value:ordered:)`.
    public var schema: Schema
    /// The record batches in file order; each has `schema`'s fields.
    public var batches: [RecordBatch]

    /// A file of `batches` under `schema`, to be written with `jsonData()`.
    public init(schema: Schema, batches: [RecordBatch]) {
        self.schema = schema
        self.batches = batches
    }

    /// Parses integration JSON text.
    ///
    /// Every batch that comes out has passed `RecordBatch.validate()`. Malformed input never traps:
    /// it throws `ArrowError.invalid` with a message naming the place (for example
    /// `batches[0].col.item: DATA has 3 values for count 4`), or `ArrowError.notSupported` for a
    /// type name this library does not know.
    public init(json: [UInt8]) throws(ArrowError) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(json), options: [])
        } catch {
            throw .invalid("integration JSON does not parse: \(error.localizedDescription)")
        }
        self = try IntegrationJSONReader.file(from: JSONObject(root, path: "file"))
    }

    /// Reads and parses the integration JSON file at `path`. A name ending in `.gz` is first
    /// decompressed by running the system's `gzip -dc`.
    ///
    /// Throws `ArrowError.io` when the file cannot be read or decompressed, otherwise as
    /// `init(json:)`.
    public static func read(path: String) throws(ArrowError) -> IntegrationFile {
        try IntegrationFile(json: readIntegrationFileBytes(path: path))
    }

    /// The file as integration JSON text (UTF-8, compact).
    ///
    /// Dictionary ids are assigned here, depth first in schema order. When batches carry different
    /// dictionaries for the same field, the written dictionary is their concatenation and each
    /// batch's indices are shifted to point into its part. Null slots are written with neutral
    /// values (their bytes are not meaningful). Floats that JSON numbers cannot hold are written as
    /// the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, which `init(json:)` accepts.
    ///
    /// Every batch must have passed `validate()` and have `schema`'s fields.
    public func jsonData() -> [UInt8] {
        IntegrationJSONWriter.write(self)
    }
}

/// The bytes of the file at `path`, decompressed with `gzip -dc` when the name ends in `.gz`.
/// Foundation on Linux has no gzip decoder, and the integration tools always have `gzip` at hand.
func readIntegrationFileBytes(path: String) throws(ArrowError) -> [UInt8] {
    guard path.hasSuffix(".gz") else {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io("cannot read \(path)")
        }
        return [UInt8](data)
    }
    guard FileManager.default.isReadableFile(atPath: path) else { throw .io("cannot read \(path)") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-dc", path]
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do {
        try process.run()
    } catch {
        throw .io("cannot run gzip to decompress \(path): \(error.localizedDescription)")
    }
    // Drain stdout before waiting: a full pipe would otherwise block gzip forever.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let detail = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw .io("gzip -dc \(path) failed (status \(process.terminationStatus)): \(detail)")
    }
    return [UInt8](data)
}
