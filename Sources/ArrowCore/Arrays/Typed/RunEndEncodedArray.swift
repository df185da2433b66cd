/// A view of a run-end encoded array. Elements are, for each logical slot, the index of its
/// value in `values`; iterating walks the runs instead of searching for each slot.
public struct RunEndEncodedArray: TypedArray, RandomAccessCollection {
    /// The array this view reads.
    public let data: ArrayData
    /// The logical index one past each run's last slot (int16, int32 or int64).
    public let runEnds: ArrayData
    /// One value per run.
    public let values: ArrayData

    /// A view of `data`; throws unless it is a run-end encoded array with its two children.
    public init(_ data: ArrayData) throws(ArrowError) {
        guard case .runEndEncoded = data.type else { throw .mismatch("\(data.type) array is not run-end encoded") }
        guard data.children.count == 2 else { throw .invalid("run-end encoded array with \(data.children.count) children") }
        try data.requireSaneWindow()
        try data.children[0].requireSaneWindow()
        let ends = data.children[0]
        guard let width = ends.type.byteWidth, ends.type.isInteger else { throw .invalid("run ends of type \(ends.type)") }
        try ends.requireBuffer(1, bytes: (ends.offset + ends.length) * width, "run ends")
        guard data.length == 0 || ends.length > 0 else { throw .invalid("run-end encoded array of \(data.length) slots without runs") }
        self.data = data
        runEnds = ends
        values = data.children[1]
    }

    /// The first index, 0.
    public var startIndex: Int { 0 }

    /// One past the last index: the length.
    public var endIndex: Int { data.length }

    /// The number of runs (of the whole child, not only those in this window).
    public var runCount: Int { runEnds.length }

    /// The index in `values` of logical slot `i`'s value (a binary search over the run ends).
    public subscript(i: Int) -> Int {
        physicalIndex(at: i)
    }

    /// The index in `values` of logical slot `i`'s value (a binary search over the run ends).
    public func physicalIndex(at i: Int) -> Int {
        checkIndex(i, data.length)
        return data.runIndex(i)
    }

    /// Whether slot `i`'s value is null in `values`.
    public func isNull(_ i: Int) -> Bool {
        let k = physicalIndex(at: i)
        precondition(k < values.length, "run \(k) has no value; validate() the array")
        return values.isNull(k)
    }

    /// An iterator over the physical index of every logical slot, in order, that finds the
    /// first run once and then steps from run to run.
    public struct Iterator: IteratorProtocol {
        let array: RunEndEncodedArray
        var slot = 0
        var run = 0
        var runEnd = 0

        /// The next slot's physical index, or nil past the end.
        public mutating func next() -> Int? {
            guard slot < array.data.length else { return nil }
            if slot == 0 {
                run = array.data.runIndex(0)
                runEnd = array.runEnds.integer(run) - array.data.offset
            }
            while slot >= runEnd && run + 1 < array.runEnds.length {
                run += 1
                runEnd = array.runEnds.integer(run) - array.data.offset
            }
            slot += 1
            return run
        }
    }

    /// Iterates the physical index of every logical slot, stepping from run to run.
    public func makeIterator() -> Iterator { Iterator(array: self) }
}
