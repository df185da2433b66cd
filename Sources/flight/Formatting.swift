import ArrowCore
import FlightRPC

/// Bytes as text for a person: the UTF-8 text when the bytes are valid UTF-8, else lower-case hex.
func text(_ bytes: [UInt8]) -> String {
    String(validating: bytes, as: UTF8.self) ?? hex(bytes)
}

/// Lower-case hex, two digits a byte.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return out
}

/// Opaque bytes shown quoted when they are UTF-8 (escaped as Swift does), else as `0x…` hex.
func quoted(_ bytes: [UInt8]) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return String(reflecting: text) }
    return "0x" + hex(bytes)
}

extension FlightDescriptor {
    /// `path ["a", "b"]` or `command "SELECT 1"` (`command 0x…` when not UTF-8).
    var display: String {
        switch self {
        case .path(let path): "path [\(path.map { String(reflecting: $0) }.joined(separator: ", "))]"
        case .command(let bytes): "command \(quoted(bytes))"
        }
    }
}

/// A FlightInfo as lines of `key: value`, then its endpoints and schema, indented.
func render(_ info: FlightInfo) -> String {
    var lines = [
        "descriptor: \(info.descriptor.display)",
        "records: \(info.totalRecords < 0 ? "unknown" : String(info.totalRecords))",
        "bytes: \(info.totalBytes < 0 ? "unknown" : String(info.totalBytes))",
        "ordered: \(info.ordered)",
    ]
    if !info.appMetadata.isEmpty { lines.append("app metadata: \(quoted(info.appMetadata))") }
    lines.append("endpoints: \(info.endpoints.count)")
    for endpoint in info.endpoints {
        let places = endpoint.locations.isEmpty ? "this service" : endpoint.locations.map(\.uri).joined(separator: ", ")
        lines.append("  ticket \(quoted(endpoint.ticket.bytes)) at \(places)")
    }
    lines.append("schema:")
    let schema = PrettyPrinter.render(info.schema)
    lines += schema.isEmpty ? ["  (no fields)"] : schema.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }
    return lines.joined(separator: "\n")
}
