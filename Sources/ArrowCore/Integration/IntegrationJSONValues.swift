import Foundation

/// A parsed JSON object with the path it was found at, so that every error names its place.
struct JSONObject {
    let values: [String: Any]
    let path: String

    init(_ value: Any, path: String) throws(ArrowError) {
        guard let values = value as? [String: Any] else { throw .invalid("\(path): expected a JSON object") }
        self.values = values
        self.path = path
    }

    /// The value of `key`, or nil when it is absent or JSON `null`.
    func optional(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    func required(_ key: String) throws(ArrowError) -> Any {
        guard let value = optional(key) else { throw .invalid("\(path): missing \"\(key)\"") }
        return value
    }

    func string(_ key: String) throws(ArrowError) -> String {
        guard let text = try required(key) as? String else { throw .invalid("\(path): \"\(key)\" is not a string") }
        return text
    }

    func optionalString(_ key: String) throws(ArrowError) -> String? {
        guard let value = optional(key) else { return nil }
        guard let text = value as? String else { throw .invalid("\(path): \"\(key)\" is not a string") }
        return text
    }

    func int(_ key: String) throws(ArrowError) -> Int {
        try jsonInteger(required(key), as: Int.self, path: "\(path).\(key)")
    }

    func optionalInt(_ key: String) throws(ArrowError) -> Int? {
        guard let value = optional(key) else { return nil }
        return try jsonInteger(value, as: Int.self, path: "\(path).\(key)")
    }

    func bool(_ key: String, default fallback: Bool) throws(ArrowError) -> Bool {
        guard let value = optional(key) else { return fallback }
        guard let flag = jsonBool(value) else { throw .invalid("\(path): \"\(key)\" is not a boolean") }
        return flag
    }

    func array(_ key: String) throws(ArrowError) -> [Any] {
        guard let items = try required(key) as? [Any] else { throw .invalid("\(path): \"\(key)\" is not an array") }
        return items
    }

    func optionalArray(_ key: String) throws(ArrowError) -> [Any]? {
        guard let value = optional(key) else { return nil }
        guard let items = value as? [Any] else { throw .invalid("\(path): \"\(key)\" is not an array") }
        return items
    }

    /// The array under `key`, which must hold exactly `count` items.
    func array(_ key: String, count: Int) throws(ArrowError) -> [Any] {
        let items = try array(key)
        guard items.count == count else {
            throw .invalid("\(path): \(key) has \(items.count) values for count \(count)")
        }
        return items
    }

    func object(_ key: String) throws(ArrowError) -> JSONObject {
        try JSONObject(required(key), path: "\(path).\(key)")
    }
}

/// A JSON boolean, or the numbers 0 and 1 that the format uses for bits.
func jsonBool(_ value: Any) -> Bool? {
    guard let number = value as? NSNumber else { return nil }
    switch number.doubleValue {
    case 0: return false
    case 1: return true
    default: return nil
    }
}

/// An integer given as a JSON number or, as the format writes 64-bit values, a decimal string.
/// Values outside `T` are an error rather than silently wrapped.
func jsonInteger<T: FixedWidthInteger>(_ value: Any, as: T.Type, path: @autoclosure () -> String) throws(ArrowError) -> T {
    if let text = value as? String {
        guard let integer = T(text) else { throw .invalid("\(path()): \"\(text)\" is not a \(T.self)") }
        return integer
    }
    if let number = value as? NSNumber {
        // stringValue is exact for integers of any size, where doubleValue would round.
        if let integer = T(number.stringValue) { return integer }
        let double = number.doubleValue
        if double.rounded() == double, let integer = T(exactly: double) { return integer }
        throw .invalid("\(path()): \(number.stringValue) is not a \(T.self)")
    }
    throw .invalid("\(path()): expected an integer")
}

/// A floating-point value given as a JSON number, or one of the strings that stand for values JSON
/// numbers cannot hold.
func jsonDouble(_ value: Any, path: @autoclosure () -> String) throws(ArrowError) -> Double {
    if let number = value as? NSNumber { return number.doubleValue }
    if let text = value as? String {
        switch text {
        case "NaN", "nan": return .nan
        case "Infinity", "inf", "+Infinity": return .infinity
        case "-Infinity", "-inf": return -.infinity
        default:
            if let double = Double(text) { return double }
        }
    }
    throw .invalid("\(path()): expected a number")
}

/// The bytes of a hex string (either case).
func jsonHex(_ value: Any, path: @autoclosure () -> String) throws(ArrowError) -> [UInt8] {
    guard let text = value as? String else { throw .invalid("\(path()): expected a hex string") }
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { throw .invalid("\(path()): hex string of odd length \(digits.count)") }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var k = 0
    while k < digits.count {
        guard let high = nibble(digits[k]), let low = nibble(digits[k + 1]) else {
            throw .invalid("\(path()): \"\(text.prefix(40))\" is not hex")
        }
        bytes.append(high << 4 | low)
        k += 2
    }
    return bytes
}

/// The little-endian two's complement bytes, `byteWidth` of them, of a decimal integer given as a
/// string (or a JSON number). Values that do not fit are an error.
func jsonWideInteger(_ value: Any, byteWidth: Int, path: @autoclosure () -> String) throws(ArrowError) -> [UInt8] {
    let text: String
    if let string = value as? String {
        text = string
    } else if let number = value as? NSNumber {
        text = number.stringValue
    } else {
        throw .invalid("\(path()): expected a decimal integer string")
    }
    var digits = Substring(text)
    let negative = digits.first == "-"
    if negative || digits.first == "+" { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        throw .invalid("\(path()): \"\(text.prefix(80))\" is not an integer")
    }
    let bits = byteWidth * 8
    var limbs = [UInt64](repeating: 0, count: (byteWidth + 7) / 8)
    func tooWide() -> ArrowError { .invalid("\(path()): \(text.prefix(80)) does not fit in \(bits) bits") }
    for digit in digits.utf8 {
        var carry = UInt64(digit - UInt8(ascii: "0"))
        for k in limbs.indices {
            let (high, low) = limbs[k].multipliedFullWidth(by: 10)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limbs[k] = sum
            carry = high + (overflow ? 1 : 0)
        }
        guard carry == 0 else { throw tooWide() }
    }
    // The magnitude must be below 2^(bits-1), or equal to it for a negative value.
    let signBit = bits - 1
    for k in limbs.indices {
        let low = k * 64
        if low > signBit {
            guard limbs[k] == 0 else { throw tooWide() }
        } else if signBit - low < 63 {
            guard limbs[k] >> UInt64(signBit - low + 1) == 0 else { throw tooWide() }
        }
    }
    let signLimb = signBit / 64, signMask = UInt64(1) << UInt64(signBit % 64)
    if limbs[signLimb] & signMask != 0 {
        let lowerBitsZero = limbs[signLimb] == signMask && limbs[..<signLimb].allSatisfy { $0 == 0 }
        guard negative, lowerBitsZero else { throw tooWide() }
    }
    if negative { negateLimbs(&limbs) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(byteWidth)
    for k in 0..<byteWidth { bytes.append(UInt8(truncatingIfNeeded: limbs[k / 8] >> UInt64(k % 8 * 8))) }
    return bytes
}

/// Custom metadata: absent, `null`, a list of `{"key", "value"}` objects, or (accepted for older
/// writers) an object of string values.
func jsonMetadata(_ value: Any?, path: String) throws(ArrowError) -> Metadata {
    guard let value, !(value is NSNull) else { return Metadata() }
    if let map = value as? [String: Any] {
        var pairs: [(key: String, value: String)] = []
        for key in map.keys.sorted() {
            guard let text = map[key] as? String else { throw .invalid("\(path).\(key): metadata value is not a string") }
            pairs.append((key: key, value: text))
        }
        return Metadata(pairs)
    }
    guard let items = value as? [Any] else { throw .invalid("\(path): metadata is not a list") }
    var pairs: [(key: String, value: String)] = []
    for (i, item) in items.enumerated() {
        let entry = try JSONObject(item, path: "\(path)[\(i)]")
        pairs.append((key: try entry.string("key"), value: try entry.string("value")))
    }
    return Metadata(pairs)
}
