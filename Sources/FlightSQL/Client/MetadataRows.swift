import ArrowCore
import FlightRPC

/// Decodes metadata result batches back into rows (the client side of `MetadataBatches`).
enum MetadataRows {
    static func column(_ batch: RecordBatch, _ index: Int) throws(FlightError) -> ArrayData {
        guard index < batch.columns.count else {
            throw FlightError(.internal, "metadata result has \(batch.columns.count) columns, expected more than \(index)")
        }
        return batch.columns[index]
    }

    static func optionalStrings(_ batch: RecordBatch, _ index: Int) throws -> [String?] {
        Array(try StringArray(column(batch, index)))
    }

    static func strings(_ batch: RecordBatch, _ index: Int) throws -> [String] {
        try optionalStrings(batch, index).map { $0 ?? "" }
    }

    static func strings(_ batches: [RecordBatch], column: Int) throws -> [String] {
        try batches.flatMap { try strings($0, column) }
    }

    static func dbSchemas(_ batches: [RecordBatch]) throws -> [DbSchemaRow] {
        try batches.flatMap { batch in
            zip(try optionalStrings(batch, 0), try strings(batch, 1)).map { DbSchemaRow(catalog: $0, name: $1) }
        }
    }

    static func tables(_ batches: [RecordBatch]) throws -> [TableRow] {
        var rows: [TableRow] = []
        for batch in batches {
            let catalogs = try optionalStrings(batch, 0), schemas = try optionalStrings(batch, 1)
            let names = try strings(batch, 2), types = try strings(batch, 3)
            let tableSchemas: BinaryArray? = batch.columns.count > 4 ? try BinaryArray(column(batch, 4)) : nil
            for row in 0..<batch.length {
                var schema: Schema?
                if let buffer = tableSchemas?[row] { schema = try Schema(ipcEncoded: Array(buffer.bytes)) }
                rows.append(TableRow(catalog: catalogs[row], dbSchema: schemas[row], name: names[row], type: types[row], schema: schema))
            }
        }
        return rows
    }

    static func sqlInfo(_ batches: [RecordBatch]) throws -> [UInt32: SqlInfoValue] {
        var values: [UInt32: SqlInfoValue] = [:]
        for batch in batches {
            let ids = try PrimitiveArray<UInt32>(column(batch, 0))
            let union = try UnionArray(column(batch, 1))
            for row in 0..<batch.length {
                guard let id = ids[row] else { continue }
                let slot = union[row]
                let child = union.child(at: slot.childIndex)
                switch slot.childIndex {
                case 0: values[id] = try StringArray(child)[slot.offset].map(SqlInfoValue.string)
                case 1: values[id] = try BooleanArray(child)[slot.offset].map(SqlInfoValue.bool)
                case 2: values[id] = try PrimitiveArray<Int64>(child)[slot.offset].map(SqlInfoValue.bigint)
                case 3: values[id] = try PrimitiveArray<Int32>(child)[slot.offset].map(SqlInfoValue.int32Bitmask)
                case 4:
                    if let items = try ListArray(child)[slot.offset] {
                        values[id] = .stringList(try StringArray(items).map { $0 ?? "" })
                    }
                case 5:
                    if let entries = try ListArray(child)[slot.offset] {
                        let children = entries.children
                        guard children.count == 2 else { continue }
                        let keys = try PrimitiveArray<Int32>(children[0]), lists = try ListArray(children[1])
                        var map: [Int32: [Int32]] = [:]
                        // A slice of a struct keeps its children whole and moves its offset.
                        for entry in entries.offset..<entries.offset + entries.length {
                            guard let key = keys[entry] else { continue }
                            map[key] = try lists[entry].map { try PrimitiveArray<Int32>($0).compactMap { $0 } } ?? []
                        }
                        values[id] = .int32ToInt32ListMap(map)
                    }
                default:
                    continue
                }
            }
        }
        return values
    }
}
