extension RecordBatch {
    /// A batch of the named columns, in order, under a schema made from their types with every
    /// field nullable and no metadata. Throws if the columns differ in length.
    ///
    /// ```swift
    /// let batch = try RecordBatch(["id": ids.finish(), "name": names.finish()])
    /// ```
    public init(_ columns: KeyValuePairs<String, ArrayData>) throws(ArrowError) {
        let schema = Schema(columns.map { Field($0.key, $0.value.type, nullable: true) })
        try self.init(schema: schema, columns: columns.map(\.value))
    }
}
