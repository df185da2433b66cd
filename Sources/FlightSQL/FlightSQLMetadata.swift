import ArrowCore
import FlightRPC

/// A database schema, one row of GetDbSchemas.
public struct DbSchemaRow: Sendable, Hashable {
    /// The catalog, or nil when the source has none.
    public var catalog: String?
    /// The schema's name.
    public var name: String
    /// A row for schema `name` in `catalog`.
    public init(catalog: String?, name: String) {
        self.catalog = catalog
        self.name = name
    }
}

/// A table, one row of GetTables.
public struct TableRow: Sendable, Hashable {
    /// The catalog, or nil when the source has none.
    public var catalog: String?
    /// The database schema, or nil when the source has none.
    public var dbSchema: String?
    /// The table's name.
    public var name: String
    /// `TABLE`, `VIEW`, or another of GetTableTypes' values.
    public var type: String
    /// The table's columns; required when the command has `include_schema`.
    public var schema: Schema?
    /// A row for table `name`.
    public init(catalog: String?, dbSchema: String?, name: String, type: String, schema: Schema? = nil) {
        self.catalog = catalog
        self.dbSchema = dbSchema
        self.name = name
        self.type = type
        self.schema = schema
    }
}

/// A primary key column, one row of GetPrimaryKeys.
public struct PrimaryKeyRow: Sendable, Hashable {
    /// The catalog, or nil.
    public var catalog: String?
    /// The database schema, or nil.
    public var dbSchema: String?
    /// The table.
    public var table: String
    /// The key column.
    public var column: String
    /// The column's 1-based position in the key.
    public var keySequence: Int32
    /// The key's name, if it has one.
    public var keyName: String?
    /// A row for `column` of `table`'s primary key.
    public init(catalog: String?, dbSchema: String?, table: String, column: String, keySequence: Int32, keyName: String? = nil) {
        self.catalog = catalog
        self.dbSchema = dbSchema
        self.table = table
        self.column = column
        self.keySequence = keySequence
        self.keyName = keyName
    }
}

/// A foreign key column pair, one row of GetImportedKeys, GetExportedKeys and GetCrossReference.
public struct ForeignKeyRow: Sendable, Hashable {
    /// The referenced (primary key) table's catalog, or nil.
    public var pkCatalog: String?
    /// The referenced table's database schema, or nil.
    public var pkDbSchema: String?
    /// The referenced table.
    public var pkTable: String
    /// The referenced column.
    public var pkColumn: String
    /// The referring (foreign key) table's catalog, or nil.
    public var fkCatalog: String?
    /// The referring table's database schema, or nil.
    public var fkDbSchema: String?
    /// The referring table.
    public var fkTable: String
    /// The referring column.
    public var fkColumn: String
    /// The pair's 1-based position in the key.
    public var keySequence: Int32
    /// The foreign key's name, if it has one.
    public var fkKeyName: String?
    /// The referenced key's name, if it has one.
    public var pkKeyName: String?
    /// What an update of the referenced key does.
    public var updateRule: UpdateDeleteRules
    /// What a delete of the referenced row does.
    public var deleteRule: UpdateDeleteRules
    /// A row saying `fkTable.fkColumn` refers to `pkTable.pkColumn`.
    public init(pkCatalog: String?, pkDbSchema: String?, pkTable: String, pkColumn: String,
                fkCatalog: String?, fkDbSchema: String?, fkTable: String, fkColumn: String,
                keySequence: Int32, fkKeyName: String? = nil, pkKeyName: String? = nil,
                updateRule: UpdateDeleteRules = .noAction, deleteRule: UpdateDeleteRules = .noAction) {
        self.pkCatalog = pkCatalog
        self.pkDbSchema = pkDbSchema
        self.pkTable = pkTable
        self.pkColumn = pkColumn
        self.fkCatalog = fkCatalog
        self.fkDbSchema = fkDbSchema
        self.fkTable = fkTable
        self.fkColumn = fkColumn
        self.keySequence = keySequence
        self.fkKeyName = fkKeyName
        self.pkKeyName = pkKeyName
        self.updateRule = updateRule
        self.deleteRule = deleteRule
    }
}

