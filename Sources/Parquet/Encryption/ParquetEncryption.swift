import COpenSSL

/// How a file is encrypted (`EncryptionAlgorithm`): AES-GCM for every module, or AES-GCM for
/// metadata and AES-CTR for page bodies.
public struct ParquetEncryptionAlgorithm: Sendable, Hashable {
    /// AES_GCM_V1 (every module GCM) or AES_GCM_CTR_V1 (page bodies CTR).
    public enum Kind: Sendable, Hashable { case aesGcmV1, aesGcmCtrV1 }
    /// Which of the two.
    public var kind: Kind
    /// The AAD prefix, when the file stores it.
    public var aadPrefix: [UInt8]?
    /// The file's unique AAD suffix.
    public var aadFileUnique: [UInt8]
    /// Whether the reader must supply the AAD prefix (it is not stored).
    public var supplyAadPrefix: Bool

    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetEncryptionAlgorithm {
        var result: ParquetEncryptionAlgorithm?
        try r.readStruct { r, f throws(ParquetError) in
            guard (f.id == 1 || f.id == 2), f.type == .struct, result == nil else {
                try r.skip(f.type)
                return
            }
            var prefix: [UInt8]?, unique: [UInt8] = [], supply = false
            try r.readStruct { r, g throws(ParquetError) in
                switch (g.id, g.type) {
                case (1, .binary): prefix = try r.readBinary()
                case (2, .binary): unique = try r.readBinary()
                case (3, .boolTrue), (3, .boolFalse): supply = g.boolValue
                default: try r.skip(g.type)
                }
            }
            result = ParquetEncryptionAlgorithm(kind: f.id == 1 ? .aesGcmV1 : .aesGcmCtrV1, aadPrefix: prefix,
                                                aadFileUnique: unique, supplyAadPrefix: supply)
        }
        guard let result else { throw ParquetError("an encryption algorithm this reader does not know") }
        return result
    }
}

/// Which key encrypts a column chunk (`ColumnCryptoMetaData`).
public enum ParquetColumnCrypto: Sendable, Hashable {
    case footerKey
    case columnKey(path: [String], keyMetadata: [UInt8]?)

    static func read(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetColumnCrypto {
        var result: ParquetColumnCrypto?
        try r.readStruct { r, f throws(ParquetError) in
            switch (f.id, f.type) {
            case (1, .struct):
                try r.skip(f.type)
                result = .footerKey
            case (2, .struct):
                var path: [String] = [], metadata: [UInt8]?
                try r.readStruct { r, g throws(ParquetError) in
                    switch (g.id, g.type) {
                    case (1, .list):
                        path = try r.readList { r, t throws(ParquetError) in
                            guard t == .binary else { throw ParquetError("a column key's path holds \(t)") }
                            return try r.readString()
                        }
                    case (2, .binary): metadata = try r.readBinary()
                    default: try r.skip(g.type)
                    }
                }
                result = .columnKey(path: path, keyMetadata: metadata)
            default: try r.skip(f.type)
            }
        }
        guard let result else { throw ParquetError("column crypto metadata names no key") }
        return result
    }
}

/// The keys to read an encrypted file, given by the caller: the footer key, column keys by
/// dotted leaf path (or, for a nested leaf, its top-level field's name), or a function from a
/// key's metadata (its id) to the key; and the AAD prefix when the file does not store it.
public struct ParquetDecryptionKeys: Sendable {
    /// The key of the footer and of the columns encrypted with it.
    public var footerKey: [UInt8]?
    /// Column keys by dotted leaf path or top-level field name.
    public var columnKeys: [String: [UInt8]]
    /// The AAD prefix, for a file that does not store it.
    public var aadPrefix: [UInt8]?
    /// The key for a key's metadata (its id), for keys not given above.
    public var keyRetriever: (@Sendable ([UInt8]) -> [UInt8]?)?

    /// Keys for an encrypted file; any may be left out.
    public init(footerKey: [UInt8]? = nil, columnKeys: [String: [UInt8]] = [:], aadPrefix: [UInt8]? = nil,
                keyRetriever: (@Sendable ([UInt8]) -> [UInt8]?)? = nil) {
        self.footerKey = footerKey
        self.columnKeys = columnKeys
        self.aadPrefix = aadPrefix
        self.keyRetriever = keyRetriever
    }
}

/// The module types of the AAD (Encryption.md).
enum ModuleType: UInt8 {
    case footer = 0, columnMetaData = 1, dataPage = 2, dictionaryPage = 3, dataPageHeader = 4, dictionaryPageHeader = 5
}

/// Decrypts the modules of one file with one key.
struct ModuleDecryptor: Sendable {
    let key: [UInt8]
    let fileAAD: [UInt8]
    let algorithm: ParquetEncryptionAlgorithm

    /// The AAD of a module.
    func aad(_ type: ModuleType, rowGroup: Int = -1, column: Int = -1, page: Int = -1) -> [UInt8] {
        var aad = fileAAD
        aad.append(type.rawValue)
        for ordinal in [rowGroup, column, page] where ordinal >= 0 {
            aad.append(UInt8(truncatingIfNeeded: ordinal))
            aad.append(UInt8(truncatingIfNeeded: ordinal >> 8))
        }
        return aad
    }

