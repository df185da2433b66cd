// The binary layout of `ArrowSchema.metadata`: a pair count, then for each pair the key's byte
// length and bytes and the value's byte length and bytes. Lengths are int32 in native byte order
// and strings are not NUL-terminated.

extension Metadata {
    /// The encoded bytes, or nil for no pairs (the format spells "no metadata" as a NULL pointer).
    func cDataEncoded() throws(ArrowError) -> [UInt8]? {
        guard !pairs.isEmpty else { return nil }
        guard pairs.count <= Int(Int32.max) else { throw .invalid("\(pairs.count) metadata pairs do not fit an int32 count") }
        var bytes: [UInt8] = []
        func append(_ value: Int32) {
            withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
        }
        append(Int32(pairs.count))
        for (key, value) in pairs {
            for text in [key, value] {
                let utf8 = Array(text.utf8)
                guard utf8.count <= Int(Int32.max) else { throw .invalid("metadata string of \(utf8.count) bytes is too long") }
                append(Int32(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }
        return bytes
    }

    /// Decodes metadata at `pointer` (which may be NULL: no metadata). The layout carries no total
    /// size, so the producer's bytes are trusted to be as long as their lengths say; what is
    /// checked is that counts and lengths are non-negative and that strings are UTF-8.
    init(cData pointer: UnsafePointer<CChar>?, path: String) throws(ArrowError) {
        self.init()
        guard let pointer else { return }
        let raw = UnsafeRawPointer(pointer)
        var position = 0
        func readLength(_ what: String) throws(ArrowError) -> Int {
            let value = Int(raw.loadUnaligned(fromByteOffset: position, as: Int32.self))
            position += 4
            guard value >= 0 else { throw .invalid("\(path): metadata \(what) is negative (\(value))") }
            return value
        }
        func readString(_ what: String) throws(ArrowError) -> String {
            let length = try readLength("\(what) length")
            let bytes = UnsafeRawBufferPointer(start: raw + position, count: length)
            position += length
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .invalid("\(path): metadata \(what) is not UTF-8")
            }
            return text
        }
        let count = try readLength("pair count")
        for _ in 0..<count {
            let key = try readString("key")
            let value = try readString("value of \(key.debugDescription)")
            pairs.append((key: key, value: value))
        }
    }
}
