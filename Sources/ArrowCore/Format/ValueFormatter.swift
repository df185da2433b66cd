extension ArrayData {
    /// A human-readable rendering of slot `i`, for every type: `null` for a null slot; numbers
    /// in their shortest exact form (decimals with the scale applied); dates, times and
    /// timestamps in ISO 8601; durations like `123ms`; intervals like `1M 2d 3ns`; binary as
    /// lowercase hex (the first 32 bytes, then `…`); strings as they are; lists as `[1, 2, null]`;
    /// structs as `{a: 1, b: x}`; maps as `{k1: v1, k2: v2}`; unions, dictionaries and run-end
    /// encoded arrays as the value they stand for.
    ///
    /// Timestamps with a time zone are shown in UTC with `Z`, or at their offset when the zone
    /// is a fixed `+HH:MM`/`-HH:MM` offset; a named zone is appended in brackets
    /// (`2024-01-01T12:00:00Z[Europe/Paris]`, RFC 9557) since no zone database is consulted.
    ///
    /// The array must be valid: built by this library or passed `validate()`. An index outside
    /// `0..<length` gives `<out of range>` rather than a trap.
    public func formatValue(at i: Int) -> String {
        var out = ""
        ValueFormatter().write(self, i, to: &out)
        return out
    }
}

/// Renders array slots as text. The limits keep the cost of one cell bounded when a caller
/// (the pretty printer) will cut the text anyway.
struct ValueFormatter {
    /// Binary values longer than this many bytes are cut, with `…` after the hex.
    var maxBinaryBytes = 32
    /// Lists and maps with more items than this show the first ones, then `…`.
    var maxItems = Int.max

    func format(_ array: ArrayData, _ i: Int) -> String {
        var out = ""
        write(array, i, to: &out)
        return out
    }

    func write(_ a: ArrayData, _ i: Int, to out: inout String) {
        guard i >= 0, i < a.length else {
            out += "<out of range>"
            return
        }
        if a.isNull(i) {
            out += "null"
            return
        }
        switch a.type {
        case .null: out += "null"
        case .bool: out += a.boolValue(i) ? "true" : "false"
        case .int8: out += String(a.value(i, as: Int8.self))
        case .int16: out += String(a.value(i, as: Int16.self))
        case .int32: out += String(a.value(i, as: Int32.self))
        case .int64: out += String(a.value(i, as: Int64.self))
        case .uint8: out += String(a.value(i, as: UInt8.self))
        case .uint16: out += String(a.value(i, as: UInt16.self))
        case .uint32: out += String(a.value(i, as: UInt32.self))
        case .uint64: out += String(a.value(i, as: UInt64.self))
        case .float16: out += formatFloat16(bits: a.value(i, as: UInt16.self))
        case .float32: out += a.value(i, as: Float.self).description
        case .float64: out += a.value(i, as: Double.self).description
        case .decimal(let bitWidth, _, let scale):
            guard [32, 64, 128, 256].contains(bitWidth) else {
                out += "<decimal\(bitWidth)>"
                return
            }
            let width = bitWidth / 8
            let raw = a.buffers[1].bytes.baseAddress.unsafelyUnwrapped + (a.offset + i) * width
            out += formatDecimal(UnsafeRawBufferPointer(start: raw, count: width), scale: scale)
        case .date32: out += formatDate(days: Int(a.value(i, as: Int32.self)))
        case .date64: out += formatDate(days: floorDivide(Int(a.value(i, as: Int64.self)), 86_400_000))
        case .time32(let unit): out += formatTimeOfDay(Int(a.value(i, as: Int32.self)), unit: unit)
        case .time64(let unit): out += formatTimeOfDay(Int(a.value(i, as: Int64.self)), unit: unit)
        case .timestamp(let unit, let zone):
            out += formatTimestamp(Int(a.value(i, as: Int64.self)), unit: unit, zone: zone)
        case .duration(let unit): out += "\(a.value(i, as: Int64.self))\(unit.abbreviation)"
        case .interval(.yearMonth): out += "\(a.value(i, as: Int32.self))M"
        case .interval(.dayTime):
            let base = (a.offset + i) * 8
            let days = a.buffers[1].load(fromByteOffset: base, as: Int32.self)
            let millis = a.buffers[1].load(fromByteOffset: base + 4, as: Int32.self)
            out += "\(days)d \(millis)ms"
        case .interval(.monthDayNano):
            let base = (a.offset + i) * 16
            let months = a.buffers[1].load(fromByteOffset: base, as: Int32.self)
            let days = a.buffers[1].load(fromByteOffset: base + 4, as: Int32.self)
            let nanos = a.buffers[1].load(fromByteOffset: base + 8, as: Int64.self)
            out += "\(months)M \(days)d \(nanos)ns"
        case .binary, .largeBinary, .binaryView, .fixedSizeBinary:
            writeHex(a.bytes(i), to: &out)
        case .utf8, .largeUtf8, .utf8View:
            out += a.string(i)
        case .list, .largeList, .listView, .largeListView, .fixedSizeList:
            writeList(a, i, to: &out)
        case .struct(let fields):
            writeStruct(a, fields: fields, slot: a.offset + i, to: &out)
        case .map:
            writeMap(a, i, to: &out)
        case .union(let mode, _, let typeIDs):
            let id = a.unionTypeID(i)
            guard let child = typeIDs.firstIndex(of: id), child < a.children.count else {
                out += "<unknown union type id \(id)>"
                return
            }
            write(a.children[child], mode == .sparse ? a.offset + i : a.unionOffset(i), to: &out)
        case .dictionary:
            guard let dictionary = a.dictionary else {
                out += "<no dictionary>"
                return
            }
            write(dictionary, a.dictionaryIndex(i), to: &out)
        case .runEndEncoded:
            guard a.children.count == 2 else {
                out += "<missing run-end children>"
                return
            }
            write(a.children[1], a.runIndex(i), to: &out)
        }
    }

