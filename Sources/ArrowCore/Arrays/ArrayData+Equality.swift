extension ArrayData {
    /// Compares the logical values of this array with `other`'s, slot by slot, and describes the
    /// first difference, or returns nil when they are equal.
    ///
    /// Only what a reader can observe counts: the types (including child field names, nullability
    /// and metadata), the length, which slots are null and the values of valid slots. Offsets,
    /// slicing, buffer padding, the bytes behind null slots and physical choices that do not change
    /// values (view buffer layout, dictionary contents beyond the indices used, how runs are cut)
    /// are ignored. Dictionary slots compare by their decoded values, run-end encoded slots by their
    /// logical values, and floats by bit pattern except that any NaN equals any NaN.
    ///
    /// The message names the slot as a path from `path`, for example `col.x[3]: 5 != 7` or
    /// `col[2][1]: null != "a"` (element 1 of list slot 2). Both arrays must have passed
    /// `validate()`.
    public func firstDifference(from other: ArrayData, path: String = "array") -> String? {
        let mine = type.canonicalized, theirs = other.type.canonicalized
        if mine != theirs {
            return typeDifference(mine, theirs, path: path) ?? "\(path): type \(type) != \(other.type)"
        }
        guard length == other.length else { return "\(path): length \(length) != \(other.length)" }
        for i in 0..<length {
            if let difference = slotDifference(self, i, other, i, path: { path }, index: i) { return difference }
        }
        return nil
    }

    /// A short human-readable rendering of slot `i`'s logical value, for messages: `null`, numbers,
    /// quoted strings, upper-case hex for binary, `[...]` for lists and `{name: value}` for structs.
    /// Long values are cut short with `…`. The array must have passed `validate()`.
    public func describeValue(at i: Int) -> String {
        describeSlot(self, i, depth: 0)
    }
}

extension RecordBatch {
    /// Compares this batch with `other` and describes the first difference, or returns nil when
    /// they are equal.
    ///
    /// The schemas must match (see `Schema.firstDifference(from:)`). Then the row counts, then
    /// every column by logical value (see `ArrayData.firstDifference(from:path:)`), with paths
    /// starting at the field name.
    public func firstDifference(from other: RecordBatch) -> String? {
        if let difference = schema.firstDifference(from: other.schema) { return difference }
        guard length == other.length else { return "batch: \(length) rows != \(other.length) rows" }
        for (i, field) in schema.fields.enumerated() {
            if let difference = columns[i].firstDifference(from: other.columns[i], path: field.name) { return difference }
        }
        return nil
    }
}

extension Schema {
    /// Describes the first difference from `other`, or nil when they are equal: field names, types,
    /// nullability and field metadata at every level, and the schema metadata. The order of metadata
    /// pairs and the names of a map's entries, key and value fields do not count (the format gives
    /// them no meaning).
    public func firstDifference(from other: Schema) -> String? {
        schemaDifference(self, other)
    }
}

extension DataType {
    /// This type with every map's child fields named `entries`, `key` and `value`.
    var canonicalized: DataType {
        func field(_ f: Field, _ name: String? = nil) -> Field {
            Field(name ?? f.name, f.type.canonicalized, nullable: f.nullable, metadata: f.metadata)
        }
        switch self {
        case .map(let entries, let sorted):
            guard case .struct(let kv) = entries.type, kv.count == 2 else { return self }
            let canonicalEntries = Field("entries", .struct([field(kv[0], "key"), field(kv[1], "value")]),
                                         nullable: entries.nullable, metadata: entries.metadata)
            return .map(canonicalEntries, keysSorted: sorted)
        case .list(let f): return .list(field(f))
        case .largeList(let f): return .largeList(field(f))
        case .listView(let f): return .listView(field(f))
        case .largeListView(let f): return .largeListView(field(f))
        case .fixedSizeList(let f, let n): return .fixedSizeList(field(f), n)
        case .struct(let fields): return .struct(fields.map { field($0) })
        case .union(let mode, let fields, let ids): return .union(mode, fields.map { field($0) }, typeIDs: ids)
        case .dictionary(let index, let value, let ordered): return .dictionary(index: index, value: value.canonicalized, ordered: ordered)
        case .runEndEncoded(let ends, let values): return .runEndEncoded(runEnds: field(ends), values: field(values))
        default: return self
        }
    }
}

