import ArrowCore
import FlightRPC
import FlightSQL
import Foundation
import SparkConnect

extension SparkEngine {
    /// `name` as a Spark identifier: in backticks, inner backticks doubled.
    static func quote(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }

    /// A namespace (dots separate the levels of nested ones) as a quoted multi-part name.
    static func quoteNamespace(_ namespace: String) -> String {
        namespace.split(separator: ".", omittingEmptySubsequences: false).map { quote(String($0)) }.joined(separator: ".")
    }

    /// The strings of column `column` of every row of `batches`.
    static func strings(_ batches: [RecordBatch], column: Int) -> [String] {
        batches.flatMap { batch -> [String] in
            guard column < batch.columns.count, let values = try? StringArray(batch.columns[column]) else { return [] }
            return (0..<batch.length).compactMap { values[$0] }
        }
    }

    /// The booleans of column `column` of every row of `batches`.
    static func booleans(_ batches: [RecordBatch], column: Int) -> [Bool] {
        batches.flatMap { batch -> [Bool] in
            guard column < batch.columns.count, let values = try? BooleanArray(batch.columns[column]) else { return [] }
            return (0..<batch.length).map { values[$0] ?? false }
        }
    }

    func catalogNames(_ session: SparkSession) async throws -> [String] {
        Self.strings(try await collect("SHOW CATALOGS", on: session), column: 0).sorted()
    }

    func namespaces(in catalog: String, _ session: SparkSession) async throws -> [String] {
        Self.strings(try await collect("SHOW NAMESPACES IN \(Self.quote(catalog))", on: session), column: 0).sorted()
    }

    /// The catalogs a command's optional catalog selects: that one (none for the empty
    /// string: every Spark table has a catalog), or all.
    func catalogs(matching catalog: String?, _ session: SparkSession) async throws -> [String] {
        guard let catalog else { return try await catalogNames(session) }
        if catalog.isEmpty { return [] }
        return try await catalogNames(session).contains(catalog) ? [catalog] : []
    }

    public func catalogs(context: FlightCallContext) async throws -> [String] {
        try await catalogNames(session(context))
    }

    public func dbSchemas(_ command: CommandGetDbSchemas, context: FlightCallContext) async throws -> [DbSchemaRow] {
        let session = try await session(context)
        let pattern = command.hasDbSchemaFilterPattern ? command.dbSchemaFilterPattern : nil
        var rows: [DbSchemaRow] = []
        for catalog in try await catalogs(matching: command.hasCatalog ? command.catalog : nil, session) {
            for namespace in try await namespaces(in: catalog, session) where SQLPattern.matches(pattern, namespace) {
                rows.append(DbSchemaRow(catalog: catalog, name: namespace))
            }
        }
        return rows
    }

    public func tables(_ command: CommandGetTables, context: FlightCallContext) async throws -> [TableRow] {
        let session = try await session(context)
        let schemaPattern = command.hasDbSchemaFilterPattern ? command.dbSchemaFilterPattern : nil
        let tablePattern = command.hasTableNameFilterPattern ? command.tableNameFilterPattern : nil
        let types = Set(command.tableTypes.map { $0.uppercased() })
        var rows: [TableRow] = []
        var temporary: [String] = []
        for catalog in try await catalogs(matching: command.hasCatalog ? command.catalog : nil, session) {
            for namespace in try await namespaces(in: catalog, session) where SQLPattern.matches(schemaPattern, namespace) {
                let qualified = "\(Self.quote(catalog)).\(Self.quoteNamespace(namespace))"
                let listed = try await collect("SHOW TABLES IN \(qualified)", on: session)
                // SHOW TABLES: namespace, tableName, isTemporary. Views are told apart by SHOW
                // VIEWS, which catalogs without views refuse.
                let names = Self.strings(listed, column: 1), temporaries = Self.booleans(listed, column: 2)
                let views = Set(Self.strings((try? await collect("SHOW VIEWS IN \(qualified)", on: session)) ?? [], column: 1))
                for (index, name) in names.enumerated() where SQLPattern.matches(tablePattern, name) {
                    if index < temporaries.count, temporaries[index] {
                        if !temporary.contains(name) { temporary.append(name) }
                        continue
                    }
                    let kind = views.contains(name) ? "VIEW" : "TABLE"
                    guard types.isEmpty || types.contains(kind) else { continue }
                    let schema = command.includeSchema
                        ? try await tableSchema("\(qualified).\(Self.quote(name))", catalog: catalog, namespace: namespace, table: name, session)
                        : nil
                    rows.append(TableRow(catalog: catalog, dbSchema: namespace, name: name, type: kind, schema: schema))
                }
            }
        }
        // Temporary views belong to the session, in no catalog or namespace.
        if types.isEmpty || types.contains("TEMPORARY VIEW"), !command.hasCatalog, schemaPattern == nil || schemaPattern == "%" {
            for name in temporary {
                let schema = command.includeSchema ? try await tableSchema(Self.quote(name), catalog: nil, namespace: nil, table: name, session) : nil
                rows.append(TableRow(catalog: nil, dbSchema: nil, name: name, type: "TEMPORARY VIEW", schema: schema))
            }
        }
        return rows
    }

