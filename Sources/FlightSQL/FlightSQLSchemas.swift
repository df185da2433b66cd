import ArrowCore

/// The result schemas of the Flight SQL metadata commands: names, types, nullability and order.
/// Clients compare them strictly (the ADBC driver rejects any difference), so where the
/// specification's comments disagree with every implementation (the C++, Java and Go
/// reference schemas agree with each other), these follow the implementations:
/// `key_sequence` comes before `key_name` in GetPrimaryKeys, and the GetSqlInfo union and its
/// members are not nullable.
public enum FlightSQLSchemas {
    /// CommandGetCatalogs.
    public static let catalogs = Schema([
        Field("catalog_name", .utf8, nullable: false),
    ])

    /// CommandGetDbSchemas.
    public static let dbSchemas = Schema([
        Field("catalog_name", .utf8),
        Field("db_schema_name", .utf8, nullable: false),
    ])

    /// CommandGetTables without `include_schema`.
    public static let tables = Schema([
        Field("catalog_name", .utf8),
        Field("db_schema_name", .utf8),
        Field("table_name", .utf8, nullable: false),
        Field("table_type", .utf8, nullable: false),
    ])

    /// CommandGetTables with `include_schema`: `table_schema` is the table's encapsulated IPC schema.
    public static let tablesWithSchema = Schema(tables.fields + [
        Field("table_schema", .binary, nullable: false),
    ])

    /// CommandGetTableTypes.
    public static let tableTypes = Schema([
        Field("table_type", .utf8, nullable: false),
    ])

    /// CommandGetPrimaryKeys.
    public static let primaryKeys = Schema([
        Field("catalog_name", .utf8),
        Field("db_schema_name", .utf8),
        Field("table_name", .utf8, nullable: false),
        Field("column_name", .utf8, nullable: false),
        Field("key_sequence", .int32, nullable: false),
        Field("key_name", .utf8),
    ])

    /// CommandGetImportedKeys, CommandGetExportedKeys and CommandGetCrossReference.
    public static let foreignKeys = Schema([
        Field("pk_catalog_name", .utf8),
        Field("pk_db_schema_name", .utf8),
        Field("pk_table_name", .utf8, nullable: false),
        Field("pk_column_name", .utf8, nullable: false),
        Field("fk_catalog_name", .utf8),
        Field("fk_db_schema_name", .utf8),
        Field("fk_table_name", .utf8, nullable: false),
        Field("fk_column_name", .utf8, nullable: false),
        Field("key_sequence", .int32, nullable: false),
        Field("fk_key_name", .utf8),
        Field("pk_key_name", .utf8),
        Field("update_rule", .uint8, nullable: false),
        Field("delete_rule", .uint8, nullable: false),
    ])

    /// CommandGetXdbcTypeInfo.
    public static let xdbcTypeInfo = Schema([
        Field("type_name", .utf8, nullable: false),
        Field("data_type", .int32, nullable: false),
        Field("column_size", .int32),
        Field("literal_prefix", .utf8),
        Field("literal_suffix", .utf8),
        Field("create_params", .list(Field("item", .utf8, nullable: false))),
        Field("nullable", .int32, nullable: false),
        Field("case_sensitive", .bool, nullable: false),
        Field("searchable", .int32, nullable: false),
        Field("unsigned_attribute", .bool),
        Field("fixed_prec_scale", .bool, nullable: false),
        Field("auto_increment", .bool),
        Field("local_type_name", .utf8),
        Field("minimum_scale", .int32),
        Field("maximum_scale", .int32),
        Field("sql_data_type", .int32, nullable: false),
        Field("datetime_subcode", .int32),
        Field("num_prec_radix", .int32),
        Field("interval_precision", .int32),
    ])

    /// The dense union of a GetSqlInfo value; type ids 0...5 in this order.
    public static let sqlInfoValueFields: [Field] = [
        Field("string_value", .utf8, nullable: false),
        Field("bool_value", .bool, nullable: false),
        Field("bigint_value", .int64, nullable: false),
        Field("int32_bitmask", .int32, nullable: false),
        Field("string_list", .list(Field("item", .utf8)), nullable: false),
        Field("int32_to_int32_list_map", .map(
            Field("entries", .struct([
                Field("key", .int32, nullable: false),
                Field("value", .list(Field("item", .int32))),
            ]), nullable: false), keysSorted: false), nullable: false),
    ]

    /// CommandGetSqlInfo.
    public static let sqlInfo = Schema([
        Field("info_name", .uint32, nullable: false),
        Field("value", .union(.dense, sqlInfoValueFields, typeIDs: [0, 1, 2, 3, 4, 5]), nullable: false),
    ])
}

/// The column metadata keys of Flight SQL result sets (`ARROW:FLIGHT:SQL:*`).
public struct FlightSQLColumnMetadata: Sendable, Hashable {
    /// The catalog of the column's table.
    public var catalogName: String?
    /// The database schema of the column's table.
    public var schemaName: String?
    /// The column's table.
    public var tableName: String?
    /// The column's type name in the data source.
    public var typeName: String?
    /// Precision (total digits, or the column size).
    public var precision: Int?
    /// Scale (digits after the decimal point).
    public var scale: Int?
    /// Whether the column is assigned by the data source.
    public var isAutoIncrement: Bool?
    /// Whether case matters in comparisons.
    public var isCaseSensitive: Bool?
    /// Whether the column cannot be written.
    public var isReadOnly: Bool?
    /// Whether the column can appear in a WHERE clause.
    public var isSearchable: Bool?
    /// A description of the column.
    public var remarks: String?

    /// Metadata with every value unset.
    public init(catalogName: String? = nil, schemaName: String? = nil, tableName: String? = nil, typeName: String? = nil,
                precision: Int? = nil, scale: Int? = nil, isAutoIncrement: Bool? = nil, isCaseSensitive: Bool? = nil,
                isReadOnly: Bool? = nil, isSearchable: Bool? = nil, remarks: String? = nil) {
        self.catalogName = catalogName
        self.schemaName = schemaName
        self.tableName = tableName
        self.typeName = typeName
        self.precision = precision
        self.scale = scale
        self.isAutoIncrement = isAutoIncrement
        self.isCaseSensitive = isCaseSensitive
        self.isReadOnly = isReadOnly
        self.isSearchable = isSearchable
        self.remarks = remarks
    }

    /// The values set, under their `ARROW:FLIGHT:SQL:*` keys (booleans as `1`/`0`).
    public var metadata: Metadata {
        var pairs: [(key: String, value: String)] = []
        func add(_ key: String, _ value: String?) {
            if let value { pairs.append((key: "ARROW:FLIGHT:SQL:\(key)", value: value)) }
        }
        func flag(_ value: Bool?) -> String? { value.map { $0 ? "1" : "0" } }
        add("CATALOG_NAME", catalogName)
        // The specification's text says DB_SCHEMA_NAME; every implementation reads SCHEMA_NAME.
        add("SCHEMA_NAME", schemaName)
        add("TABLE_NAME", tableName)
        add("TYPE_NAME", typeName)
        add("PRECISION", precision.map(String.init))
        add("SCALE", scale.map(String.init))
        add("IS_AUTO_INCREMENT", flag(isAutoIncrement))
        add("IS_CASE_SENSITIVE", flag(isCaseSensitive))
        add("IS_READ_ONLY", flag(isReadOnly))
        add("IS_SEARCHABLE", flag(isSearchable))
        add("REMARKS", remarks)
        return Metadata(pairs)
    }
}