/// Describes the first difference between two schemas, or nil when they are equal.
private func schemaDifference(_ a: Schema, _ b: Schema) -> String? {
    guard a.fields.count == b.fields.count else {
        return "schema: \(a.fields.count) fields != \(b.fields.count) fields"
    }
    for (i, (fa, fb)) in zip(a.fields, b.fields).enumerated() {
        let ca = Field(fa.name, fa.type.canonicalized, nullable: fa.nullable, metadata: fa.metadata)
        let cb = Field(fb.name, fb.type.canonicalized, nullable: fb.nullable, metadata: fb.metadata)
        if let difference = fieldDifference(ca, cb, path: "schema.fields[\(i)]") { return difference }
    }
    if !a.metadata.equalsIgnoringOrder(b.metadata) {
        return "schema metadata: \(describe(a.metadata)) != \(describe(b.metadata))"
    }
    return nil
}

/// Describes the first difference between two fields, descending into child fields so that the
/// message names the innermost field that differs.
private func fieldDifference(_ a: Field, _ b: Field, path: String) -> String? {
    if a.name != b.name { return "\(path): name \"\(a.name)\" != \"\(b.name)\"" }
    let here = "\(path) '\(a.name)'"
    if a.nullable != b.nullable { return "\(here): nullable \(a.nullable) != \(b.nullable)" }
    if !a.metadata.equalsIgnoringOrder(b.metadata) { return "\(here): metadata \(describe(a.metadata)) != \(describe(b.metadata))" }
    if a.type == b.type { return nil }
    return typeDifference(a.type, b.type, path: here) ?? "\(here): type \(a.type) != \(b.type)"
}

/// Describes how two different types differ, pointing at a child field when the difference is
/// inside one, or nil when the types are equal.
private func typeDifference(_ a: DataType, _ b: DataType, path: String) -> String? {
    if a == b { return nil }
    let ca = a.children, cb = b.children
    if ca.count == cb.count {
        for (i, (fa, fb)) in zip(ca, cb).enumerated() {
            if let difference = fieldDifference(fa, fb, path: "\(path).children[\(i)]") { return difference }
        }
    }
    return "\(path): type \(a) != \(b)"
}

private func describe(_ metadata: Metadata) -> String {
    "[" + metadata.pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "]"
}

/// Follows dictionary indices and run ends (and, with `throughUnions`, union members) down to
/// the array and slot holding slot `i`'s value; nil when the slot is logically null (a null
/// index, a null dictionary value, a null run value, a null member).
package func resolveSlot(_ array: ArrayData, _ i: Int, throughUnions: Bool = false) -> (array: ArrayData, slot: Int)? {
    var current = array, slot = i
    while true {
        switch current.type {
        case .union(let mode, _, let typeIDs) where throughUnions:
            guard let child = typeIDs.firstIndex(of: current.unionTypeID(slot)), child < current.children.count else { return nil }
            slot = mode == .sparse ? current.offset + slot : current.unionOffset(slot)
            current = current.children[child]
        case .null:
            return nil
        case .dictionary:
            guard current.isValid(slot), let dictionary = current.dictionary else { return nil }
            slot = current.dictionaryIndex(slot)
            current = dictionary
        case .runEndEncoded:
            guard current.children.count == 2 else { return nil }
            slot = current.runIndex(slot)
            current = current.children[1]
        default:
            return current.isValid(slot) ? (current, slot) : nil
        }
    }
}

// Paths are closures so that the text of a slot's name is only built when a difference is found.

/// Compares slot `i` of `a` with slot `j` of `b`, which have equal types.
private func slotDifference(_ a: ArrayData, _ i: Int, _ b: ArrayData, _ j: Int, path: () -> String, index: Int) -> String? {
    switch (resolveSlot(a, i), resolveSlot(b, j)) {
    case (nil, nil):
        return nil
    case (nil, let y?):
        return "\(path())[\(index)]: null != \(y.array.describeValue(at: y.slot))"
    case (let x?, nil):
        return "\(path())[\(index)]: \(x.array.describeValue(at: x.slot)) != null"
    case (let x?, let y?):
        return valueDifference(x.array, x.slot, y.array, y.slot, path: path, index: index)
    }
}

