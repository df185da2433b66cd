/// Why a Parquet file cannot be read: what is wrong, and where.
public struct ParquetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for example `footer length 9999 exceeds the file's 120 bytes`.
    public var message: String

    /// An error saying `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