/// A data type, one row of GetXdbcTypeInfo.
public struct XdbcTypeInfoRow: Sendable, Hashable {
    /// The type's name in the data source.
    public var typeName: String
    /// The XDBC type code.
    public var dataType: Int32
    /// The largest size (digits, characters or bytes), if bounded.
    public var columnSize: Int32?
    /// What a literal starts with, if anything.
    public var literalPrefix: String?
    /// What a literal ends with, if anything.
    public var literalSuffix: String?
    /// The parameters a type declaration takes, if any.
    public var createParams: [String]?
    /// 0 no nulls, 1 nullable, 2 unknown.
    public var nullable: Int32
    /// Whether comparisons are case-sensitive.
    public var caseSensitive: Bool
    /// 0 none, 1 char, 2 basic, 3 full.
    public var searchable: Int32
    /// Whether the type is unsigned, when that applies.
    public var unsignedAttribute: Bool?
    /// Whether the type has a fixed precision and scale.
    public var fixedPrecScale: Bool
    /// Whether the type can be auto-incremented, when that applies.
    public var autoIncrement: Bool?
    /// The type's localised name.
    public var localTypeName: String?
    /// The smallest scale, when that applies.
    public var minimumScale: Int32?
    /// The largest scale, when that applies.
    public var maximumScale: Int32?
    /// The SQL type code (the same as `dataType`).
    public var sqlDataType: Int32
    /// The datetime or interval subcode, when that applies.
    public var datetimeSubcode: Int32?
    /// The radix of `columnSize` (2 or 10), when that applies.
    public var numPrecRadix: Int32?
    /// The interval leading precision, when that applies.
    public var intervalPrecision: Int32?

    /// A row for `typeName` with XDBC code `dataType`; the rest defaults to "unknown".
    public init(typeName: String, dataType: XdbcDataType, columnSize: Int32? = nil, literalPrefix: String? = nil,
                literalSuffix: String? = nil, createParams: [String]? = nil, nullable: Int32 = 1, caseSensitive: Bool = false,
                searchable: Int32 = 3, unsignedAttribute: Bool? = nil, fixedPrecScale: Bool = false, autoIncrement: Bool? = nil,
                localTypeName: String? = nil, minimumScale: Int32? = nil, maximumScale: Int32? = nil,
                datetimeSubcode: Int32? = nil, numPrecRadix: Int32? = nil, intervalPrecision: Int32? = nil) {
        self.typeName = typeName
        self.dataType = Int32(dataType.rawValue)
        self.columnSize = columnSize
        self.literalPrefix = literalPrefix
        self.literalSuffix = literalSuffix
        self.createParams = createParams
        self.nullable = nullable
        self.caseSensitive = caseSensitive
        self.searchable = searchable
        self.unsignedAttribute = unsignedAttribute
        self.fixedPrecScale = fixedPrecScale
        self.autoIncrement = autoIncrement
        self.localTypeName = localTypeName
        self.minimumScale = minimumScale
        self.maximumScale = maximumScale
        self.sqlDataType = Int32(dataType.rawValue)
        self.datetimeSubcode = datetimeSubcode
        self.numPrecRadix = numPrecRadix
        self.intervalPrecision = intervalPrecision
    }
}

/// One GetSqlInfo value: a member of the specification's dense union.
public enum SqlInfoValue: Sendable, Hashable {
    /// `string_value`.
    case string(String)
    /// `bool_value`.
    case bool(Bool)
    /// `bigint_value`.
    case bigint(Int64)
    /// `int32_bitmask` (also used for int32 values and enum ordinals some items take).
    case int32Bitmask(Int32)
    /// `string_list`.
    case stringList([String])
    /// `int32_to_int32_list_map`.
    case int32ToInt32ListMap([Int32: [Int32]])
}

/// Builds the record batches of metadata results under `FlightSQLSchemas`.
enum MetadataBatches {
    static func catalogs(_ names: [String]) throws -> RecordBatch {
        try RecordBatch(schema: FlightSQLSchemas.catalogs, columns: [strings(names)], length: names.count)
    }