/// Compares two valid slots of arrays whose types have been resolved past dictionaries and runs;
/// equal types there follow from equal types at the top and validation.
private func valueDifference(_ a: ArrayData, _ i: Int, _ b: ArrayData, _ j: Int, path: () -> String, index: Int) -> String? {
    func label() -> String { "\(path())[\(index)]" }
    func mismatch() -> String { "\(label()): \(a.describeValue(at: i)) != \(b.describeValue(at: j))" }

    switch a.type {
    case .null, .dictionary, .runEndEncoded:
        return nil  // resolved away by resolveSlot

    case .bool:
        return a.boolValue(i) == b.boolValue(j) ? nil : mismatch()

    case .float16:
        let x = a.value(i, as: UInt16.self), y = b.value(j, as: UInt16.self)
        return x == y || (Float16(bitPattern: x).isNaN && Float16(bitPattern: y).isNaN) ? nil : mismatch()
    case .float32:
        let x = a.value(i, as: UInt32.self), y = b.value(j, as: UInt32.self)
        return x == y || (Float(bitPattern: x).isNaN && Float(bitPattern: y).isNaN) ? nil : mismatch()
    case .float64:
        let x = a.value(i, as: UInt64.self), y = b.value(j, as: UInt64.self)
        return x == y || (Double(bitPattern: x).isNaN && Double(bitPattern: y).isNaN) ? nil : mismatch()

    case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .decimal, .date32, .date64,
         .time32, .time64, .timestamp, .duration, .interval:
        let width = a.type.byteWidth ?? 0
        return fixedWidthBytes(a, i, width).elementsEqual(fixedWidthBytes(b, j, width)) ? nil : mismatch()

    case .binary, .utf8, .largeBinary, .largeUtf8, .binaryView, .utf8View, .fixedSizeBinary:
        return a.bytes(i).elementsEqual(b.bytes(j)) ? nil : mismatch()

    case .list, .largeList, .listView, .largeListView, .fixedSizeList, .map:
        let ra = a.valueRange(i), rb = b.valueRange(j)
        guard ra.count == rb.count else { return "\(label()): \(ra.count) elements != \(rb.count) elements" }
        for e in 0..<ra.count {
            if let difference = slotDifference(a.children[0], ra.lowerBound + e, b.children[0], rb.lowerBound + e,
                                               path: label, index: e) {
                return difference
            }
        }
        return nil

    case .struct(let fields):
        // A struct's offset applies to its children as well.
        for (k, field) in fields.enumerated() {
            if let difference = slotDifference(a.children[k], a.offset + i, b.children[k], b.offset + j,
                                               path: { "\(path()).\(field.name)" }, index: index) {
                return difference
            }
        }
        return nil

    case .union(let mode, let fields, let typeIDs):
        let ida = a.unionTypeID(i), idb = b.unionTypeID(j)
        guard ida == idb else { return "\(label()): union type id \(ida) != \(idb)" }
        guard let k = typeIDs.firstIndex(of: ida) else { return "\(label()): unknown union type id \(ida)" }
        let ca = mode == .dense ? a.unionOffset(i) : a.offset + i
        let cb = mode == .dense ? b.unionOffset(j) : b.offset + j
        return slotDifference(a.children[k], ca, b.children[k], cb, path: { "\(path()).\(fields[k].name)" }, index: index)
    }
}

/// The bytes of fixed-width slot `i`.
private func fixedWidthBytes(_ array: ArrayData, _ i: Int, _ width: Int) -> UnsafeRawBufferPointer {
    let start = (array.offset + i) * width
    return UnsafeRawBufferPointer(rebasing: array.buffers[1].bytes[start..<(start + width)])
}

/// How many elements and how deep `describeValue` goes before it cuts a value short.
private let describedElements = 8
private let describedDepth = 3
private let describedBytes = 32

