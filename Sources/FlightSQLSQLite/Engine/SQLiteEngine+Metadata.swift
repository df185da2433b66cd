import ArrowCore
import FlightRPC
import FlightSQL
import Foundation

extension SQLiteEngine {
    /// Runs read-only catalog work on a pooled connection.
    func inspect<T: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withConnection(transaction: nil) { lease in
            let connection = lease.connection
            return try await lease.run { try work(connection) }
        }
    }

    /// The attached databases (SQLite's schemas): `main`, `temp` when it holds tables, and any others.
    static func databases(on connection: SQLiteConnection) throws -> [String] {
        let statement = try connection.prepare("PRAGMA database_list")
        var names: [String] = []
        while try statement.step() {
            guard let name = statement.string(1) else { continue }
            if name == "temp" {
                let temp = try connection.prepare("SELECT 1 FROM temp.sqlite_schema WHERE type IN ('table', 'view') LIMIT 1")
                if try !temp.step() { continue }
            }
            names.append(name)
        }
        return names
    }

    struct ColumnInfo {
        var name: String
        var declaredType: String?
        var notNull: Bool
        var primaryKeyPosition: Int
    }

    static func columns(of table: String, in database: String, on connection: SQLiteConnection) throws -> [ColumnInfo] {
        let statement = try connection.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1, ?2)")
        try statement.bind(0, text: table)
        try statement.bind(1, text: database)
        var columns: [ColumnInfo] = []
        while try statement.step() {
            let declared = statement.string(1)
            columns.append(ColumnInfo(name: statement.string(0) ?? "", declaredType: declared?.isEmpty == true ? nil : declared,
                                      notNull: statement.int64(2) != 0, primaryKeyPosition: Int(statement.int64(3))))
        }
        return columns
    }

    /// A table's schema as GetTables reports it: declared types mapped, NOT NULL honoured, and
    /// the Flight SQL column metadata; untyped columns typed from the table's first rows.
    static func tableSchema(_ table: String, in database: String, on connection: SQLiteConnection) throws -> Schema {
        let info = try columns(of: table, in: database, on: connection)
        let sampled = try SQLiteTypeMapping.inferSchema(
            connection.prepare("SELECT * FROM \(try SQLiteIngest.quoteIdentifier(database)).\(try SQLiteIngest.quoteIdentifier(table))"))
        // A lone INTEGER PRIMARY KEY is the rowid: never NULL (SQLite assigns one), though
        // table_info does not mark it NOT NULL.
        let keyColumns = info.filter { $0.primaryKeyPosition > 0 }
        return Schema(info.enumerated().map { index, column in
            let type = SQLiteTypeMapping.arrowType(declared: column.declaredType)
                ?? (index < sampled.fields.count ? sampled.fields[index].type : .utf8)
            let isRowID = keyColumns.count == 1 && column.primaryKeyPosition == 1 && column.declaredType?.uppercased() == "INTEGER"
            let metadata = FlightSQLColumnMetadata(
                schemaName: database, tableName: table, typeName: column.declaredType ?? "",
                isAutoIncrement: isRowID, isReadOnly: false, isSearchable: true)
            return Field(column.name, type, nullable: !column.notNull && !isRowID, metadata: metadata.metadata)
        })
    }

    public func catalogs(context: FlightCallContext) async throws -> [String] { [] }

    public func dbSchemas(_ command: CommandGetDbSchemas, context: FlightCallContext) async throws -> [DbSchemaRow] {
        if command.hasCatalog, !command.catalog.isEmpty { return [] }
        let pattern = command.hasDbSchemaFilterPattern ? command.dbSchemaFilterPattern : nil
        return try await inspect { connection in
            try Self.databases(on: connection).filter { SQLPattern.matches(pattern, $0) }.map { DbSchemaRow(catalog: nil, name: $0) }
        }
    }

    public func tables(_ command: CommandGetTables, context: FlightCallContext) async throws -> [TableRow] {
        if command.hasCatalog, !command.catalog.isEmpty { return [] }
        let schemaPattern = command.hasDbSchemaFilterPattern ? command.dbSchemaFilterPattern : nil
        let tablePattern = command.hasTableNameFilterPattern ? command.tableNameFilterPattern : nil
        let types = Set(command.tableTypes.map { $0.uppercased() })
        return try await inspect { connection in
            var rows: [TableRow] = []
            for database in try Self.databases(on: connection) where SQLPattern.matches(schemaPattern, database) {
                let statement = try connection.prepare("""
                    SELECT name, type FROM \(try SQLiteIngest.quoteIdentifier(database)).sqlite_schema
                    WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name
                    """)
                while try statement.step() {
                    guard let name = statement.string(0), let kind = statement.string(1)?.uppercased() else { continue }
                    guard SQLPattern.matches(tablePattern, name), types.isEmpty || types.contains(kind) else { continue }
                    let schema = command.includeSchema ? try Self.tableSchema(name, in: database, on: connection) : nil
                    rows.append(TableRow(catalog: nil, dbSchema: database, name: name, type: kind, schema: schema))
                }
            }
            return rows
        }
    }

    public func tableTypes(context: FlightCallContext) async throws -> [String] { ["TABLE", "VIEW"] }

    public func primaryKeys(_ command: CommandGetPrimaryKeys, context: FlightCallContext) async throws -> [PrimaryKeyRow] {
        let database = command.hasDbSchema && !command.dbSchema.isEmpty ? command.dbSchema : defaultDatabase(context)
        return try await inspect { connection in
            try Self.columns(of: command.table, in: database, on: connection)
                .filter { $0.primaryKeyPosition > 0 }
                .sorted { $0.primaryKeyPosition < $1.primaryKeyPosition }
                .map { PrimaryKeyRow(catalog: nil, dbSchema: database, table: command.table, column: $0.name,
                                     keySequence: Int32($0.primaryKeyPosition)) }
        }
    }

    /// The foreign keys declared by `table`: the rows of GetImportedKeys.
    static func importedKeys(of table: String, in database: String, on connection: SQLiteConnection) throws -> [ForeignKeyRow] {
        let statement = try connection.prepare("""
            SELECT id, seq, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?1, ?2) ORDER BY id, seq
            """)
        try statement.bind(0, text: table)
        try statement.bind(1, text: database)
        var rows: [ForeignKeyRow] = []
        var parentKeys: [String: [String]] = [:]
        while try statement.step() {
            let id = statement.int64(0), sequence = Int(statement.int64(1))
            guard let parent = statement.string(2), let from = statement.string(3) else { continue }
            var to = statement.string(4)
            if to == nil {
                // A reference without columns names the parent's primary key.
                if parentKeys[parent] == nil {
                    parentKeys[parent] = try columns(of: parent, in: database, on: connection)
                        .filter { $0.primaryKeyPosition > 0 }.sorted { $0.primaryKeyPosition < $1.primaryKeyPosition }.map(\.name)
                }
                let keys = parentKeys[parent] ?? []
                to = sequence < keys.count ? keys[sequence] : nil
            }
            rows.append(ForeignKeyRow(
                pkCatalog: nil, pkDbSchema: database, pkTable: parent, pkColumn: to ?? "",
                fkCatalog: nil, fkDbSchema: database, fkTable: table, fkColumn: from,
                keySequence: Int32(sequence + 1), fkKeyName: "fk_\(table)_\(id)", pkKeyName: nil,
                updateRule: rule(statement.string(5)), deleteRule: rule(statement.string(6))))
        }
        return rows
    }

    static func rule(_ text: String?) -> UpdateDeleteRules {
        switch text?.uppercased() {
        case "CASCADE": return .cascade
        case "RESTRICT": return .restrict
        case "SET NULL": return .setNull
        case "SET DEFAULT": return .setDefault
        default: return .noAction
        }
    }

    static func tableNames(in database: String, on connection: SQLiteConnection) throws -> [String] {
        let statement = try connection.prepare(
            "SELECT name FROM \(try SQLiteIngest.quoteIdentifier(database)).sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        var names: [String] = []
        while try statement.step() { if let name = statement.string(0) { names.append(name) } }
        return names
    }

    public func importedKeys(_ command: CommandGetImportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        let database = command.hasDbSchema && !command.dbSchema.isEmpty ? command.dbSchema : defaultDatabase(context)
        return try await inspect { connection in try Self.importedKeys(of: command.table, in: database, on: connection) }
    }

    public func exportedKeys(_ command: CommandGetExportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        let database = command.hasDbSchema && !command.dbSchema.isEmpty ? command.dbSchema : defaultDatabase(context)
        return try await inspect { connection in
            try Self.tableNames(in: database, on: connection).flatMap { child in
                try Self.importedKeys(of: child, in: database, on: connection).filter { $0.pkTable == command.table }
            }
        }
    }

    public func crossReference(_ command: CommandGetCrossReference, context: FlightCallContext) async throws -> [ForeignKeyRow] {
        let database = command.hasFkDbSchema && !command.fkDbSchema.isEmpty ? command.fkDbSchema : defaultDatabase(context)
        return try await inspect { connection in
            try Self.importedKeys(of: command.fkTable, in: database, on: connection).filter { $0.pkTable == command.pkTable }
        }
    }

    public func xdbcTypeInfo(_ command: CommandGetXdbcTypeInfo, context: FlightCallContext) async throws -> [XdbcTypeInfoRow] {
        let rows = [
            XdbcTypeInfoRow(typeName: "INTEGER", dataType: .xdbcBigint, columnSize: 19, caseSensitive: false, searchable: 3,
                            unsignedAttribute: false, fixedPrecScale: false, autoIncrement: true, localTypeName: "INTEGER",
                            minimumScale: 0, maximumScale: 0, numPrecRadix: 10),
            XdbcTypeInfoRow(typeName: "REAL", dataType: .xdbcDouble, columnSize: 15, caseSensitive: false, searchable: 3,
                            unsignedAttribute: false, fixedPrecScale: false, autoIncrement: false, localTypeName: "REAL",
                            numPrecRadix: 2),
            XdbcTypeInfoRow(typeName: "TEXT", dataType: .xdbcVarchar, literalPrefix: "'", literalSuffix: "'", caseSensitive: true,
                            searchable: 3, fixedPrecScale: false, localTypeName: "TEXT"),
            XdbcTypeInfoRow(typeName: "BLOB", dataType: .xdbcVarbinary, literalPrefix: "X'", literalSuffix: "'", caseSensitive: false,
                            searchable: 0, fixedPrecScale: false, localTypeName: "BLOB"),
            XdbcTypeInfoRow(typeName: "BOOLEAN", dataType: .xdbcBit, columnSize: 1, caseSensitive: false, searchable: 3,
                            fixedPrecScale: false, localTypeName: "BOOLEAN"),
        ]
        guard command.hasDataType else { return rows }
        return rows.filter { $0.dataType == command.dataType }
    }

    public func sqlInfo(context: FlightCallContext) async throws -> [UInt32: SqlInfoValue] {
        func id(_ info: SqlInfo) -> UInt32 { UInt32(info.rawValue) }
        return [
            id(.flightSqlServerName): .string("swift-arrow-flight SQLite"),
            id(.flightSqlServerVersion): .string(SQLiteConnection.libraryVersion),
            id(.flightSqlServerArrowVersion): .string("swift-arrow-flight ArrowCore (IPC V5)"),
            id(.flightSqlServerReadOnly): .bool(readOnly),
            id(.flightSqlServerSql): .bool(true),
            id(.flightSqlServerSubstrait): .bool(false),
            id(.flightSqlServerTransaction): .int32Bitmask(Int32(Arrow_Flight_Protocol_Sql_SqlSupportedTransaction.savepoint.rawValue)),
            id(.flightSqlServerCancel): .bool(true),
            id(.flightSqlServerBulkIngestion): .bool(!readOnly),
            id(.flightSqlServerIngestTransactionsSupported): .bool(true),
            id(.flightSqlServerStatementTimeout): .int32Bitmask(0),
            id(.flightSqlServerTransactionTimeout): .int32Bitmask(0),
            id(.sqlDdlCatalog): .bool(false),
            id(.sqlDdlSchema): .bool(false),
            id(.sqlDdlTable): .bool(true),
            id(.sqlIdentifierCase): .bigint(Int64(Arrow_Flight_Protocol_Sql_SqlSupportedCaseSensitivity.sqlCaseSensitivityCaseInsensitive.rawValue)),
            id(.sqlIdentifierQuoteChar): .string("\""),
            id(.sqlQuotedIdentifierCase): .bigint(Int64(Arrow_Flight_Protocol_Sql_SqlSupportedCaseSensitivity.sqlCaseSensitivityCaseInsensitive.rawValue)),
            id(.sqlAllTablesAreSelectable): .bool(true),
            id(.sqlNullOrdering): .bigint(Int64(Arrow_Flight_Protocol_Sql_SqlNullOrdering.sqlNullsSortedLow.rawValue)),
            id(.sqlKeywords): .stringList(SQLiteConnection.keywords),
            id(.sqlSearchStringEscape): .string("\\"),
            id(.sqlSupportsColumnAliasing): .bool(true),
            id(.sqlNullPlusNullIsNull): .bool(true),
            id(.sqlSupportsTableCorrelationNames): .bool(true),
            id(.sqlSupportsExpressionsInOrderBy): .bool(true),
            id(.sqlSupportsOrderByUnrelated): .bool(true),
            id(.sqlSupportsLikeEscapeClause): .bool(true),
            id(.sqlSupportsNonNullableColumns): .bool(true),
            id(.sqlSchemaTerm): .string("schema"),
            id(.sqlCatalogTerm): .string("catalog"),
            id(.sqlCatalogAtStart): .bool(false),
            id(.sqlSelectForUpdateSupported): .bool(false),
            id(.sqlStoredProceduresSupported): .bool(false),
            id(.sqlCorrelatedSubqueriesSupported): .bool(true),
            id(.sqlMaxColumnsInTable): .bigint(2000),
            id(.sqlDefaultTransactionIsolation): .bigint(Int64(Arrow_Flight_Protocol_Sql_SqlTransactionIsolationLevel.sqlTransactionSerializable.rawValue)),
            id(.sqlTransactionsSupported): .bool(true),
            id(.sqlSupportedTransactionsIsolationLevels): .int32Bitmask(1 << Int32(Arrow_Flight_Protocol_Sql_SqlTransactionIsolationLevel.sqlTransactionSerializable.rawValue)),
            id(.sqlDataDefinitionCausesTransactionCommit): .bool(false),
            id(.sqlDataDefinitionsInTransactionsIgnored): .bool(false),
            id(.sqlBatchUpdatesSupported): .bool(true),
            id(.sqlSavepointsSupported): .bool(true),
            id(.sqlNamedParametersSupported): .bool(true),
        ]
    }
}
