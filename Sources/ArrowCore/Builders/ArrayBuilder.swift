/// A builder of one Arrow array, seen without its value type: what `StructBuilder`,
/// `ListBuilder`, unions and a row-to-Arrow converter need to fill every column the same way.
///
/// Builders are reference types owned by one task at a time (they are not `Sendable`); what
/// they produce, `ArrayData`, is immutable and `Sendable`. `finish()` hands the built buffers
/// over without copying and leaves the builder empty, ready for the next batch.
public protocol ArrayBuilder {
    /// The type of the array `finish()` returns.
    var type: DataType { get }
    /// The number of slots appended since the last `finish()`.
    var length: Int { get }
    /// Appends a null slot. Builders whose offsets or run ends have a fixed width document
    /// when this traps (a batch outgrowing that width); their throwing appends report it instead.
    mutating func appendNull()
    /// Returns the array built so far, which passes `validate()`, and starts again, empty.
    mutating func finish() -> ArrayData
}

extension ArrayBuilder {
    /// Appends `n` null slots.
    public mutating func appendNulls(_ n: Int) {
        for _ in 0..<Swift.max(n, 0) { appendNull() }
    }
}

/// An `ArrayBuilder` that appends values of one Swift type. Lets generic code such as
/// `RunEndEncodedBuilder` append to any typed builder without knowing which one it is.
public protocol ValueArrayBuilder: ArrayBuilder {
    /// The Swift type of one value.
    associatedtype Value
    /// Appends one value, or throws if it does not fit (a wrong width, a decimal beyond the
    /// precision, a batch outgrowing 32-bit offsets); nothing is appended then.
    mutating func append(_ value: Value) throws(ArrowError)
}

/// An `ArrayBuilder` wrapping any other, so that generic builders such as `ListBuilder` can
/// hold a child whose type is only known at run time.
public struct AnyArrayBuilder: ArrayBuilder {
    /// The wrapped builder.
    public var base: any ArrayBuilder

    /// Wraps `base`.
    public init(_ base: any ArrayBuilder) { self.base = base }

    /// The wrapped builder's type.
    public var type: DataType { base.type }
    /// The wrapped builder's length.
    public var length: Int { base.length }
    /// Appends a null to the wrapped builder.
    public mutating func appendNull() { base.appendNull() }
    /// Finishes the wrapped builder.
    public mutating func finish() -> ArrayData { base.finish() }
}