private func describeSlot(_ array: ArrayData, _ i: Int, depth: Int) -> String {
    guard let resolved = resolveSlot(array, i) else { return "null" }
    let a = resolved.array, i = resolved.slot
    switch a.type {
    case .null, .dictionary, .runEndEncoded:
        return "null"
    case .bool:
        return a.boolValue(i) ? "true" : "false"
    case .int8: return String(a.value(i, as: Int8.self))
    case .int16: return String(a.value(i, as: Int16.self))
    case .int32, .date32, .time32, .interval(.yearMonth): return String(a.value(i, as: Int32.self))
    case .int64, .date64, .time64, .timestamp, .duration: return String(a.value(i, as: Int64.self))
    case .uint8: return String(a.value(i, as: UInt8.self))
    case .uint16: return String(a.value(i, as: UInt16.self))
    case .uint32: return String(a.value(i, as: UInt32.self))
    case .uint64: return String(a.value(i, as: UInt64.self))
    case .float16: return Float16(bitPattern: a.value(i, as: UInt16.self)).description
    case .float32: return a.value(i, as: Float.self).description
    case .float64: return a.value(i, as: Double.self).description
    case .decimal(let bits, _, let scale):
        return scaledDecimalText(integerText(twosComplement: fixedWidthBytes(a, i, bits / 8)), scale: scale)
    case .interval(.dayTime):
        let bytes = fixedWidthBytes(a, i, 8)
        return "\(bytes.loadUnaligned(as: Int32.self))d\(bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self))ms"
    case .interval(.monthDayNano):
        let bytes = fixedWidthBytes(a, i, 16)
        let months = bytes.loadUnaligned(as: Int32.self)
        let days = bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self)
        let nanoseconds = bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self)
        return "\(months)M\(days)d\(nanoseconds)ns"
    case .utf8, .largeUtf8, .utf8View:
        let text = a.string(i)
        let shown = text.count > describedBytes * 2 ? String(text.prefix(describedBytes * 2)) + "…" : text
        return "\"\(shown)\""
    case .binary, .largeBinary, .binaryView, .fixedSizeBinary:
        let bytes = a.bytes(i)
        let hex = hexText(UnsafeRawBufferPointer(rebasing: bytes.prefix(describedBytes)))
        return bytes.count > describedBytes ? "0x\(hex)…" : "0x\(hex)"
    case .list, .largeList, .listView, .largeListView, .fixedSizeList, .map:
        let range = a.valueRange(i)
        if depth >= describedDepth { return range.isEmpty ? "[]" : "[…]" }
        var parts = range.prefix(describedElements).map { describeSlot(a.children[0], $0, depth: depth + 1) }
        if range.count > describedElements { parts.append("…") }
        return "[" + parts.joined(separator: ", ") + "]"
    case .struct(let fields):
        if depth >= describedDepth { return "{…}" }
        var parts = zip(fields, a.children).prefix(describedElements).map { field, child in
            "\(field.name): \(describeSlot(child, a.offset + i, depth: depth + 1))"
        }
        if fields.count > describedElements { parts.append("…") }
        return "{" + parts.joined(separator: ", ") + "}"
    case .union(let mode, let fields, let typeIDs):
        let id = a.unionTypeID(i)
        guard let k = typeIDs.firstIndex(of: id) else { return "<type id \(id)>" }
        let slot = mode == .dense ? a.unionOffset(i) : a.offset + i
        return "\(fields[k].name)=\(describeSlot(a.children[k], slot, depth: depth + 1))"
    }
}

/// Hex of `bytes`, two digits per byte, upper-case unless `lowercase`.
package func hexText(_ bytes: UnsafeRawBufferPointer, lowercase: Bool = false) -> String {
    let digits = Array((lowercase ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The base-10 text of a little-endian two's complement integer of any byte width
/// (decimal32 to decimal256 values).
func integerText(twosComplement bytes: UnsafeRawBufferPointer) -> String {
    guard let top = bytes.last else { return "0" }
    let negative = top & 0x80 != 0
    var limbs = [UInt64](repeating: negative ? .max : 0, count: (bytes.count + 7) / 8)
    for (k, byte) in bytes.enumerated() {
        let shift = UInt64(k % 8) * 8
        limbs[k / 8] = (limbs[k / 8] & ~(0xFF << shift)) | (UInt64(byte) << shift)
    }
    if negative { negateLimbs(&limbs) }  // the minimum value negates to itself, read as unsigned it is the right magnitude
    let chunk: UInt64 = 10_000_000_000_000_000_000  // 10^19, the largest power of ten in a UInt64
    var chunks: [UInt64] = []
    while limbs.contains(where: { $0 != 0 }) {
        var remainder: UInt64 = 0
        for k in stride(from: limbs.count - 1, through: 0, by: -1) {
            let (quotient, rest) = chunk.dividingFullWidth((high: remainder, low: limbs[k]))
            limbs[k] = quotient
            remainder = rest
        }
        chunks.append(remainder)
    }
    guard let mostSignificant = chunks.last else { return "0" }
    var text = negative ? "-" : ""
    text += String(mostSignificant)
    for value in chunks.dropLast().reversed() {
        let digits = String(value)
        text += String(repeating: "0", count: 19 - digits.count) + digits
    }
    return text
}

/// Two's complement negation of a little-endian multi-word integer, in place.
func negateLimbs(_ limbs: inout [UInt64]) {
    var carry = true
    for k in limbs.indices {
        let (sum, overflow) = (~limbs[k]).addingReportingOverflow(carry ? 1 : 0)
        limbs[k] = sum
        carry = overflow
    }
}

/// Places a decimal point `scale` digits from the right of an integer's text (`-12345`, 2 → `-123.45`).
private func scaledDecimalText(_ integer: String, scale: Int) -> String {
    guard scale > 0 else { return scale == 0 ? integer : integer + "e\(-scale)" }
    let negative = integer.hasPrefix("-")
    var digits = negative ? String(integer.dropFirst()) : integer
    if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
    let point = digits.index(digits.endIndex, offsetBy: -scale)
    return (negative ? "-" : "") + digits[..<point] + "." + digits[point...]
}
