/// The errors ArrowCore throws. Each carries a message that says what was wrong and where.
public enum ArrowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input (IPC bytes, JSON, array buffers) breaks the Arrow format.
    case invalid(String)
    /// The input is valid Arrow but uses something this library does not support.
    case notSupported(String)
    /// An I/O operation failed.
    case io(String)
    /// Two values that were expected to be equal differ.
    case mismatch(String)

    /// The message.
    public var description: String {
        switch self {
        case .invalid(let message): "invalid Arrow data: \(message)"
        case .notSupported(let message): "not supported: \(message)"
        case .io(let message): "I/O error: \(message)"
        case .mismatch(let message): "mismatch: \(message)"
        }
    }
}
