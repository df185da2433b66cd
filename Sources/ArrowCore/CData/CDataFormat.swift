import CArrowABI

// Format strings of the C Data Interface: the short text in `ArrowSchema.format` that names a
// type. Children, dictionaries and flags travel in other members of the struct; this file only
// turns one node's text into a `DataType` given its children, and back.

extension DataType {
    /// The format string of this type. A dictionary's is that of its index type: the value type
    /// goes in the `dictionary` member of the struct.
    func cDataFormat() throws(ArrowError) -> String {
        switch self {
        case .null: return "n"
        case .bool: return "b"
        case .int8: return "c"
        case .uint8: return "C"
        case .int16: return "s"
        case .uint16: return "S"
        case .int32: return "i"
        case .uint32: return "I"
        case .int64: return "l"
        case .uint64: return "L"
        case .float16: return "e"
        case .float32: return "f"
        case .float64: return "g"
        case .decimal(let bits, let precision, let scale):
            guard [32, 64, 128, 256].contains(bits) else { throw .invalid("cannot export a decimal of \(bits) bits") }
            // A missing bit width means 128, the only decimal older consumers know.
            return bits == 128 ? "d:\(precision),\(scale)" : "d:\(precision),\(scale),\(bits)"
        case .date32: return "tdD"
        case .date64: return "tdm"
        case .time32(let unit):
            guard unit == .second || unit == .millisecond else { throw .invalid("time32 cannot have unit \(unit)") }
            return "tt\(unit.cDataLetter)"
        case .time64(let unit):
            guard unit == .microsecond || unit == .nanosecond else { throw .invalid("time64 cannot have unit \(unit)") }
            return "tt\(unit.cDataLetter)"
        case .timestamp(let unit, let zone):
            let zone = zone ?? ""
            guard !zone.utf8.contains(0) else { throw .invalid("time zone \(zone.debugDescription) contains a NUL byte") }
            return "ts\(unit.cDataLetter):\(zone)"
        case .duration(let unit): return "tD\(unit.cDataLetter)"
        case .interval(.yearMonth): return "tiM"
        case .interval(.dayTime): return "tiD"
        case .interval(.monthDayNano): return "tin"
        case .binary: return "z"
        case .largeBinary: return "Z"
        case .utf8: return "u"
        case .largeUtf8: return "U"
        case .binaryView: return "vz"
        case .utf8View: return "vu"
        case .fixedSizeBinary(let width):
            guard width >= 0 else { throw .invalid("fixed-size binary of negative width \(width)") }
            return "w:\(width)"
        case .list: return "+l"
        case .largeList: return "+L"
        case .listView: return "+vl"
        case .largeListView: return "+vL"
        case .fixedSizeList(_, let size):
            guard size >= 0 else { throw .invalid("fixed-size list of negative size \(size)") }
            return "+w:\(size)"
        case .struct: return "+s"
        case .map: return "+m"
        case .union(let mode, _, let typeIDs):
            return (mode == .dense ? "+ud:" : "+us:") + typeIDs.map { String($0) }.joined(separator: ",")
        case .dictionary(let index, _, _):
            guard index.isInteger else { throw .invalid("dictionary index type \(index) is not an integer") }
            return try index.cDataFormat()
        case .runEndEncoded: return "+r"
        }
    }

