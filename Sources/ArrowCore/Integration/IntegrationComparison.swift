/// Compares what an IPC reader produced with what an integration JSON file says.
public enum IntegrationComparison {
    /// A description of the first difference between `expected` and `actual`, or nil when the
    /// schemas (names, types, nullability, metadata) and every batch are equal value by value.
    public static func firstDifference(expected: (schema: Schema, batches: [RecordBatch]),
                                       actual: (schema: Schema, batches: [RecordBatch])) -> String? {
        if let difference = actual.schema.firstDifference(from: expected.schema) { return difference }
        guard expected.batches.count == actual.batches.count else {
            return "\(expected.batches.count) batches expected, \(actual.batches.count) found"
        }
        for (i, (e, a)) in zip(expected.batches, actual.batches).enumerated() {
            if let difference = a.firstDifference(from: e) { return "batch \(i): \(difference)" }
        }
        return nil
    }
}