    /// A table's Arrow schema, with the Flight SQL column metadata.
    func tableSchema(_ qualified: String, catalog: String?, namespace: String?, table: String, _ session: SparkSession) async throws -> Schema {
        var read = Spark_Connect_Read()
        var named = Spark_Connect_Read.NamedTable()
        named.unparsedIdentifier = qualified
        read.namedTable = named
        var relation = Spark_Connect_Relation()
        relation.read = read
        var plan = Spark_Connect_Plan()
        plan.root = relation
        let sparkType: Spark_Connect_DataType
        do {
            sparkType = try await session.client.schema(of: plan)
        } catch {
            throw Self.status(error)
        }
        let schema = try SparkTypes.schema(sparkType, timeZone: session.timeZone)
        let sparkFields = sparkType.struct.fields
        return Schema(schema.fields.enumerated().map { index, field in
            let typeName = index < sparkFields.count ? SparkTypes.sparkName(sparkFields[index].dataType) : "\(field.type)"
            var metadata = FlightSQLColumnMetadata(catalogName: catalog ?? "", schemaName: namespace ?? "", tableName: table,
                                                   typeName: typeName, isAutoIncrement: false, isReadOnly: false, isSearchable: true)
            if case .decimal(_, let precision, let scale) = field.type {
                metadata.precision = precision
                metadata.scale = scale
            }
            return Field(field.name, field.type, nullable: field.nullable, metadata: metadata.metadata)
        })
    }

    public func tableTypes(context: FlightCallContext) async throws -> [String] { ["TABLE", "TEMPORARY VIEW", "VIEW"] }

    /// Spark tables declare no primary keys.
    public func primaryKeys(_ command: CommandGetPrimaryKeys, context: FlightCallContext) async throws -> [PrimaryKeyRow] { [] }

    /// Spark tables declare no foreign keys.
    public func exportedKeys(_ command: CommandGetExportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] { [] }

    /// Spark tables declare no foreign keys.
    public func importedKeys(_ command: CommandGetImportedKeys, context: FlightCallContext) async throws -> [ForeignKeyRow] { [] }

    /// Spark tables declare no foreign keys.
    public func crossReference(_ command: CommandGetCrossReference, context: FlightCallContext) async throws -> [ForeignKeyRow] { [] }

