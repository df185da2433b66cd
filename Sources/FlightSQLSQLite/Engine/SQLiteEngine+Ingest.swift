import ArrowCore
import FlightRPC
import FlightSQL
import Foundation

extension SQLiteEngine {
    /// Bulk ingest: the table is created, appended to or replaced as the command's options
    /// say, and every uploaded batch is written, all in one transaction (a savepoint inside
    /// the client's transaction): on any error nothing of the upload remains.
    public func doPutStatementIngest(_ command: CommandStatementIngest, data: FlightRecordBatchReader, context: FlightCallContext) async throws -> Int64 {
        guard !readOnly else { throw FlightError(.permissionDenied, "the server is read-only") }
        guard !command.hasCatalog || command.catalog.isEmpty else {
            throw FlightError(.invalidArgument, "SQLite has no catalogs; leave the ingest catalog unset")
        }
        guard !command.table.isEmpty else { throw FlightError(.invalidArgument, "ingest needs a table name") }
        let database: String? = command.temporary ? "temp" : (command.hasSchema && !command.schema.isEmpty ? command.schema : defaultDatabase(context))
        if command.temporary, command.hasSchema, !command.schema.isEmpty, command.schema != "temp" {
            throw FlightError(.invalidArgument, "a temporary table lives in schema 'temp', not '\(command.schema)'")
        }
        // A temporary table belongs to one SQLite connection; outside a transaction the next
        // command may run on another pooled connection and not see it.
        if command.temporary && !(command.hasTransactionID && !command.transactionID.isEmpty) {
            throw FlightError(.invalidArgument, "a temporary table lives on one connection: ingest it inside a transaction")
        }
        guard let schema = try await data.schema() else {
            throw FlightError(.invalidArgument, "ingest stream has no schema")
        }
        let options = command.tableDefinitionOptions
        let transaction = command.hasTransactionID ? command.transactionID : nil
        let savepoint = "flight_sql_ingest_\(UInt64.random(in: 0...UInt64.max))"
        return try await withConnection(transaction: transaction) { shared in
            // An ingest into a client's transaction holds it for the whole upload, so that no
            // other command (a commit, a savepoint) lands between its rows.
            if let open = shared.transaction { await open.lock.lock() }
            defer { shared.transaction?.lock.unlock() }
            let lease = SQLiteLease(connection: shared.connection, transaction: nil)
            let connection = lease.connection
            try await lease.run { try connection.execute("SAVEPOINT \(savepoint)") }
            var insert: SQLiteStatement?
            do {
                let prepared = try await lease.run {
                    try Self.prepareIngestTable(command.table, database: database, schema: schema, temporary: command.temporary,
                                                options: options, on: connection)
                }
                insert = prepared
                var rows: Int64 = 0
                while let batch = try await withClientProgress("the upload", { try await data.next() }) {
                    guard batch.schema.fields.map(\.type) == schema.fields.map(\.type) else {
                        throw FlightError(.invalidArgument, "an ingest batch's schema differs from the stream's")
                    }
                    rows += try await lease.run { try SQLiteIngest.insert(batch, using: prepared) }
                }
                try await lease.run {
                    prepared.finalize()
                    try connection.execute("RELEASE \(savepoint)")
                }
                return rows
            } catch {
                // Also when cancelled: inside a client's transaction a half-done upload would
                // otherwise stay, to be committed with it.
                let unfinished = insert
                try? await lease.runRegardless {
                    unfinished?.finalize()
                    try connection.execute("ROLLBACK TO \(savepoint)")
                    try connection.execute("RELEASE \(savepoint)")
                }
                throw error
            }
        }
    }

    /// Applies the table definition options and returns the INSERT statement for the batches.
    static func prepareIngestTable(_ table: String, database: String?, schema: Schema, temporary: Bool,
                                   options: CommandStatementIngest.TableDefinitionOptions,
                                   on connection: SQLiteConnection) throws -> SQLiteStatement {
        let exists = try tableExists(table, database: database, on: connection)
        let create = try SQLiteIngest.createTableSQL(table: table, schema: schema, temporary: temporary,
                                                     schemaName: temporary ? nil : database)
        if exists {
            switch options.ifExists {
            case .append:
                break
            case .replace:
                try connection.execute("DROP TABLE \(try SQLiteIngest.quoteIdentifier(database ?? "main")).\(try SQLiteIngest.quoteIdentifier(table))")
                try connection.execute(create)
            case .fail, .unspecified, .UNRECOGNIZED:
                throw FlightError(.alreadyExists, "table '\(table)' already exists")
            }
        } else {
            switch options.ifNotExist {
            case .create:
                try connection.execute(create)
            case .fail, .unspecified, .UNRECOGNIZED:
                throw FlightError(.notFound, "table '\(table)' does not exist")
            }
        }
        let insert = try connection.prepare(SQLiteIngest.insertSQL(table: table, schemaName: database, columnCount: schema.fields.count))
        guard insert.parameterCount == schema.fields.count else {
            throw FlightError(.invalidArgument, "table '\(table)' does not take \(schema.fields.count) columns")
        }
        return insert
    }

    static func tableExists(_ table: String, database: String?, on connection: SQLiteConnection) throws -> Bool {
        let master = "\(try SQLiteIngest.quoteIdentifier(database ?? "main")).sqlite_schema"
        let statement = try connection.prepare("SELECT 1 FROM \(master) WHERE type = 'table' AND name = ?1")
        try statement.bind(0, text: table)
        return try statement.step()
    }
}
