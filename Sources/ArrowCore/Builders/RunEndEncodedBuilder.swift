/// Builds a run-end encoded array: consecutive equal values become one run, stored once in the
/// values child with the logical index where the run ends.
///
/// `Value` is the Swift type compared to merge runs (`String` over a `StringBuilder`, `Int64`
/// over a `PrimitiveBuilder<Int64>`). Consecutive nulls merge too. For values no Swift type
/// describes (structs, lists), append one value to `values` and call `appendRun(length:)`;
/// `makeBuilder(for:)` returns such a builder, with `Value == Never`.
public final class RunEndEncodedBuilder<Value: Equatable>: ArrayBuilder {
    /// The run ends field (`int16`, `int32` or `int64`, not nullable).
    public let runEndsField: Field
    /// The values field.
    public let valuesField: Field
    /// The builder of the run values; library builders are classes, so it is shared, not copied.
    public let values: any ArrayBuilder
    private let appendValue: ((Value) throws(ArrowError) -> Void)?
    @exclusivity(unchecked) private var runEnds: BuilderBytes
    private let runEndWidth: Int
    /// The largest logical length the run end type can count.
    public let maximumLength: Int
    @exclusivity(unchecked) @usableFromInline var state: RunState = .none
    /// The number of slots appended since the last `finish()`.
    public var length: Int { slots }
    @exclusivity(unchecked) @usableFromInline var slots = 0
    /// The number of runs closed (their ends written).
    @exclusivity(unchecked) private var closedRuns = 0

    @usableFromInline
    enum RunState {
        /// No open run.
        case none
        /// A run of this value is open.
        case value(Value)
        /// A run of nulls is open.
        case null
        /// A run appended with `appendRun(length:)`, which later values never extend.
        case opaque

        var isOpen: Bool {
            if case .none = self { return false }
            return true
        }
    }

    /// A builder whose runs hold values appended through `values`, with `runEnds` (`int16`,
    /// `int32` or `int64`) run ends. Throws for any other run end type.
    public convenience init<B: ValueArrayBuilder & AnyObject>(runEnds: DataType = .int32, values: B) throws(ArrowError) where B.Value == Value {
        guard [.int16, .int32, .int64].contains(runEnds) else {
            throw .invalid("run ends of type \(runEnds); int16, int32 and int64 exist")
        }
        self.init(unchecked: Field("run_ends", runEnds, nullable: false), valuesField: Field("values", values.type),
                  values: values, append: { (value: Value) throws(ArrowError) in
                      var builder = values
                      try builder.append(value)
                  })
    }

    init(unchecked runEndsField: Field, valuesField: Field, values: any ArrayBuilder,
         append: ((Value) throws(ArrowError) -> Void)?) {
        self.runEndsField = runEndsField
        self.valuesField = valuesField
        self.values = values
        appendValue = append
        switch runEndsField.type {
        case .int16: runEndWidth = 2; maximumLength = Int(Int16.max)
        case .int64: runEndWidth = 8; maximumLength = Int(Int64.max)
        default: runEndWidth = 4; maximumLength = Int(Int32.max)
        }
        runEnds = BuilderBytes(capacity: 256 * runEndWidth)
    }

    /// `runEndEncoded(runEnds: runEndsField, values: valuesField)`.
    public var type: DataType { .runEndEncoded(runEnds: runEndsField, values: valuesField) }

    /// The number of runs so far, the open one included.
    public var runCount: Int {
        if case .none = state { return closedRuns }
        return closedRuns + 1
    }

    @inlinable
    func checkRoom(_ n: Int) throws(ArrowError) {
        guard n <= maximumLength - slots else { throw full() }
    }

    @usableFromInline
    func full() -> ArrowError {
        .invalid("run-end encoded array of \(runEndsField.type) run ends cannot pass \(maximumLength) slots")
    }

    private func closeRun() {
        if case .none = state { return }
        switch runEndWidth {
        case 2: runEnds.append(Int16(truncatingIfNeeded: slots))
        case 8: runEnds.append(Int64(slots))
        default: runEnds.append(Int32(truncatingIfNeeded: slots))
        }
        closedRuns += 1
        state = .none
    }

    /// Appends a value: it extends the open run if that run holds an equal value, and starts a
    /// new run (appending the value to `values`) otherwise. Throws, changing nothing, if the
    /// length would pass `maximumLength` or the values builder rejects the value.
    @inlinable
    public func append(_ value: Value) throws(ArrowError) {
        try checkRoom(1)
        if case .value(let current) = state, current == value {
            slots &+= 1
            return
        }
        try startRun(value)
    }

    @usableFromInline
    func startRun(_ value: Value) throws(ArrowError) {
        guard let appendValue else {
            throw .notSupported("this run-end encoded builder takes values only through appendRun(length:)")
        }
        // The new run only opens once the value is in the child, so a rejected value leaves
        // the open run as it was.
        try appendValue(value)
        closeRun()
        state = .value(value)
        slots += 1
    }

    /// Appends a value, or a null for nil; see `append(_:)` and `appendNull()`.
    public func append(_ value: Value?) throws(ArrowError) {
        if let value { try append(value) } else {
            try checkRoom(1)
            appendNull()
        }
    }

    /// Appends a null: it extends an open run of nulls, and starts one otherwise.
    /// Traps past `maximumLength`; `append(nil)` reports that as an error instead.
    public func appendNull() {
        precondition(slots < maximumLength, "run-end encoded array of \(runEndsField.type) run ends is full")
        if case .null = state {
            slots += 1
            return
        }
        closeRun()
        var builder = values
        builder.appendNull()
        state = .null
        slots += 1
    }

    /// Makes the value just appended to `values` a run of `length` slots that later appends
    /// never extend. Throws, changing nothing, unless `values` has exactly one value more than
    /// there are runs, `length` is positive, and the total stays within `maximumLength`.
    public func appendRun(length runLength: Int) throws(ArrowError) {
        guard runLength > 0 else { throw .invalid("a run of length \(runLength)") }
        try checkRoom(runLength)
        let expected = closedRuns + (state.isOpen ? 1 : 0) + 1
        guard values.length == expected else {
            throw .invalid("run-end encoded values hold \(values.length) values for \(expected) runs")
        }
        closeRun()
        state = .opaque
        slots += runLength
    }

    /// Returns the array built so far, with its run ends and `values` finished as children, and
    /// starts again.
    public func finish() -> ArrayData {
        closeRun()
        let ends = ArrayData(type: runEndsField.type, length: closedRuns, nullCount: 0,
                             buffers: [Buffer(), runEnds.take(reserving: 256 * runEndWidth)])
        var builder = values
        let finishedValues = builder.finish()
        let result = ArrayData(type: type, length: slots, nullCount: 0, buffers: [], children: [ends, finishedValues])
        slots = 0
        closedRuns = 0
        return result
    }
}

