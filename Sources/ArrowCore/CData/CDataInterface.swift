import CArrowABI

/// The Arrow C Data Interface: handing schemas and arrays to and from other Arrow
/// implementations in the same process (pyarrow, Arrow C++, arrow-rs, nanoarrow, DuckDB, ...)
/// through the `ArrowSchema` and `ArrowArray` C structs of the `CArrowABI` module, without
/// copying array data.
///
/// ## Ownership
///
/// **Export** fills a struct the caller provides (its previous content is ignored). From then
/// on the consumer owns it and must call its `release` callback exactly once; until then the
/// exported `ArrayData`'s buffers stay alive, and after it they are freed as soon as nothing
/// else in Swift refers to them. As the interface allows, a consumer may move the struct or any
/// of its children elsewhere by copying its bytes and marking the source released (`release`
/// set to NULL); releasing a parent releases only the children still in place. Release
/// callbacks may be called from any thread.
///
/// **Import** takes ownership of the structs it is given, whether it succeeds or throws: on
/// return, the caller's structs are marked released and must not be released again. The
/// producer's release callback is called exactly once: for a schema before the import returns
/// (everything is copied into Swift values), for an array when the last `Buffer` over the
/// imported memory goes away, which may be much later and on any thread. A struct that is
/// already released is rejected with `ArrowError.invalid`.
///
/// ## Trust
///
/// Imported structs are untrusted input: format strings, flags, counts, lengths, offsets, null
/// counts and buffer pointers are checked, buffer sizes are computed from the type, length and
/// offset (and the offsets of variable-length data), and the result passes
/// `ArrayData.validate()`. What the interface cannot express is trusted: that each non-NULL
/// pointer refers to at least as many readable bytes as the format requires, and that the memory
/// does not change while imported `Buffer`s refer to it.
///
/// ## Threading
///
/// Every function may be called from any thread. The structs passed in must not be used by
/// anyone else during the call. Imported `ArrayData` is immutable and `Sendable`, like any other.
public enum CDataInterface {
    // MARK: Export

    /// Exports `field` (name, type, nullability, metadata) into `out`.
    ///
    /// Throws `ArrowError` for a type the interface cannot express (a decimal of an unknown bit
    /// width, a negative size) or a name with a NUL byte; `out` is then left untouched.
    public static func exportField(_ field: Field, into out: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        try ExportSchemaNode(field: field).write(into: out)
    }

    /// Exports `type` into `out` as a nullable field with an empty name, which is how the
    /// interface describes the type of a lone array.
    public static func exportType(_ type: DataType, into out: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        try exportField(Field("", type), into: out)
    }

    /// Exports `schema` into `out` as the interface represents a schema: a struct type (format
    /// `+s`) with one child per field, carrying the schema's metadata.
    ///
    /// Throws as `exportField(_:into:)` does; `out` is then left untouched.
    public static func exportSchema(_ schema: Schema, into out: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) {
        try ExportSchemaNode(schema: schema).write(into: out)
    }

    /// Exports `array` (zero-copy: the consumer reads our buffers) into `out`, with its
    /// children and dictionary.
    ///
    /// The array must be valid: built by ArrowCore, or checked with `validate()`. Export checks
    /// only that buffer and child counts match the type (throwing `ArrowError` otherwise and
    /// leaving `out` untouched), not the values.
    public static func exportArray(_ array: ArrayData, into out: UnsafeMutablePointer<ArrowArray>) throws(ArrowError) {
        try array.checkExportable(path: "array")
        array.write(into: out)
    }

    /// Exports `batch` as a struct array (no nulls) with one child per column into `array` and,
    /// if `schema` is given, its schema into `schema` (see `exportSchema(_:into:)`).
    ///
    /// Either both structs are filled or, when this throws, neither is touched.
    public static func exportRecordBatch(_ batch: RecordBatch, into array: UnsafeMutablePointer<ArrowArray>,
                                         schema: UnsafeMutablePointer<ArrowSchema>? = nil) throws(ArrowError) {
        let data = ArrayData(type: .struct(batch.schema.fields), length: batch.length, nullCount: 0,
                             buffers: [Buffer()], children: batch.columns)
        try data.checkExportable(path: "batch")
        if let schema {
            try ExportSchemaNode(schema: batch.schema).write(into: schema)
        }
        data.write(into: array)
    }

    // MARK: Import