    private func writeList(_ a: ArrayData, _ i: Int, to out: inout String) {
        guard let child = a.children.first else {
            out += "<missing list child>"
            return
        }
        writeItems(a.valueRange(i), to: &out, open: "[", close: "]") { j, out in
            write(child, j, to: &out)
        }
    }

    private func writeStruct(_ a: ArrayData, fields: [Field], slot: Int, to out: inout String) {
        out += "{"
        for (k, child) in a.children.enumerated() {
            if k > 0 { out += ", " }
            out += k < fields.count ? fields[k].name : "\(k)"
            out += ": "
            write(child, slot, to: &out)
        }
        out += "}"
    }

    private func writeMap(_ a: ArrayData, _ i: Int, to out: inout String) {
        guard let entries = a.children.first, entries.children.count == 2 else {
            out += "<missing map entries>"
            return
        }
        let keys = entries.children[0], values = entries.children[1]
        // Entry j of the map is slot j of the entries struct, whose own offset shifts its children.
        writeItems(a.valueRange(i), to: &out, open: "{", close: "}") { j, out in
            write(keys, entries.offset + j, to: &out)
            out += ": "
            write(values, entries.offset + j, to: &out)
        }
    }

    private func writeItems(_ range: Range<Int>, to out: inout String, open: String, close: String,
                            item: (Int, inout String) -> Void) {
        out += open
        var written = 0
        for j in range {
            if written > 0 { out += ", " }
            if written == maxItems {
                out += "…"
                break
            }
            item(j, &out)
            written += 1
        }
        out += close
    }

    private func writeHex(_ bytes: UnsafeRawBufferPointer, to out: inout String) {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        for byte in bytes.prefix(maxBinaryBytes) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        if bytes.count > maxBinaryBytes { out += "…" }
    }
}

// MARK: - Numbers

/// The value of an IEEE 754 half-precision number, widened exactly to `Float`.
func float16ToFloat(bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Float(bits & 0x03FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 0x1F: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction * 0x1p-10) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}

/// The shortest decimal that reads back as the same half-precision value (so 0x2E66 is `0.1`,
/// not the `0.099975586` that the widened `Float` would print).
func formatFloat16(bits: UInt16) -> String {
    #if arch(x86_64) && (os(macOS) || os(iOS) || os(tvOS) || os(watchOS))
    // Float16 is unavailable here; the widened value is exact, only longer.
    return float16ToFloat(bits: bits).description
    #else
    return Float16(bitPattern: bits).description
    #endif
}