    /// Spark SQL's types, as XDBC describes them.
    public func xdbcTypeInfo(_ command: CommandGetXdbcTypeInfo, context: FlightCallContext) async throws -> [XdbcTypeInfoRow] {
        func row(_ name: String, _ type: XdbcDataType, size: Int32? = nil, prefix: String? = nil, suffix: String? = nil,
                 params: [String]? = nil, caseSensitive: Bool = false, searchable: Int32 = 3, unsigned: Bool? = nil,
                 minimumScale: Int32? = nil, maximumScale: Int32? = nil, radix: Int32? = nil) -> XdbcTypeInfoRow {
            XdbcTypeInfoRow(typeName: name, dataType: type, columnSize: size, literalPrefix: prefix, literalSuffix: suffix,
                            createParams: params, caseSensitive: caseSensitive, searchable: searchable, unsignedAttribute: unsigned,
                            autoIncrement: false, localTypeName: name, minimumScale: minimumScale, maximumScale: maximumScale,
                            numPrecRadix: radix)
        }
        let rows = [
            row("BOOLEAN", .xdbcBit, size: 1),
            row("TINYINT", .xdbcTinyint, size: 3, unsigned: false, minimumScale: 0, maximumScale: 0, radix: 10),
            row("SMALLINT", .xdbcSmallint, size: 5, unsigned: false, minimumScale: 0, maximumScale: 0, radix: 10),
            row("INT", .xdbcInteger, size: 10, unsigned: false, minimumScale: 0, maximumScale: 0, radix: 10),
            row("BIGINT", .xdbcBigint, size: 19, unsigned: false, minimumScale: 0, maximumScale: 0, radix: 10),
            row("FLOAT", .xdbcReal, size: 7, unsigned: false, radix: 2),
            row("DOUBLE", .xdbcDouble, size: 15, unsigned: false, radix: 2),
            row("DECIMAL", .xdbcDecimal, size: 38, params: ["precision", "scale"], unsigned: false, minimumScale: 0, maximumScale: 38, radix: 10),
            row("STRING", .xdbcVarchar, prefix: "'", suffix: "'", caseSensitive: true),
            row("CHAR", .xdbcChar, prefix: "'", suffix: "'", params: ["length"], caseSensitive: true),
            row("VARCHAR", .xdbcVarchar, prefix: "'", suffix: "'", params: ["length"], caseSensitive: true),
            row("BINARY", .xdbcVarbinary, prefix: "X'", suffix: "'", searchable: 0),
            row("DATE", .xdbcDate, size: 10, prefix: "DATE'", suffix: "'"),
            row("TIMESTAMP", .xdbcTimestamp, size: 29, prefix: "TIMESTAMP'", suffix: "'"),
            row("TIMESTAMP_NTZ", .xdbcTimestamp, size: 26, prefix: "TIMESTAMP_NTZ'", suffix: "'"),
            row("INTERVAL", .xdbcInterval, prefix: "INTERVAL '", suffix: "'", searchable: 2),
        ]
        guard command.hasDataType else { return rows }
        return rows.filter { $0.dataType == command.dataType }
    }

    public func sqlInfo(context: FlightCallContext) async throws -> [UInt32: SqlInfoValue] {
        func id(_ info: SqlInfo) -> UInt32 { UInt32(info.rawValue) }
        let insensitive = Int64(Arrow_Flight_Protocol_Sql_SqlSupportedCaseSensitivity.sqlCaseSensitivityCaseInsensitive.rawValue)
        return [
            id(.flightSqlServerName): .string("swift-arrow-flight Spark"),
            id(.flightSqlServerVersion): .string(sparkVersion),
            id(.flightSqlServerArrowVersion): .string("swift-arrow-flight ArrowCore (IPC V5)"),
            id(.flightSqlServerReadOnly): .bool(false),
            id(.flightSqlServerSql): .bool(true),
            id(.flightSqlServerSubstrait): .bool(false),
            id(.flightSqlServerTransaction): .int32Bitmask(Int32(Arrow_Flight_Protocol_Sql_SqlSupportedTransaction.none.rawValue)),
            id(.flightSqlServerCancel): .bool(true),
            id(.flightSqlServerBulkIngestion): .bool(false),
            id(.flightSqlServerIngestTransactionsSupported): .bool(false),
            id(.flightSqlServerStatementTimeout): .int32Bitmask(0),
            id(.flightSqlServerTransactionTimeout): .int32Bitmask(0),
            id(.sqlDdlCatalog): .bool(false),
            id(.sqlDdlSchema): .bool(true),
            id(.sqlDdlTable): .bool(true),
            id(.sqlIdentifierCase): .bigint(insensitive),
            id(.sqlIdentifierQuoteChar): .string("`"),
            id(.sqlQuotedIdentifierCase): .bigint(insensitive),
            id(.sqlAllTablesAreSelectable): .bool(true),
            id(.sqlNullOrdering): .bigint(Int64(Arrow_Flight_Protocol_Sql_SqlNullOrdering.sqlNullsSortedLow.rawValue)),
            id(.sqlSearchStringEscape): .string("\\"),
            id(.sqlSupportsColumnAliasing): .bool(true),
            id(.sqlNullPlusNullIsNull): .bool(true),
            id(.sqlSupportsTableCorrelationNames): .bool(true),
            id(.sqlSupportsExpressionsInOrderBy): .bool(true),
            id(.sqlSupportsOrderByUnrelated): .bool(true),
            id(.sqlSupportsLikeEscapeClause): .bool(true),
            id(.sqlSupportsNonNullableColumns): .bool(true),
            id(.sqlSchemaTerm): .string("namespace"),
            id(.sqlCatalogTerm): .string("catalog"),
            id(.sqlCatalogAtStart): .bool(true),
            id(.sqlSelectForUpdateSupported): .bool(false),
            id(.sqlStoredProceduresSupported): .bool(false),
            id(.sqlCorrelatedSubqueriesSupported): .bool(true),
            id(.sqlTransactionsSupported): .bool(false),
            id(.sqlDataDefinitionCausesTransactionCommit): .bool(false),
            id(.sqlDataDefinitionsInTransactionsIgnored): .bool(false),
            id(.sqlBatchUpdatesSupported): .bool(true),
            id(.sqlSavepointsSupported): .bool(false),
            id(.sqlNamedParametersSupported): .bool(true),
        ]
    }

