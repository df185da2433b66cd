import ArrowCore

/// A Parquet file opened for reading: its footer decoded and checked against the file.
///
/// The file is memory-mapped; only the footer is read when it opens.
public struct ParquetFile: Sendable {
    /// The file's bytes (mapped, not read).
    public let bytes: Buffer
    /// The decoded footer.
    public let metadata: ParquetFileMetadata
    /// The schema's tree and leaf columns.
    public let schema: ParquetSchema

    static let magic: [UInt8] = Array("PAR1".utf8)
    static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    /// Opens the file at `path`.
    public init(path: String) throws(ParquetError) {
        let mapped: Buffer
        do {
            mapped = try Buffer(mappingFile: path)
        } catch {
            throw ParquetError("cannot open \(path): \(error)")
        }
        try self.init(bytes: mapped)
    }

    /// Reads the footer of the file held in `bytes`.
    public init(bytes: Buffer) throws(ParquetError) {
        self.bytes = bytes
        let count = bytes.count
        guard count >= 12 else { throw ParquetError("a Parquet file has at least 12 bytes; this one has \(count)") }
        let head = Array(bytes.bytes[0..<4]), tail = Array(bytes.bytes[(count - 4)...])
        if tail == Self.encryptedMagic {
            throw ParquetError("the footer is encrypted (PARE): this reader needs the file's keys, which it does not take yet")
        }
        guard head == Self.magic, tail == Self.magic else {
            throw ParquetError("not a Parquet file: it must start and end with PAR1")
        }
        let length = Int(bytes.load(fromByteOffset: count - 8, as: UInt32.self).littleEndian)
        guard length <= count - 12 else {
            throw ParquetError("the footer claims \(length) bytes; the file has room for \(count - 12)")
        }
        let start = count - 8 - length
        metadata = try ParquetFileMetadata(thrift: UnsafeRawBufferPointer(rebasing: bytes.bytes[start..<(count - 8)]))
        schema = try ParquetSchema(metadata.schema)
        try Self.check(metadata, schema: schema, fileSize: count)
    }

    /// The row groups must describe the schema's columns, within the file.
    private static func check(_ metadata: ParquetFileMetadata, schema: ParquetSchema, fileSize: Int) throws(ParquetError) {
        guard metadata.numRows >= 0 else { throw ParquetError("negative row count \(metadata.numRows)") }
        for (g, group) in metadata.rowGroups.enumerated() {
            guard group.numRows >= 0 else { throw ParquetError("row group \(g) has a negative row count") }
            guard group.columns.count == schema.columns.count else {
                throw ParquetError("row group \(g) has \(group.columns.count) column chunks for \(schema.columns.count) columns")
            }
            for (c, chunk) in group.columns.enumerated() {
                guard let column = chunk.metadata, chunk.filePath == nil else { continue }
                let leaf = schema.columns[c]
                guard column.type == leaf.physicalType else {
                    throw ParquetError("row group \(g), column \(leaf.path.joined(separator: ".")): chunk type \(column.type) for a \(leaf.physicalType) column")
                }
                let start = column.dictionaryPageOffset.map { Swift.min($0, column.dataPageOffset) } ?? column.dataPageOffset
                guard start >= 0, column.totalCompressedSize >= 0, column.totalUncompressedSize >= 0,
                      start <= Int64(fileSize), column.totalCompressedSize <= Int64(fileSize) - start else {
                    throw ParquetError("row group \(g), column \(leaf.path.joined(separator: ".")): "
                        + "\(column.totalCompressedSize) bytes at offset \(start) lie outside the file's \(fileSize) bytes")
                }
            }
        }
    }
}