    static func dbSchemas(_ rows: [DbSchemaRow]) throws -> RecordBatch {
        try RecordBatch(schema: FlightSQLSchemas.dbSchemas, columns: [
            strings(rows.map(\.catalog)), strings(rows.map(\.name)),
        ], length: rows.count)
    }

    static func tables(_ rows: [TableRow], includeSchema: Bool) throws -> RecordBatch {
        var columns = [
            try strings(rows.map(\.catalog)), try strings(rows.map(\.dbSchema)),
            try strings(rows.map(\.name)), try strings(rows.map(\.type)),
        ]
        if includeSchema {
            let schemas = BinaryBuilder(capacity: rows.count)
            for row in rows {
                guard let schema = row.schema else {
                    throw FlightError(.internal, "table '\(row.name)' has no schema for include_schema")
                }
                try schemas.append(schema.ipcEncoded)
            }
            columns.append(schemas.finish())
        }
        return try RecordBatch(schema: includeSchema ? FlightSQLSchemas.tablesWithSchema : FlightSQLSchemas.tables,
                               columns: columns, length: rows.count)
    }

    static func tableTypes(_ types: [String]) throws -> RecordBatch {
        try RecordBatch(schema: FlightSQLSchemas.tableTypes, columns: [strings(types)], length: types.count)
    }

    static func primaryKeys(_ rows: [PrimaryKeyRow]) throws -> RecordBatch {
        try RecordBatch(schema: FlightSQLSchemas.primaryKeys, columns: [
            strings(rows.map(\.catalog)), strings(rows.map(\.dbSchema)), strings(rows.map(\.table)),
            strings(rows.map(\.column)), int32s(rows.map(\.keySequence)), strings(rows.map(\.keyName)),
        ], length: rows.count)
    }

    static func foreignKeys(_ rows: [ForeignKeyRow]) throws -> RecordBatch {
        let update = PrimitiveBuilder<UInt8>(capacity: rows.count)
        let delete = PrimitiveBuilder<UInt8>(capacity: rows.count)
        for row in rows {
            update.append(UInt8(truncatingIfNeeded: row.updateRule.rawValue))
            delete.append(UInt8(truncatingIfNeeded: row.deleteRule.rawValue))
        }
        return try RecordBatch(schema: FlightSQLSchemas.foreignKeys, columns: [
            strings(rows.map(\.pkCatalog)), strings(rows.map(\.pkDbSchema)), strings(rows.map(\.pkTable)),
            strings(rows.map(\.pkColumn)), strings(rows.map(\.fkCatalog)), strings(rows.map(\.fkDbSchema)),
            strings(rows.map(\.fkTable)), strings(rows.map(\.fkColumn)), int32s(rows.map(\.keySequence)),
            strings(rows.map(\.fkKeyName)), strings(rows.map(\.pkKeyName)), update.finish(), delete.finish(),
        ], length: rows.count)
    }

    static func xdbcTypeInfo(_ rows: [XdbcTypeInfoRow]) throws -> RecordBatch {
        guard case .list(let itemField) = FlightSQLSchemas.xdbcTypeInfo.fields[5].type else {
            throw FlightError(.internal, "create_params is not a list")
        }
        let params = try ListBuilder(values: StringBuilder(), fieldName: itemField.name, nullable: itemField.nullable)
        for row in rows {
            if let list = row.createParams {
                for item in list { try params.values.append(item) }
                try params.append()
            } else {
                params.appendNull()
            }
        }
        return try RecordBatch(schema: FlightSQLSchemas.xdbcTypeInfo, columns: [
            strings(rows.map(\.typeName)), int32s(rows.map(\.dataType)), int32s(rows.map(\.columnSize)),
            strings(rows.map(\.literalPrefix)), strings(rows.map(\.literalSuffix)), params.finish(),
            int32s(rows.map(\.nullable)), bools(rows.map(\.caseSensitive)), int32s(rows.map(\.searchable)),
            bools(rows.map(\.unsignedAttribute)), bools(rows.map(\.fixedPrecScale)), bools(rows.map(\.autoIncrement)),
            strings(rows.map(\.localTypeName)), int32s(rows.map(\.minimumScale)), int32s(rows.map(\.maximumScale)),
            int32s(rows.map(\.sqlDataType)), int32s(rows.map(\.datetimeSubcode)), int32s(rows.map(\.numPrecRadix)),
            int32s(rows.map(\.intervalPrecision)),
        ], length: rows.count)
    }

