/// A Swift type whose values are stored in Arrow fixed-width buffers bit for bit, so that
/// `PrimitiveArray` reads and `PrimitiveBuilder` writes one with a single load or store.
///
/// Temporal types have no Swift type of their own: they share the storage of the integer of
/// their width (`Int32` for date32 and time32, `Int64` for date64, time64, timestamp and
/// duration), and the array or builder keeps the exact `DataType`.
///
/// A conforming type's `MemoryLayout.size` must equal the byte width of every type it stores,
/// with the format's byte order and field layout; views and builders rely on it.
public protocol ArrowPrimitiveType: BitwiseCopyable, Sendable {
    /// The Arrow type a builder of this Swift type produces when none is given.
    static var arrowType: DataType { get }
    /// Whether arrays of `type` store their values as this Swift type.
    static func canStore(_ type: DataType) -> Bool
}

extension ArrowPrimitiveType {
    /// By default only `arrowType` itself.
    @inlinable
    public static func canStore(_ type: DataType) -> Bool { type == arrowType }
}

extension Int8: ArrowPrimitiveType {
    /// `int8`.
    public static var arrowType: DataType { .int8 }
}

extension Int16: ArrowPrimitiveType {
    /// `int16`.
    public static var arrowType: DataType { .int16 }
}

extension Int32: ArrowPrimitiveType {
    /// `int32`.
    public static var arrowType: DataType { .int32 }
    /// `int32`, `date32`, `time32` and `interval[year_month]`, which all store a 32-bit integer.
    public static func canStore(_ type: DataType) -> Bool {
        switch type {
        case .int32, .date32, .time32, .interval(.yearMonth): true
        default: false
        }
    }
}

extension Int64: ArrowPrimitiveType {
    /// `int64`.
    public static var arrowType: DataType { .int64 }
    /// `int64`, `date64`, `time64`, `timestamp` and `duration`, which all store a 64-bit integer.
    public static func canStore(_ type: DataType) -> Bool {
        switch type {
        case .int64, .date64, .time64, .timestamp, .duration: true
        default: false
        }
    }
}

extension UInt8: ArrowPrimitiveType {
    /// `uint8`.
    public static var arrowType: DataType { .uint8 }
}

extension UInt16: ArrowPrimitiveType {
    /// `uint16`.
    public static var arrowType: DataType { .uint16 }
}

extension UInt32: ArrowPrimitiveType {
    /// `uint32`.
    public static var arrowType: DataType { .uint32 }
}

extension UInt64: ArrowPrimitiveType {
    /// `uint64`.
    public static var arrowType: DataType { .uint64 }
}

#if !(arch(x86_64) && (os(macOS) || os(iOS) || os(tvOS) || os(watchOS)))
extension Float16: ArrowPrimitiveType {
    /// `float16`.
    public static var arrowType: DataType { .float16 }
}
#endif

extension Float: ArrowPrimitiveType {
    /// `float32`.
    public static var arrowType: DataType { .float32 }
}

extension Double: ArrowPrimitiveType {
    /// `float64`.
    public static var arrowType: DataType { .float64 }
}

/// An `interval[day_time]` value: days and milliseconds, kept apart as the format keeps them
/// (a day is not always 86,400,000 ms).
@frozen
public struct DayTimeInterval: ArrowPrimitiveType, Hashable {
    /// Whole days.
    public var days: Int32
    /// Milliseconds on top of `days`.
    public var milliseconds: Int32

    /// An interval of `days` and `milliseconds`.
    @inlinable
    public init(days: Int32, milliseconds: Int32) {
        self.days = days
        self.milliseconds = milliseconds
    }

    /// `interval[day_time]`.
    public static var arrowType: DataType { .interval(.dayTime) }
}

/// An `interval[month_day_nano]` value: months, days and nanoseconds, kept apart because
/// none converts exactly into another.
@frozen
public struct MonthDayNanoInterval: ArrowPrimitiveType, Hashable {
    /// Whole months.
    public var months: Int32
    /// Whole days on top of `months`.
    public var days: Int32
    /// Nanoseconds on top of `days`.
    public var nanoseconds: Int64

    /// An interval of `months`, `days` and `nanoseconds`.
    @inlinable
    public init(months: Int32, days: Int32, nanoseconds: Int64) {
        self.months = months
        self.days = days
        self.nanoseconds = nanoseconds
    }

    /// `interval[month_day_nano]`.
    public static var arrowType: DataType { .interval(.monthDayNano) }
}