/// A builder for any `DataType`, with its children made the same way, for code that learns the
/// schema at run time. Cast the result to the concrete builder (`PrimitiveBuilder<Int64>`,
/// `StringBuilder`, ...) once, outside the row loop, to append values without dynamic dispatch.
///
/// | type | builder |
/// |---|---|
/// | null | `NullBuilder` |
/// | bool | `BooleanBuilder` |
/// | integers, floats, date, time, timestamp, duration, interval | `PrimitiveBuilder<T>` with the type kept |
/// | decimal32...256 | `DecimalBuilder` |
/// | utf8, large utf8, binary, large binary | `StringBuilder`, `LargeStringBuilder`, `BinaryBuilder`, `LargeBinaryBuilder` |
/// | utf8 view, binary view | `StringViewBuilder`, `BinaryViewBuilder` |
/// | fixed-size binary | `FixedSizeBinaryBuilder` |
/// | list kinds and map | `ListBuilder<AnyArrayBuilder>` |
/// | struct | `StructBuilder` |
/// | union | `DenseUnionBuilder`, `SparseUnionBuilder` |
/// | dictionary of utf8/binary (either size) | `DictionaryBuilder<Index>` |
/// | other dictionaries | `DictionaryIndexBuilder` |
/// | run-end encoded | `RunEndEncodedBuilder<Never>` (runs through `appendRun(length:)`) |
///
/// Types whose parameters the format forbids (a decimal of 100 digits, a map whose entries are
/// not a two-field struct, mismatched union ids) still get a builder, whose output then fails
/// `validate()` exactly as the type itself would.
public func makeBuilder(for type: DataType) -> any ArrayBuilder {
    switch type {
    case .null: return NullBuilder()
    case .bool: return BooleanBuilder()
    case .int8: return PrimitiveBuilder<Int8>()
    case .int16: return PrimitiveBuilder<Int16>()
    case .int32, .date32, .time32, .interval(.yearMonth): return PrimitiveBuilder<Int32>(unchecked: type)
    case .int64, .date64, .time64, .timestamp, .duration: return PrimitiveBuilder<Int64>(unchecked: type)
    case .uint8: return PrimitiveBuilder<UInt8>()
    case .uint16: return PrimitiveBuilder<UInt16>()
    case .uint32: return PrimitiveBuilder<UInt32>()
    case .uint64: return PrimitiveBuilder<UInt64>()
    case .float16: return makeFloat16Builder()
    case .float32: return PrimitiveBuilder<Float>()
    case .float64: return PrimitiveBuilder<Double>()
    case .interval(.dayTime): return PrimitiveBuilder<DayTimeInterval>()
    case .interval(.monthDayNano): return PrimitiveBuilder<MonthDayNanoInterval>()
    case .decimal(let bits, let precision, let scale):
        return DecimalBuilder(unchecked: bits, precision: precision, scale: scale)
    case .utf8: return StringBuilder()
    case .largeUtf8: return LargeStringBuilder()
    case .binary: return BinaryBuilder()
    case .largeBinary: return LargeBinaryBuilder()
    case .utf8View: return StringViewBuilder()
    case .binaryView: return BinaryViewBuilder()
    case .fixedSizeBinary(let width): return FixedSizeBinaryBuilder(unchecked: width)
    case .list(let field), .largeList(let field), .listView(let field), .largeListView(let field),
         .fixedSizeList(let field, _), .map(let field, _):
        return ListBuilder(unchecked: type, values: AnyArrayBuilder(makeBuilder(for: field.type)))
    case .struct(let fields):
        return StructBuilder(unchecked: fields, children: fields.map { makeBuilder(for: $0.type) })
    case .union(.dense, let fields, let ids):
        return DenseUnionBuilder(unchecked: fields, typeIDs: ids, children: fields.map { makeBuilder(for: $0.type) })
    case .union(.sparse, let fields, let ids):
        return SparseUnionBuilder(unchecked: fields, typeIDs: ids, children: fields.map { makeBuilder(for: $0.type) })
    case .dictionary(let index, let value, let ordered):
        return makeDictionaryBuilder(index: index, value: value, ordered: ordered)
    case .runEndEncoded(let runEnds, let values):
        return RunEndEncodedBuilder<Never>(unchecked: runEnds, valuesField: values,
                                           values: makeBuilder(for: values.type), append: nil)
    }
}

private func makeFloat16Builder() -> any ArrayBuilder {
    #if !(arch(x86_64) && (os(macOS) || os(iOS) || os(tvOS) || os(watchOS)))
    return PrimitiveBuilder<Float16>()
    #else
    // Float16 is unavailable here; the bits are the same as a UInt16's.
    return PrimitiveBuilder<UInt16>(unchecked: .float16)
    #endif
}

private func makeDictionaryBuilder(index: DataType, value: DataType, ordered: Bool) -> any ArrayBuilder {
    switch value {
    case .utf8, .largeUtf8, .binary, .largeBinary:
        switch index {
        case .int8: return DictionaryBuilder<Int8>(unchecked: value, ordered: ordered)
        case .int16: return DictionaryBuilder<Int16>(unchecked: value, ordered: ordered)
        case .int32: return DictionaryBuilder<Int32>(unchecked: value, ordered: ordered)
        case .int64: return DictionaryBuilder<Int64>(unchecked: value, ordered: ordered)
        case .uint8: return DictionaryBuilder<UInt8>(unchecked: value, ordered: ordered)
        case .uint16: return DictionaryBuilder<UInt16>(unchecked: value, ordered: ordered)
        case .uint32: return DictionaryBuilder<UInt32>(unchecked: value, ordered: ordered)
        case .uint64: return DictionaryBuilder<UInt64>(unchecked: value, ordered: ordered)
        default: break
        }
    default: break
    }
    return DictionaryIndexBuilder(unchecked: index, ordered: ordered, values: makeBuilder(for: value))
}