    /// The values for `requested` ids (all, sorted by id, when empty); unknown ids are left out.
    static func sqlInfo(_ values: [UInt32: SqlInfoValue], requested: [UInt32]) throws -> RecordBatch {
        let ids = requested.isEmpty ? values.keys.sorted() : requested.filter { values[$0] != nil }
        let names = PrimitiveBuilder<UInt32>(capacity: ids.count)
        let fields = FlightSQLSchemas.sqlInfoValueFields
        guard case .list(let listItem) = fields[4].type, case .map(let entries, _) = fields[5].type,
              case .struct(let keyValue) = entries.type, case .list(let mapListItem) = keyValue[1].type else {
            throw FlightError(.internal, "unexpected GetSqlInfo union layout")
        }
        let stringValue = StringBuilder()
        let boolValue = BooleanBuilder()
        let bigintValue = PrimitiveBuilder<Int64>()
        let bitmaskValue = PrimitiveBuilder<Int32>()
        let stringList = try ListBuilder(values: StringBuilder(), fieldName: listItem.name, nullable: listItem.nullable)
        let mapValues = try ListBuilder(values: PrimitiveBuilder<Int32>(), fieldName: mapListItem.name, nullable: mapListItem.nullable)
        let entryBuilder = try StructBuilder(fields: keyValue, children: [PrimitiveBuilder<Int32>(), mapValues])
        let map = try ListBuilder(type: fields[5].type, values: entryBuilder)
        let union = try DenseUnionBuilder(fields: fields, typeIDs: [0, 1, 2, 3, 4, 5], children: [
            stringValue, boolValue, bigintValue, bitmaskValue, stringList, map,
        ])
        for id in ids {
            guard let value = values[id] else { continue }
            names.append(id)
            switch value {
            case .string(let text):
                try stringValue.append(text)
                try union.append(childAt: 0)
            case .bool(let flag):
                boolValue.append(flag)
                try union.append(childAt: 1)
            case .bigint(let number):
                bigintValue.append(number)
                try union.append(childAt: 2)
            case .int32Bitmask(let mask):
                bitmaskValue.append(mask)
                try union.append(childAt: 3)
            case .stringList(let list):
                for item in list { try stringList.values.append(item) }
                try stringList.append()
                try union.append(childAt: 4)
            case .int32ToInt32ListMap(let dictionary):
                for (key, list) in dictionary.sorted(by: { $0.key < $1.key }) {
                    entryBuilder.child(0, as: PrimitiveBuilder<Int32>.self)?.append(key)
                    mapValues.values.append(contentsOf: list)
                    try mapValues.append()
                    entryBuilder.append()
                }
                try map.append()
                try union.append(childAt: 5)
            }
        }
        return try RecordBatch(schema: FlightSQLSchemas.sqlInfo, columns: [names.finish(), union.finish()], length: ids.count)
    }

    private static func strings(_ values: [String?]) throws(ArrowError) -> ArrayData {
        let builder = StringBuilder(capacity: values.count)
        for value in values { try builder.append(value) }
        return builder.finish()
    }

    private static func strings(_ values: [String]) throws(ArrowError) -> ArrayData {
        let builder = StringBuilder(capacity: values.count)
        for value in values { try builder.append(value) }
        return builder.finish()
    }

    private static func int32s(_ values: [Int32?]) -> ArrayData {
        let builder = PrimitiveBuilder<Int32>(capacity: values.count)
        for value in values { builder.append(value) }
        return builder.finish()
    }

    private static func int32s(_ values: [Int32]) -> ArrayData {
        let builder = PrimitiveBuilder<Int32>(capacity: values.count)
        builder.append(contentsOf: values)
        return builder.finish()
    }

    private static func bools(_ values: [Bool?]) -> ArrayData {
        let builder = BooleanBuilder()
        for value in values { builder.append(value) }
        return builder.finish()
    }

    private static func bools(_ values: [Bool]) -> ArrayData {
        let builder = BooleanBuilder()
        for value in values { builder.append(value) }
        return builder.finish()
    }
}