    public func beginTransaction(_ request: ActionBeginTransactionRequest, context: FlightCallContext) async throws -> ActionBeginTransactionResult {
        throw FlightError(.unimplemented, "Spark has no transactions (SqlInfo FLIGHT_SQL_SERVER_TRANSACTION says none)")
    }

    // MARK: Session options

    /// The session's options: `execution_mode`, `catalog` and `schema` (Spark's current ones),
    /// and the `spark.*` settings the client made.
    public func getSessionOptions(context: FlightCallContext) async throws -> [String: SessionOptionValue] {
        let session = try await session(context)
        let current = try await collect("SELECT current_catalog(), current_schema()", on: session)
        var options: [String: SessionOptionValue] = [:]
        let state = session.options.withLock { $0 }
        options["execution_mode"] = .string((state.mode ?? configuration.defaultMode).rawValue)
        if let catalog = Self.strings(current, column: 0).first { options["catalog"] = .string(catalog) }
        if let schema = Self.strings(current, column: 1).first { options["schema"] = .string(schema) }
        for (key, value) in state.spark { options[key] = .string(value) }
        return options
    }

    /// Sets `execution_mode` (auto, direct, distributed), `catalog` (SET CATALOG), `schema`
    /// (USE), or any `spark.*` setting of the Spark session; `.unset` returns one to its
    /// default. Other names are refused with `invalidName`, values Spark refuses with
    /// `invalidValue`.
    public func setSessionOptions(_ options: [String: SessionOptionValue], context: FlightCallContext) async throws -> [String: SessionOptionError] {
        let session = try await session(context)
        var errors: [String: SessionOptionError] = [:]
        for (name, value) in options.sorted(by: { $0.key < $1.key }) {
            switch (name, value) {
            case ("execution_mode", .unset):
                session.options.withLock { $0.mode = nil }
            case ("execution_mode", .string(let text)):
                guard let mode = SparkExecutionMode(rawValue: text.lowercased()) else {
                    errors[name] = .invalidValue
                    continue
                }
                if mode == .distributed && staging == nil {
                    errors[name] = .invalidValue
                    continue
                }
                session.options.withLock { $0.mode = mode }
            case ("catalog", .string(let catalog)):
                do { _ = try await collect("SET CATALOG \(Self.quote(catalog))", on: session) } catch { errors[name] = .invalidValue }
            case ("schema", .string(let schema)):
                do { _ = try await collect("USE \(Self.quoteNamespace(schema))", on: session) } catch { errors[name] = .invalidValue }
            case ("catalog", _), ("schema", _):
                errors[name] = .invalidValue
            case (let key, .unset) where key.hasPrefix("spark."):
                do {
                    try await session.client.unsetConfig([key])
                    session.options.withLock { _ = $0.spark.removeValue(forKey: key) }
                    if key == SparkSession.timeZoneKey { try await session.refreshTimeZone() }
                } catch {
                    errors[name] = .invalidValue
                }
            case (let key, _) where key.hasPrefix("spark."):
                let text: String
                switch value {
                case .string(let s): text = s
                case .bool(let b): text = b ? "true" : "false"
                case .int64(let n): text = "\(n)"
                case .double(let d): text = "\(d)"
                default:
                    errors[name] = .invalidValue
                    continue
                }
                do {
                    try await session.client.setConfig([(key: key, value: text)])
                    session.options.withLock { $0.spark[key] = text }
                    if key == SparkSession.timeZoneKey { try await session.refreshTimeZone() }
                } catch {
                    errors[name] = .invalidValue
                }
            default:
                errors[name] = .invalidName
            }
        }
        return errors
    }

    /// Releases the caller's Spark session and its prepared statements.
    public func closeSession(context: FlightCallContext) async throws -> CloseSessionStatus {
        let slot = sessions.withLock { $0.removeValue(forKey: context.connectionID) }
        prepared.removeAll { $0.owner == context.connectionID }
        if let slot, let session = try? await slot.task.value { await session.release() }
        return .closed
    }
}
