/// Equal-length columns under a schema: the unit of IPC and Flight transfer.
public struct RecordBatch: Sendable {
    /// The schema; `columns[i]` has the type of `schema.fields[i]`.
    public let schema: Schema
    /// The columns.
    public let columns: [ArrayData]
    /// The number of rows.
    public let length: Int

    /// Creates a batch, checking that column count, types and lengths agree with the schema.
    public init(schema: Schema, columns: [ArrayData], length: Int? = nil) throws(ArrowError) {
        guard columns.count == schema.fields.count else {
            throw .invalid("record batch has \(columns.count) columns for \(schema.fields.count) fields")
        }
        let rows = length ?? columns.first?.length ?? 0
        for (i, (field, column)) in zip(schema.fields, columns).enumerated() {
            guard column.type == field.type else {
                throw .invalid("column \(i) '\(field.name)' has type \(column.type), schema says \(field.type)")
            }
            guard column.length == rows else {
                throw .invalid("column \(i) '\(field.name)' has \(column.length) rows, batch has \(rows)")
            }
        }
        self.schema = schema
        self.columns = columns
        self.length = rows
    }

    /// A zero-copy window of rows.
    public func slice(_ start: Int, _ length: Int) throws(ArrowError) -> RecordBatch {
        var sliced: [ArrayData] = []
        sliced.reserveCapacity(columns.count)
        for column in columns { sliced.append(try column.slice(start, length)) }
        return try RecordBatch(schema: schema, columns: sliced, length: length)
    }

    /// The bytes of the buffers the columns refer to, children and dictionaries included:
    /// what holding the batch costs. A buffer two columns share counts twice; a slice counts
    /// its whole buffers.
    public var bufferBytes: Int { columns.reduce(0) { $0 + $1.bufferBytes } }

    /// Validates every column (see `ArrayData.validate()`).
    public func validate() throws(ArrowError) {
        for (field, column) in zip(schema.fields, columns) {
            try column.validate(path: field.name)
        }
    }
}

/// A schema and a sequence of record batches (chunks) under it.
public struct Table: Sendable {
    /// The schema of every batch.
    public let schema: Schema
    /// The batches in order.
    public let batches: [RecordBatch]

    /// Creates a table; every batch must have `schema`.
    public init(schema: Schema, batches: [RecordBatch]) throws(ArrowError) {
        for (i, batch) in batches.enumerated() where batch.schema.fields != schema.fields {
            throw .invalid("batch \(i) has a different schema from the table")
        }
        self.schema = schema
        self.batches = batches
    }

    /// The total number of rows.
    public var rowCount: Int { batches.reduce(0) { $0 + $1.length } }
}

extension ArrayData {
    /// The bytes of this array's buffers, its children's and its dictionary's.
    public var bufferBytes: Int {
        var total = 0
        for buffer in buffers { total += buffer.count }
        for child in children { total += child.bufferBytes }
        if let dictionary { total += dictionary.bufferBytes }
        return total
    }
}
