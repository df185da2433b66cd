import FlightRPC
import FlightSQL
import Foundation

extension SQLiteEngine {
    public func beginTransaction(_ request: ActionBeginTransactionRequest, context: FlightCallContext) async throws -> ActionBeginTransactionResult {
        let connection = try await pool.acquire()
        do {
            try await SQLiteWork.run(on: connection) { try connection.execute("BEGIN") }
        } catch {
            pool.release(connection)
            throw Self.status(error)
        }
        let id = Self.newHandle()
        transactions.withLock { $0[id] = SQLiteTransaction(connection: connection, owner: context.connectionID) }
        endSessionWithConnection(context)
        logger.debug("transaction begun", metadata: ["peer": "\(context.peer)"])
        var result = ActionBeginTransactionResult()
        result.transactionID = id
        return result
    }

    public func endTransaction(_ request: ActionEndTransactionRequest, context: FlightCallContext) async throws {
        let sql: String
        switch request.action {
        case .commit: sql = "COMMIT"
        case .rollback: sql = "ROLLBACK"
        case .unspecified, .UNRECOGNIZED: throw FlightError(.invalidArgument, "EndTransaction needs commit or rollback")
        }
        guard !request.transactionID.isEmpty else { throw FlightError(.invalidArgument, "EndTransaction needs a transaction id") }
        // A failed COMMIT (a busy database) throws here and leaves the transaction open for a
        // retry or a rollback.
        try await withConnection(transaction: request.transactionID) { lease in
            let connection = lease.connection
            try await lease.run {
                // A statement that failed may already have rolled SQLite's transaction back.
                if !connection.isAutocommit { try connection.execute(sql) }
            }
        }
        // Its connection goes back to the pool once no command or stream still uses it.
        if let ended = transactions.withLock({ $0.removeValue(forKey: request.transactionID) }) { releaseWhenUnused(ended) }
    }

    public func beginSavepoint(_ request: ActionBeginSavepointRequest, context: FlightCallContext) async throws -> ActionBeginSavepointResult {
        guard !request.name.isEmpty else { throw FlightError(.invalidArgument, "a savepoint needs a name") }
        guard !request.transactionID.isEmpty else { throw FlightError(.invalidArgument, "BeginSavepoint needs a transaction id") }
        // SQLite's name for it is unique, so that two savepoints a client names alike stay
        // apart; the client's name is only for its own reading.
        let id = Self.newHandle()
        let name = "flight_sql_savepoint_" + id.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        try await withConnection(transaction: request.transactionID) { lease in
            let connection = lease.connection
            try await lease.run { try connection.execute("SAVEPOINT \(name)") }
            lease.transaction?.savepoints.withLock { $0[id] = name }
        }
        var result = ActionBeginSavepointResult()
        result.savepointID = id
        return result
    }

    public func endSavepoint(_ request: ActionEndSavepointRequest, context: FlightCallContext) async throws {
        let found = transactions.withLock { table in
            table.first { $0.value.savepoints.withLock { $0[request.savepointID] != nil } }
        }
        guard let (transactionID, transaction) = found, let name = transaction.savepoints.withLock({ $0[request.savepointID] }) else {
            throw FlightError(.notFound, "unknown savepoint")
        }
        let quoted = try SQLiteIngest.quoteIdentifier(name)
        let script: String
        switch request.action {
        case .release: script = "RELEASE \(quoted)"
        // ROLLBACK TO keeps the savepoint open in SQLite; the protocol ends it, so release it too.
        case .rollback: script = "ROLLBACK TO \(quoted); RELEASE \(quoted)"
        case .unspecified, .UNRECOGNIZED: throw FlightError(.invalidArgument, "EndSavepoint needs release or rollback")
        }
        try await withConnection(transaction: transactionID) { lease in
            let connection = lease.connection
            try await lease.run { try connection.execute(script) }
        }
        _ = transaction.savepoints.withLock { $0.removeValue(forKey: request.savepointID) }
    }

    /// Ends the session: the transactions begun over the caller's connection are rolled back
    /// (clients such as ADBC close their session, but not their transaction, on close) and
    /// its options are forgotten.
    public func closeSession(context: FlightCallContext) async throws -> CloseSessionStatus {
        let count = endSession(of: context.connectionID)
        if count > 0 { logger.debug("session closed: rolled back \(count) transaction(s)", metadata: ["peer": "\(context.peer)"]) }
        return .closed
    }

    /// Rolls back the transactions of a client connection and forgets its options and prepared
    /// statements; returns how many transactions were rolled back.
    @discardableResult
    func endSession(of connection: UInt64) -> Int {
        let count = endTransactions { $0.owner == connection }
        sessions.withLock { $0[connection] = nil }
        prepared.removeAll { $0.owner == connection }
        return count
    }

    /// Ends what the caller's connection keeps here (its session) when the connection closes:
    /// registered once per connection, by the calls that leave state behind.
    func endSessionWithConnection(_ context: FlightCallContext) {
        let connection = context.connectionID
        guard watchedConnections.withLock({ $0.insert(connection).inserted }) else { return }
        context.whenConnectionCloses { [weak self] in
            guard let self else { return }
            self.watchedConnections.withLock { _ = $0.remove(connection) }
            let count = self.endSession(of: connection)
            if count > 0 { self.logger.debug("connection closed: rolled back \(count) transaction(s)") }
        }
    }

    /// The session's options: `schema` (the database used where a command names none) and
    /// `catalog` (always empty: SQLite has no catalogs).
    public func getSessionOptions(context: FlightCallContext) async throws -> [String: SessionOptionValue] {
        sessions.withLock { $0[context.connectionID] ?? [:] }
    }

    /// Sets `schema` to an attached database (`main`, `temp`, ...) or `catalog` to the empty
    /// string; `.unset` removes either. Other names are refused with `invalidName`.
    public func setSessionOptions(_ options: [String: SessionOptionValue], context: FlightCallContext) async throws -> [String: SessionOptionError] {
        endSessionWithConnection(context)
        let databases = try await inspect { connection in try Self.databases(on: connection) + ["temp"] }
        var errors: [String: SessionOptionError] = [:]
        var accepted: [String: SessionOptionValue] = [:]
        for (name, value) in options {
            switch (name, value) {
            case ("schema", .string(let database)) where databases.contains(database):
                accepted[name] = value
            case ("catalog", .string("")), ("schema", .unset), ("catalog", .unset):
                accepted[name] = value
            case ("schema", _), ("catalog", _):
                errors[name] = .invalidValue
            default:
                errors[name] = .invalidName
            }
        }
        sessions.withLock { table in
            var session = table[context.connectionID] ?? [:]
            for (name, value) in accepted { session[name] = value == .unset ? nil : value }
            table[context.connectionID] = session.isEmpty ? nil : session
        }
        return errors
    }

    /// The database a command without one uses: the session's `schema`, else `main`.
    func defaultDatabase(_ context: FlightCallContext) -> String {
        if case .string(let name) = sessions.withLock({ $0[context.connectionID]?["schema"] }) { return name }
        return "main"
    }
}