    /// Parses `format` for a node whose children are `children` and whose flags are `flags`.
    /// `path` names the node in error messages. Dictionaries are not handled here: the caller
    /// wraps the index type this returns.
    static func fromCDataFormat(_ format: String, children: [Field], flags: Int64, path: String) throws(ArrowError) -> DataType {
        func bad(_ why: String) -> ArrowError {
            .invalid("\(path): format \(format.debugDescription): \(why)")
        }
        func leaf(_ type: DataType) throws(ArrowError) -> DataType {
            guard children.isEmpty else { throw bad("takes no children, found \(children.count)") }
            return type
        }
        func onlyChild() throws(ArrowError) -> Field {
            guard children.count == 1, let child = children.first else { throw bad("needs 1 child, found \(children.count)") }
            return child
        }

        switch format {
        case "n": return try leaf(.null)
        case "b": return try leaf(.bool)
        case "c": return try leaf(.int8)
        case "C": return try leaf(.uint8)
        case "s": return try leaf(.int16)
        case "S": return try leaf(.uint16)
        case "i": return try leaf(.int32)
        case "I": return try leaf(.uint32)
        case "l": return try leaf(.int64)
        case "L": return try leaf(.uint64)
        case "e": return try leaf(.float16)
        case "f": return try leaf(.float32)
        case "g": return try leaf(.float64)
        case "z": return try leaf(.binary)
        case "Z": return try leaf(.largeBinary)
        case "u": return try leaf(.utf8)
        case "U": return try leaf(.largeUtf8)
        case "vz": return try leaf(.binaryView)
        case "vu": return try leaf(.utf8View)
        case "tdD": return try leaf(.date32)
        case "tdm": return try leaf(.date64)
        case "tts": return try leaf(.time32(.second))
        case "ttm": return try leaf(.time32(.millisecond))
        case "ttu": return try leaf(.time64(.microsecond))
        case "ttn": return try leaf(.time64(.nanosecond))
        case "tDs": return try leaf(.duration(.second))
        case "tDm": return try leaf(.duration(.millisecond))
        case "tDu": return try leaf(.duration(.microsecond))
        case "tDn": return try leaf(.duration(.nanosecond))
        case "tiM": return try leaf(.interval(.yearMonth))
        case "tiD": return try leaf(.interval(.dayTime))
        case "tin": return try leaf(.interval(.monthDayNano))
        case "+l": return .list(try onlyChild())
        case "+L": return .largeList(try onlyChild())
        case "+vl": return .listView(try onlyChild())
        case "+vL": return .largeListView(try onlyChild())
        case "+s": return .struct(children)
        case "+m":
            let entries = try onlyChild()
            guard case .struct(let keyValue) = entries.type, keyValue.count == 2 else {
                throw bad("map entries must be a struct of two fields, found \(entries.type)")
            }
            return .map(entries, keysSorted: flags & Int64(ARROW_FLAG_MAP_KEYS_SORTED) != 0)
        case "+r":
            guard children.count == 2 else { throw bad("needs 2 children, found \(children.count)") }
            guard [.int16, .int32, .int64].contains(children[0].type) else {
                throw bad("run ends must be int16, int32 or int64, found \(children[0].type)")
            }
            return .runEndEncoded(runEnds: children[0], values: children[1])
        default:
            break
        }

        if let parameters = format.parameters(after: "d:") {
            let parts = parameters.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3,
                  let precision = decimalInteger(parts[0]), let scale = decimalInteger(parts[1], allowSign: true) else {
                throw bad("expected d:precision,scale[,bitWidth]")
            }
            let bits = parts.count == 3 ? decimalInteger(parts[2]) : 128
            guard let bits, let maximumPrecision = [32: 9, 64: 18, 128: 38, 256: 76][bits] else {
                throw bad("decimal bit width must be 32, 64, 128 or 256")
            }
            guard precision >= 1, precision <= maximumPrecision else {
                throw bad("precision \(precision) is outside 1...\(maximumPrecision) for \(bits) bits")
            }
            return try leaf(.decimal(bitWidth: bits, precision: precision, scale: scale))
        }
        if let parameters = format.parameters(after: "w:") {
            guard let width = decimalInteger(parameters) else { throw bad("expected w:byteWidth") }
            return try leaf(.fixedSizeBinary(width))
        }
        if let parameters = format.parameters(after: "+w:") {
            guard let size = decimalInteger(parameters) else { throw bad("expected +w:listSize") }
            return .fixedSizeList(try onlyChild(), size)
        }
        for (prefix, unit) in [("tss:", TimeUnit.second), ("tsm:", .millisecond), ("tsu:", .microsecond), ("tsn:", .nanosecond)] {
            if let zone = format.parameters(after: prefix) {
                return try leaf(.timestamp(unit, timeZone: zone.isEmpty ? nil : String(zone)))
            }
        }
        for (prefix, mode) in [("+ud:", UnionMode.dense), ("+us:", .sparse)] {
            guard let parameters = format.parameters(after: prefix) else { continue }
            var typeIDs: [Int8] = []
            if !parameters.isEmpty {
                for part in parameters.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let id = decimalInteger(part), id <= 127 else { throw bad("union type ids must be 0...127") }
                    typeIDs.append(Int8(id))
                }
            }
            guard typeIDs.count == children.count else {
                throw bad("\(typeIDs.count) type ids for \(children.count) children")
            }
            guard Set(typeIDs).count == typeIDs.count else { throw bad("repeated union type ids") }
            return .union(mode, children, typeIDs: typeIDs)
        }
        throw bad("unknown format")
    }
}

extension TimeUnit {
    /// The unit's letter in format strings.
    fileprivate var cDataLetter: String {
        switch self {
        case .second: "s"
        case .millisecond: "m"
        case .microsecond: "u"
        case .nanosecond: "n"
        }
    }
}

extension String {
    /// The rest of the string after `prefix`, or nil if it does not start with it.
    fileprivate func parameters(after prefix: String) -> Substring? {
        hasPrefix(prefix) ? self[index(startIndex, offsetBy: prefix.count)...] : nil
    }
}

/// A base-10 integer made only of ASCII digits (and a leading `-` when `allowSign`), or nil.
/// Stricter than `Int(_:)`, which accepts `+`: format strings have one spelling per value.
private func decimalInteger(_ text: Substring, allowSign: Bool = false) -> Int? {
    var digits = text.utf8[...]
    var negative = false
    if allowSign, digits.first == UInt8(ascii: "-") {
        negative = true
        digits = digits.dropFirst()
    }
    guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        return nil
    }
    let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    return negative ? -value : value
}
