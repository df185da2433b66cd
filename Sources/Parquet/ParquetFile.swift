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

    /// How the file's encrypted modules are read; nil for a file without encryption.
    let decryption: FileDecryption?

    static let magic: [UInt8] = Array("PAR1".utf8)
    static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    /// Opens the file at `path`; `keys` for an encrypted file.
    public init(path: String, keys: ParquetDecryptionKeys? = nil) throws(ParquetError) {
        let mapped: Buffer
        do {
            mapped = try Buffer(mappingFile: path)
        } catch {
            throw ParquetError("cannot open \(path): \(error)")
        }
        try self.init(bytes: mapped, keys: keys)
    }

    /// Reads the footer of the file held in `bytes`; `keys` for an encrypted file.
    public init(bytes: Buffer, keys: ParquetDecryptionKeys? = nil) throws(ParquetError) {
        self.bytes = bytes
        let count = bytes.count
        guard count >= 12 else { throw ParquetError("a Parquet file has at least 12 bytes; this one has \(count)") }
        let head = Array(bytes.bytes[0..<4]), tail = Array(bytes.bytes[(count - 4)...])
        let encryptedFooter = tail == Self.encryptedMagic
        guard head == tail, head == Self.magic || encryptedFooter else {
            throw ParquetError("not a Parquet file: it must start and end with PAR1 (or PARE, encrypted)")
        }
        let length = Int(bytes.load(fromByteOffset: count - 8, as: UInt32.self).littleEndian)
        guard length <= count - 12 else {
            throw ParquetError("the footer claims \(length) bytes; the file has room for \(count - 12)")
        }
        let start = count - 8 - length
        let footer = UnsafeRawBufferPointer(rebasing: bytes.bytes[start..<(count - 8)])
        var metadata: ParquetFileMetadata
        var decryption: FileDecryption?
        if encryptedFooter {
            // FileCryptoMetaData in plaintext, then the footer as an encrypted module.
            var reader = ThriftCompactReader(footer)
            var algorithm: ParquetEncryptionAlgorithm?, keyMetadata: [UInt8]?
            try reader.readStruct { r, f throws(ParquetError) in
                switch (f.id, f.type) {
                case (1, .struct): algorithm = try ParquetEncryptionAlgorithm.read(&r)
                case (2, .binary): keyMetadata = try r.readBinary()
                default: try r.skip(f.type)
                }
            }
            guard let algorithm else { throw ParquetError("the encrypted footer does not say how it is encrypted") }
            guard let keys else { throw ParquetError("the footer is encrypted: this file needs its keys") }
            let files = try FileDecryption(algorithm: algorithm, keys: keys)
            guard let footerKey = keys.footerKey ?? keyMetadata.flatMap({ keys.keyRetriever?($0) }) else {
                throw ParquetError("the footer is encrypted: its key is not given")
            }
            let decryptor = files.decryptor(footerKey)
            let (plaintext, _) = try decryptor.decrypt(footer, at: reader.position, aad: decryptor.aad(.footer))
            metadata = try withRawBytes(plaintext) { (raw) throws(ParquetError) in try ParquetFileMetadata(thrift: raw) }
            decryption = files.with(footerKey: footerKey)
        } else {
            var reader = ThriftCompactReader(footer)
            metadata = try ParquetFileMetadata.read(&reader)
            if let algorithm = metadata.encryptionAlgorithm {
                // A plaintext footer, signed: a nonce and a tag follow it.
                var files = try FileDecryption(algorithm: algorithm, keys: keys ?? ParquetDecryptionKeys())
                let footerKey = keys?.footerKey ?? metadata.footerSigningKeyMetadata.flatMap { keys?.keyRetriever?($0) }
                if let footerKey {
                    let signed = reader.position
                    guard footer.count - signed >= 28 else { throw ParquetError("a signed plaintext footer without its signature") }
                    let decryptor = files.decryptor(footerKey)
                    let tag = try AES.gcmTag(key: footerKey, nonce: UnsafeRawBufferPointer(rebasing: footer[signed..<(signed + 12)]),
                                             UnsafeRawBufferPointer(rebasing: footer[0..<signed]), aad: decryptor.aad(.footer))
                    guard tag == Array(footer[(signed + 12)..<(signed + 28)]) else {
                        throw ParquetError("the plaintext footer's signature does not match: a wrong footer key, or altered bytes")
                    }
                    files = files.with(footerKey: footerKey)
                }
                decryption = files
            }
        }
        if let decryption { try decryption.decryptColumnMetadata(&metadata) }
        self.metadata = metadata
        self.decryption = decryption
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