    /// Decrypts the module at `position` of `bytes` (its 4-byte length, then nonce, ciphertext
    /// and, for GCM, the tag); returns the plaintext and the bytes the module took.
    func decrypt(_ bytes: UnsafeRawBufferPointer, at position: Int, aad: [UInt8], counterMode: Bool = false) throws(ParquetError) -> ([UInt8], Int) {
        guard position >= 0, bytes.count - position >= 4 else { throw ParquetError("an encrypted module ends before its length") }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        let overhead = counterMode ? 12 : 28
        guard length >= overhead, length <= bytes.count - position - 4 else {
            throw ParquetError("an encrypted module of \(length) bytes where \(bytes.count - position - 4) remain")
        }
        let module = UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 4 + length)])
        let nonce = UnsafeRawBufferPointer(rebasing: module[0..<12])
        if counterMode {
            let data = UnsafeRawBufferPointer(rebasing: module[12...])
            return (try AES.ctr(key: key, nonce: nonce, data), 4 + length)
        }
        let data = UnsafeRawBufferPointer(rebasing: module[12..<(length - 16)])
        let tag = UnsafeRawBufferPointer(rebasing: module[(length - 16)...])
        return (try AES.gcmDecrypt(key: key, nonce: nonce, data, tag: tag, aad: aad), 4 + length)
    }
}

/// AES through OpenSSL's EVP interface.
enum AES {
    private static func cipher(_ key: [UInt8], gcm: Bool) throws(ParquetError) -> OpaquePointer {
        let cipher: OpaquePointer?
        switch key.count {
        case 16: cipher = gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr()
        case 24: cipher = gcm ? EVP_aes_192_gcm() : EVP_aes_192_ctr()
        case 32: cipher = gcm ? EVP_aes_256_gcm() : EVP_aes_256_ctr()
        default: throw ParquetError("an AES key of \(key.count) bytes (16, 24 or 32)")
        }
        guard let cipher else { throw ParquetError("OpenSSL has no AES cipher") }
        return cipher
    }