/// The exact decimal string of a little-endian two's-complement integer of 4, 8, 16 or 32
/// bytes divided by 10^`scale`, with `scale` digits after the point (so zero at scale 3 is
/// `0.000`, as Arrow C++ writes it). A scale beyond ±200 is written in exponent form (`123e-500`)
/// so a hostile scale cannot make a string of millions of zeros.
func formatDecimal(_ raw: UnsafeRawBufferPointer, scale: Int) -> String {
    var words: [UInt64]
    if raw.count < 8 {
        words = [UInt64(bitPattern: Int64(raw.loadUnaligned(as: Int32.self)))]
    } else {
        words = (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
    }
    let negative = (words.last ?? 0) >> 63 == 1
    if negative {
        // Two's-complement negation; the most negative value maps to its own bits, which read
        // as unsigned are exactly its magnitude.
        var carry = true
        for k in words.indices {
            let (sum, overflow) = (~words[k]).addingReportingOverflow(carry ? 1 : 0)
            words[k] = sum
            carry = overflow
        }
    }
    let digits = unsignedDecimalDigits(&words)
    let sign = negative ? "-" : ""
    if scale > 200 || scale < -200 { return digits == "0" ? "0" : "\(sign)\(digits)e\(-scale)" }
    if scale <= 0 { return digits == "0" ? "0" : sign + digits + String(repeating: "0", count: -scale) }
    if digits.count <= scale {
        return "\(sign)0.\(String(repeating: "0", count: scale - digits.count))\(digits)"
    }
    let point = digits.index(digits.endIndex, offsetBy: -scale)
    return "\(sign)\(digits[..<point]).\(digits[point...])"
}

/// The decimal digits of the unsigned integer in little-endian `words` (consumed).
private func unsignedDecimalDigits(_ words: inout [UInt64]) -> String {
    let chunkDivisor: UInt64 = 10_000_000_000_000_000_000  // 10^19, the largest power of ten in a UInt64
    var chunks: [UInt64] = []
    while words.contains(where: { $0 != 0 }) {
        var remainder: UInt64 = 0
        for k in words.indices.reversed() {
            (words[k], remainder) = chunkDivisor.dividingFullWidth((high: remainder, low: words[k]))
        }
        chunks.append(remainder)
    }
    guard let top = chunks.last else { return "0" }
    var text = String(top)
    for chunk in chunks.dropLast().reversed() {
        text += zeroPadded(chunk, width: 19)
    }
    return text
}

// MARK: - Dates and times

/// `value` written in decimal with leading zeros up to `width` digits.
package func zeroPadded(_ value: UInt64, width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// The quotient rounded toward negative infinity (`divisor` > 0).
package func floorDivide(_ value: Int, _ divisor: Int) -> Int {
    let q = value / divisor
    return value % divisor < 0 ? q - 1 : q
}

/// The remainder that goes with `floorDivide`, in `0..<divisor`.
func floorModulo(_ value: Int, _ divisor: Int) -> Int {
    let r = value % divisor
    return r < 0 ? r + divisor : r
}

/// The proleptic Gregorian year, month and day of `days` since 1970-01-01.
func civilDate(days: Int) -> (year: Int, month: Int, day: Int) {
    // Count from 0000-03-01 so the leap day ends each 4/100/400-year cycle, which makes the
    // day-of-year to month step a fixed linear formula.
    let shifted = days + 719_468
    let era = floorDivide(shifted, 146_097)
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthFromMarch = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
    let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
}

/// `YYYY-MM-DD`; years outside 0...9999 get a sign, as ISO 8601's expanded form has.
package func formatDate(days: Int) -> String {
    let (year, month, day) = civilDate(days: days)
    let yearText: String
    if year < 0 {
        yearText = "-" + zeroPadded(UInt64(-year), width: 4)
    } else if year > 9999 {
        yearText = "+" + String(year)
    } else {
        yearText = zeroPadded(UInt64(year), width: 4)
    }
    return "\(yearText)-\(zeroPadded(UInt64(month), width: 2))-\(zeroPadded(UInt64(day), width: 2))"
}

extension TimeUnit {
    /// Units per second.
    package var perSecond: Int {
        switch self {
        case .second: 1
        case .millisecond: 1_000
        case .microsecond: 1_000_000
        case .nanosecond: 1_000_000_000
        }
    }

    /// Digits after the decimal point of a second.
    package var fractionDigits: Int {
        switch self {
        case .second: 0
        case .millisecond: 3
        case .microsecond: 6
        case .nanosecond: 9
        }
    }
}

/// `HH:MM:SS` for whole seconds since midnight, without wrapping at a day.
private func clockText(seconds: UInt64) -> String {
    "\(zeroPadded(seconds / 3600, width: 2)):\(zeroPadded(seconds / 60 % 60, width: 2)):\(zeroPadded(seconds % 60, width: 2))"
}

private func fractionText(_ fraction: UInt64, unit: TimeUnit) -> String {
    unit == .second ? "" : "." + zeroPadded(fraction, width: unit.fractionDigits)
}

/// `HH:MM:SS` plus a fraction of the unit's precision. Values outside a day are not valid
/// times, but are shown as they are (hours past 23, a leading `-`) rather than wrapped.
package func formatTimeOfDay(_ value: Int, unit: TimeUnit) -> String {
    let magnitude = UInt64(value.magnitude)
    let perSecond = UInt64(unit.perSecond)
    let text = clockText(seconds: magnitude / perSecond) + fractionText(magnitude % perSecond, unit: unit)
    return value < 0 ? "-" + text : text
}

/// How a timestamp's time zone is shown.
private enum ZoneDisplay {
    case none
    case utc
    case offset(seconds: Int, text: String)
    case named(String)

    /// Names of UTC in the tz database, plus the ISO designator.
    static let utcNames: Set<String> = [
        "UTC", "Etc/UTC", "Z", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu",
    ]

    init(_ zone: String?) {
        guard let zone, !zone.isEmpty else {
            self = .none
            return
        }
        if Self.utcNames.contains(zone) {
            self = .utc
            return
        }
        let chars = Array(zone.utf8)
        func digit(_ k: Int) -> Int? {
            chars[k] >= UInt8(ascii: "0") && chars[k] <= UInt8(ascii: "9") ? Int(chars[k] - UInt8(ascii: "0")) : nil
        }
        if chars.count == 6, chars[0] == UInt8(ascii: "+") || chars[0] == UInt8(ascii: "-"), chars[3] == UInt8(ascii: ":"),
           let h1 = digit(1), let h2 = digit(2), let m1 = digit(4), let m2 = digit(5),
           h1 * 10 + h2 < 24, m1 * 10 + m2 < 60 {
            let seconds = (h1 * 10 + h2) * 3600 + (m1 * 10 + m2) * 60
            if seconds == 0 {
                self = .utc
            } else {
                self = .offset(seconds: chars[0] == UInt8(ascii: "-") ? -seconds : seconds, text: zone)
            }
            return
        }
        self = .named(zone)
    }
}

/// ISO 8601 date and time with the unit's fraction digits, then the zone (see `formatValue`).
func formatTimestamp(_ value: Int, unit: TimeUnit, zone: String?) -> String {
    let perSecond = unit.perSecond
    let seconds = floorDivide(value, perSecond)
    let fraction = UInt64(floorModulo(value, perSecond))
    var days = floorDivide(seconds, 86_400)
    var secondOfDay = floorModulo(seconds, 86_400)
    let display = ZoneDisplay(zone)
    if case .offset(let offset, _) = display {
        // Shift within the day first so an instant near Int.max cannot overflow.
        secondOfDay += offset
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        } else if secondOfDay >= 86_400 {
            secondOfDay -= 86_400
            days += 1
        }
    }
    let text = formatDate(days: days) + "T" + clockText(seconds: UInt64(secondOfDay)) + fractionText(fraction, unit: unit)
    switch display {
    case .none: return text
    case .utc: return text + "Z"
    case .offset(_, let offsetText): return text + offsetText
    case .named(let name): return text + "Z[" + name + "]"
    }
}
