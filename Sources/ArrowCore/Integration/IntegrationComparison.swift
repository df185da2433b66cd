/// Compares what an IPC reader produced with what an integration JSON file says.
public enum IntegrationComparison {
    /// A description of the first difference between `expected` and `actual`, or nil when the
    /// schemas (names, types, nullability, metadata) and every batch are equal value by value.
    public static func firstDifference(expected: (schema: Schema, batches: [RecordBatch]),
                                       actual: (schema: Schema, batches: [RecordBatch])) -> String? {
        if let difference = schemaDifference(expected.schema, actual.schema) { return "schema: \(difference)" }
        guard expected.batches.count == actual.batches.count else {
            return "\(expected.batches.count) batches expected, \(actual.batches.count) found"
        }
        for (i, (e, a)) in zip(expected.batches, actual.batches).enumerated() {
            if let difference = a.firstDifference(from: e) { return "batch \(i): \(difference)" }
        }
        return nil
    }

    /// A description of the first difference between two schemas, or nil.
    public static func schemaDifference(_ expected: Schema, _ actual: Schema) -> String? {
        guard expected.fields.count == actual.fields.count else {
            return "\(expected.fields.count) fields expected, \(actual.fields.count) found"
        }
        for (e, a) in zip(expected.fields, actual.fields) {
            if let difference = fieldDifference(e, a, path: e.name) { return difference }
        }
        guard expected.metadata.equalsIgnoringOrder(actual.metadata) else {
            return "schema metadata \(expected.metadata.pairs) != \(actual.metadata.pairs)"
        }
        return nil
    }

    static func fieldDifference(_ e: Field, _ a: Field, path: String) -> String? {
        guard e.name == a.name else { return "\(path): field name '\(e.name)' != '\(a.name)'" }
        guard e.nullable == a.nullable else { return "\(path): nullable \(e.nullable) != \(a.nullable)" }
        guard e.metadata.equalsIgnoringOrder(a.metadata) else { return "\(path): metadata \(e.metadata.pairs) != \(a.metadata.pairs)" }
        let ec = e.type.children, ac = a.type.children
        if ec.count == ac.count {
            for (ce, ca) in zip(ec, ac) {
                if let difference = fieldDifference(ce, ca, path: "\(path).\(ce.name)") { return difference }
            }
        }
        guard e.type == a.type else { return "\(path): type \(e.type) != \(a.type)" }
        return nil
    }
}