    /// Decrypts and authenticates AES-GCM `data` (12-byte nonce, 16-byte tag).
    static func gcmDecrypt(key: [UInt8], nonce: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer,
                           aad: [UInt8]) throws(ParquetError) -> [UInt8] {
        let cipher = try cipher(key, gcm: true)
        guard let context = EVP_CIPHER_CTX_new() else { throw ParquetError("OpenSSL cannot make a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: data.count + 16)
        var written: Int32 = 0, total = 0
        var tagBytes = Array(tag)
        let ok = key.withUnsafeBufferPointer { key in
            nonce.withMemoryRebound(to: UInt8.self) { nonce in
                guard EVP_DecryptInit_ex(context, cipher, nil, nil, nil) == 1,
                      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
                      EVP_DecryptInit_ex(context, nil, nil, key.baseAddress, nonce.baseAddress) == 1 else { return false }
                let aadOK = aad.withUnsafeBufferPointer { aad in
                    aad.isEmpty || EVP_DecryptUpdate(context, nil, &written, aad.baseAddress, Int32(aad.count)) == 1
                }
                guard aadOK else { return false }
                let updated = out.withUnsafeMutableBufferPointer { out in
                    data.withMemoryRebound(to: UInt8.self) { data in
                        data.isEmpty || EVP_DecryptUpdate(context, out.baseAddress, &written, data.baseAddress, Int32(data.count)) == 1
                    }
                }
                guard updated else { return false }
                total = data.isEmpty ? 0 : Int(written)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tagBytes) == 1 else { return false }
                return out.withUnsafeMutableBufferPointer { out in
                    EVP_DecryptFinal_ex(context, out.baseAddress.map { $0 + total }, &written) == 1
                }
            }
        }
        guard ok else { throw ParquetError("a module fails AES-GCM authentication: a wrong key or AAD prefix, or altered bytes") }
        out.removeLast(out.count - total)
        return out
    }

    /// AES-GCM's tag of `data` (a plaintext footer's signature is the tag of its encryption).
    static func gcmTag(key: [UInt8], nonce: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer, aad: [UInt8]) throws(ParquetError) -> [UInt8] {
        let cipher = try cipher(key, gcm: true)
        guard let context = EVP_CIPHER_CTX_new() else { throw ParquetError("OpenSSL cannot make a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: data.count + 16)
        var written: Int32 = 0
        var tag = [UInt8](repeating: 0, count: 16)
        let ok = key.withUnsafeBufferPointer { key in
            nonce.withMemoryRebound(to: UInt8.self) { nonce in
                guard EVP_EncryptInit_ex(context, cipher, nil, nil, nil) == 1,
                      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
                      EVP_EncryptInit_ex(context, nil, nil, key.baseAddress, nonce.baseAddress) == 1 else { return false }
                let aadOK = aad.withUnsafeBufferPointer { aad in
                    aad.isEmpty || EVP_EncryptUpdate(context, nil, &written, aad.baseAddress, Int32(aad.count)) == 1
                }
                guard aadOK else { return false }
                return out.withUnsafeMutableBufferPointer { out in
                    data.withMemoryRebound(to: UInt8.self) { data in
                        (data.isEmpty || EVP_EncryptUpdate(context, out.baseAddress, &written, data.baseAddress, Int32(data.count)) == 1)
                            && EVP_EncryptFinal_ex(context, out.baseAddress, &written) == 1
                            && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1
                    }
                }
            }
        }
        guard ok else { throw ParquetError("AES-GCM failed") }
        return tag
    }

    /// AES-CTR of `data` from the counter block `nonce` || 00000001.
    static func ctr(key: [UInt8], nonce: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) throws(ParquetError) -> [UInt8] {
        let cipher = try cipher(key, gcm: false)
        guard let context = EVP_CIPHER_CTX_new() else { throw ParquetError("OpenSSL cannot make a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var iv = Array(nonce) + [0, 0, 0, 1]
        var out = [UInt8](repeating: 0, count: data.count + 16)
        var written: Int32 = 0
        let ok = key.withUnsafeBufferPointer { key in
            guard EVP_DecryptInit_ex(context, cipher, nil, key.baseAddress, &iv) == 1 else { return false }
            return out.withUnsafeMutableBufferPointer { out in
                data.withMemoryRebound(to: UInt8.self) { data in
                    data.isEmpty || EVP_DecryptUpdate(context, out.baseAddress, &written, data.baseAddress, Int32(data.count)) == 1
                }
            }
        }
        guard ok else { throw ParquetError("AES-CTR failed") }
        out.removeLast(out.count - data.count)
        return out
    }
}

/// A file's encryption as its reader needs it: the algorithm, the file's AAD and the keys.
struct FileDecryption: Sendable {
    let algorithm: ParquetEncryptionAlgorithm
    let keys: ParquetDecryptionKeys
    let fileAAD: [UInt8]
    var footerKey: [UInt8]?

    init(algorithm: ParquetEncryptionAlgorithm, keys: ParquetDecryptionKeys) throws(ParquetError) {
        self.algorithm = algorithm
        self.keys = keys
        // The caller's prefix stands in for one the file does not store; one it stores must agree.
        var prefix = algorithm.aadPrefix ?? []
        if algorithm.supplyAadPrefix {
            guard let given = keys.aadPrefix else {
                throw ParquetError("the file was encrypted with an AAD prefix it does not store: give the AAD prefix")
            }
            prefix = given
        } else if let given = keys.aadPrefix, let stored = algorithm.aadPrefix, given != stored {
            throw ParquetError("the AAD prefix given is not the one the file stores")
        }
        fileAAD = prefix + algorithm.aadFileUnique
    }

    func with(footerKey: [UInt8]) -> FileDecryption {
        var copy = self
        copy.footerKey = footerKey
        return copy
    }

    func decryptor(_ key: [UInt8]) -> ModuleDecryptor { ModuleDecryptor(key: key, fileAAD: fileAAD, algorithm: algorithm) }

    /// The decryptor of a column chunk, or nil when its key is not given.
    func decryptor(for crypto: ParquetColumnCrypto) -> ModuleDecryptor? {
        switch crypto {
        case .footerKey:
            return footerKey.map(decryptor)
        case .columnKey(let path, let metadata):
            // By the leaf's dotted path, or by its top-level field's name for a nested leaf.
            let key = keys.columnKeys[path.joined(separator: ".")] ?? path.first.flatMap { keys.columnKeys[$0] }
                ?? metadata.flatMap { keys.keyRetriever?($0) }
            return key.map(decryptor)
        }
    }

    /// Replaces the metadata of chunks encrypted with their own key by its decryption, for the
    /// chunks whose key is given.
    func decryptColumnMetadata(_ metadata: inout ParquetFileMetadata) throws(ParquetError) {
        for g in metadata.rowGroups.indices {
            let ordinal = Int(metadata.rowGroups[g].ordinal ?? Int16(truncatingIfNeeded: g))
            for c in metadata.rowGroups[g].columns.indices {
                let chunk = metadata.rowGroups[g].columns[c]
                guard let crypto = chunk.crypto, case .columnKey = crypto, let encrypted = chunk.encryptedColumnMetadata else { continue }
                guard let decryptor = decryptor(for: crypto) else {
                    // No key: the column cannot be read, and says so when asked.
                    metadata.rowGroups[g].columns[c].metadata = nil
                    continue
                }
                let aad = decryptor.aad(.columnMetaData, rowGroup: ordinal, column: c)
                let plaintext = try withRawBytes(encrypted) { (raw) throws(ParquetError) in try decryptor.decrypt(raw, at: 0, aad: aad).0 }
                let decoded = try withRawBytes(plaintext) { (raw) throws(ParquetError) -> ParquetColumnMetadata in
                    var reader = ThriftCompactReader(raw)
                    return try ParquetColumnMetadata.read(&reader)
                }
                metadata.rowGroups[g].columns[c].metadata = decoded
            }
        }
    }
}