    /// Imports the field `schema` describes and releases the struct (see the type's
    /// documentation on ownership).
    ///
    /// Throws `ArrowError.invalid` for a malformed format string, a NULL format, negative or
    /// mismatched child counts, a NULL child, metadata that is not UTF-8, or nesting deeper than
    /// `ArrayData.maximumNestingDepth`.
    public static func importField(from schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) -> Field {
        guard schema.pointee.release != nil else { throw .invalid("the ArrowSchema has already been released") }
        defer { releaseIfNeeded(schema) }
        return try Field(cData: schema, path: "schema", depth: 0)
    }

    /// Imports the schema `schema` describes (a struct type whose children are the fields and
    /// whose metadata is the schema's) and releases the struct.
    ///
    /// Throws as `importField(from:)` does, and if the format is not `+s`.
    public static func importSchema(from schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) -> Schema {
        let root = try importField(from: schema)
        guard case .struct(let fields) = root.type else {
            throw .invalid("schema: a schema is exported as a struct type, found \(root.type)")
        }
        return Schema(fields, metadata: root.metadata)
    }

    /// Imports the array `array` describes, whose type the producer exported separately as
    /// `type` (see `importField(from:)`), without copying its buffers; takes ownership of the
    /// struct (see the type's documentation).
    ///
    /// Throws `ArrowError.invalid` when anything in the struct contradicts `type` or the format:
    /// negative lengths, offsets or counts, buffer or child counts that do not match the type,
    /// NULL buffers where data is required, a missing dictionary, or anything
    /// `ArrayData.validate()` rejects.
    public static func importArray(from array: UnsafeMutablePointer<ArrowArray>, type: DataType) throws(ArrowError) -> ArrayData {
        try ArrayData.importCData(array, type: type, path: "array")
    }

    /// Imports an array and the field describing it, as a producer exports a lone array (for
    /// example pyarrow's `Array._export_to_c`); takes ownership of both structs.
    public static func importArray(from array: UnsafeMutablePointer<ArrowArray>,
                                   field schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) -> (field: Field, data: ArrayData) {
        let field: Field
        do {
            field = try importField(from: schema)
        } catch {
            release(array)
            throw error
        }
        return (field, try importArray(from: array, type: field.type))
    }

    /// Imports a record batch exported as a struct array (`array`) and its schema (`schema`);
    /// takes ownership of both structs. The columns share the imported memory.
    ///
    /// Throws as `importSchema(from:)` and `importArray(from:type:)` do, and if the struct array
    /// has nulls of its own, which a record batch cannot have.
    public static func importRecordBatch(array: UnsafeMutablePointer<ArrowArray>,
                                         schema: UnsafeMutablePointer<ArrowSchema>) throws(ArrowError) -> RecordBatch {
        let imported: Schema
        do {
            imported = try importSchema(from: schema)
        } catch {
            release(array)
            throw error
        }
        return try importRecordBatch(array: array, schema: imported)
    }

    /// Imports a record batch exported as a struct array whose schema is already known (for
    /// example from an earlier `importSchema(from:)` in a stream); takes ownership of `array`.
    public static func importRecordBatch(array: UnsafeMutablePointer<ArrowArray>, schema: Schema) throws(ArrowError) -> RecordBatch {
        let data = try ArrayData.importCData(array, type: .struct(schema.fields), path: "batch")
        guard data.nullCount == 0 else { throw .invalid("batch: a record batch's struct array has \(data.nullCount) nulls") }
        var columns: [ArrayData] = []
        columns.reserveCapacity(data.children.count)
        for child in data.children {
            // A struct's offset applies to its children, a record batch's columns stand alone.
            columns.append(data.offset == 0 && child.length == data.length ? child : try child.slice(data.offset, data.length))
        }
        return try RecordBatch(schema: schema, columns: columns, length: data.length)
    }

    // MARK: Release

    /// Releases `schema` if it is not released yet: for a consumer that decides not to import a
    /// struct it was given.
    public static func release(_ schema: UnsafeMutablePointer<ArrowSchema>) {
        releaseIfNeeded(schema)
    }

    /// Releases `array` if it is not released yet: for a consumer that decides not to import a
    /// struct it was given.
    public static func release(_ array: UnsafeMutablePointer<ArrowArray>) {
        if let callback = array.pointee.release { callback(array) }
        array.pointee.release = nil
    }
}
