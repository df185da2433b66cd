import CSQLite
import FlightSQL
import Synchronization

// The only file that calls sqlite3 functions: everything else in the target goes through
// `SQLiteConnection` and `SQLiteStatement`, so the C API's ownership and threading rules are
// kept in one place.

/// A failure reported by SQLite (or by this wrapper, for misuse SQLite cannot see), with the
/// codes and message as SQLite gave them at the moment of the failure.
package struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (`SQLITE_CONSTRAINT_NOTNULL`, `SQLITE_BUSY_SNAPSHOT`, ...);
    /// its low 8 bits are the primary code.
    package let extendedCode: Int32
    /// SQLite's message (from `sqlite3_errmsg`), or this wrapper's for its own checks.
    package let message: String

    /// An error with `extendedCode` and `message`.
    package init(extendedCode: Int32, message: String) {
        self.extendedCode = extendedCode
        self.message = message
    }

    /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, ...).
    package var code: Int32 { extendedCode & 0xFF }

    /// Whether the statement stopped because `SQLiteConnection.interrupt()` was called.
    package var isInterrupt: Bool { code == SQLITE_INTERRUPT }
    /// Whether another connection held a lock past the busy timeout.
    package var isBusy: Bool { code == SQLITE_BUSY }
    /// Whether a constraint (NOT NULL, UNIQUE, CHECK, FOREIGN KEY, ...) refused a change.
    package var isConstraint: Bool { code == SQLITE_CONSTRAINT }
    /// Whether a write was attempted on a read-only connection or database.
    package var isReadOnly: Bool { code == SQLITE_READONLY }

    /// The code's name as SQLite spells it, the codes, and the message.
    package var description: String {
        let name = sqlite3_errstr(extendedCode).map { String(cString: $0) } ?? "unknown error"
        return "SQLite error \(extendedCode) (\(name)): \(message)"
    }

    /// The error `db` reports for the call that just returned `extendedCode`.
    fileprivate init(_ extendedCode: Int32, _ db: OpaquePointer?) {
        self.extendedCode = extendedCode
        message = sqlite3_errmsg(db).map { String(cString: $0) } ?? "out of memory"
    }
}

/// One open SQLite database connection.
///
/// A connection is used by one task at a time: callers serialise `prepare`, `execute`,
/// `close` and everything done with the statements it prepared. The exception is
/// `interrupt()`, which any thread may call at any time, including during or after `close()`.
/// Statements keep their connection alive, so it is never freed under them.
package final class SQLiteConnection: @unchecked Sendable {
    /// The `sqlite3*` handle; valid until `close()` or deinit.
    fileprivate let db: OpaquePointer
    // `interrupt()` may race with `close()`; this flag, read and cleared under its lock, keeps
    // it from touching a handle that is gone. Everything else is serialised by the caller.
    private let interruptible = Mutex(true)
    /// Whether `close()` has run.
    package private(set) var isClosed = false
    /// Which piece of work is running and which one was cancelled, read by SQLite's progress
    /// handler (see `runWork`).
    private let work = WorkCancellation()

    /// Opens the database file at `path` (`:memory:` for a private in-memory database).
    ///
    /// - `readOnly`: opens without write access (and never creates the file);
    ///   otherwise the connection switches the database to WAL journaling so readers on other
    ///   connections do not block the writer or each other.
    /// - `create`: creates the file if it does not exist (ignored when `readOnly`).
    /// - `busyTimeout`: how long a statement waits for another connection's lock before it
    ///   fails with `isBusy`.
    ///
    /// Paths are file names, never `file:` URIs (the URI flag is not passed). Foreign key
    /// constraints are enforced. Throws if the file cannot be opened or configured.
    package init(path: String, readOnly: Bool = false, create: Bool = true,
                 busyTimeout: Duration = .seconds(5)) throws(SQLiteError) {
        // No SQLite mutex: the caller serialises use, and sqlite3_interrupt needs none.
        var flags = SQLITE_OPEN_NOMUTEX
        if readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if create { flags |= SQLITE_OPEN_CREATE }
        }
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard let handle else {
            throw SQLiteError(extendedCode: SQLITE_NOMEM, message: "out of memory opening '\(path)'")
        }
        guard rc == SQLITE_OK else {
            let error = SQLiteError(sqlite3_extended_errcode(handle), handle)
            sqlite3_close_v2(handle)
            throw SQLiteError(extendedCode: error.extendedCode, message: "\(error.message): '\(path)'")
        }
        do {
            try Self.configure(handle, readOnly: readOnly, busyTimeout: busyTimeout)
        } catch {
            sqlite3_close_v2(handle)
            throw error
        }
        db = handle
        // Every 1,000 virtual machine instructions SQLite asks whether to stop: that is how one
        // piece of work is cancelled without touching other statements of the connection
        // (sqlite3_interrupt stops every statement, even one parked between two batches).
        sqlite3_progress_handler(handle, 1000, { context in
            guard let context else { return 0 }
            return Unmanaged<WorkCancellation>.fromOpaque(context).takeUnretainedValue().shouldStop ? 1 : 0
        }, Unmanaged.passUnretained(work).toOpaque())
    }

    /// Makes the connection fit to be shared between clients: statements may not attach other
    /// database files (`ATTACH`, `VACUUM INTO`, which would read or write any file the server
    /// can) or detach, nor set pragmas (which would change the connection for the next
    /// client); reading pragmas stays allowed.
    package func restrictForClients() {
        sqlite3_set_authorizer(db, { _, action, first, second, _, _ in
            switch action {
            case SQLITE_ATTACH:
                // Plain VACUUM attaches its scratch database under the empty name.
                guard let first, first.pointee != 0 else { return SQLITE_OK }
                return SQLITE_DENY
            case SQLITE_DETACH:
                return SQLITE_DENY
            case SQLITE_PRAGMA:
                // A pragma with an argument sets something, unless it is one that looks up.
                guard second != nil, let first else { return SQLITE_OK }
                return readingPragmas.contains(String(cString: first).lowercased()) ? SQLITE_OK : SQLITE_DENY
            default:
                return SQLITE_OK
            }
        }, nil)
    }

    /// Whether the connection holds objects of its own (temporary tables, views, triggers),
    /// which another client must not see.
    package var hasTemporaryObjects: Bool {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT 1 FROM temp.sqlite_schema LIMIT 1", -1, &statement, nil) == SQLITE_OK else { return true }
        defer { sqlite3_finalize(statement) }
        return sqlite3_step(statement) != SQLITE_DONE
    }

    /// A number for a piece of work about to run on this connection, for `cancel(work:)`.
    package func nextWork() -> UInt64 { work.next() }

    /// Runs `body` (blocking SQLite calls) as piece of work `id`: if `cancel(work: id)` is called
    /// before or while it runs, its statement stops with an error whose `isInterrupt` is true.
    /// Other statements of the connection are not affected.
    package func runWork<T>(_ id: UInt64, _ body: () throws -> T) rethrows -> T {
        work.begin(id)
        defer { work.end() }
        return try body()
    }

    /// Cancels piece of work `id`, whether it runs now or later. Safe from any thread.
    package func cancel(work id: UInt64) { work.cancel(id) }

    private static func configure(_ handle: OpaquePointer, readOnly: Bool, busyTimeout: Duration) throws(SQLiteError) {
        sqlite3_extended_result_codes(handle, 1)
        let milliseconds = (busyTimeout / .milliseconds(1)).rounded()
        sqlite3_busy_timeout(handle, milliseconds.isNaN ? 0 : Int32(max(0, min(Double(Int32.max), milliseconds))))
        if !readOnly { try exec(handle, "PRAGMA journal_mode=WAL") }
        try exec(handle, "PRAGMA foreign_keys=ON")
    }

    private static func exec(_ handle: OpaquePointer, _ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc != SQLITE_OK else { return }
        let text = message.map { String(cString: $0) } ?? sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown error"
        sqlite3_free(message)
        throw SQLiteError(extendedCode: rc, message: text)
    }

    deinit {
        if !isClosed { sqlite3_close_v2(db) }
    }

    /// Closes the connection; later calls do nothing. Statements still alive keep the
    /// underlying handle until they are released, but fail at their next `step()`.
    package func close() {
        guard !isClosed else { return }
        isClosed = true
        interruptible.withLock { $0 = false }
        // v2 defers the free until every statement is finalized, so none dangles.
        sqlite3_close_v2(db)
    }

    /// Makes the statement running on this connection, if any, stop at its next opportunity
    /// with an error whose `isInterrupt` is true. Safe from any thread at any time; does
    /// nothing once the connection is closed or when nothing is running.
    package func interrupt() {
        interruptible.withLock { open in
            if open { sqlite3_interrupt(db) }
        }
    }

    /// Runs the statements in `sql` in order, ignoring any rows they return. Stops at the first
    /// that fails and throws its error; the earlier ones have taken effect. SQL holding a NUL
    /// character is refused, since SQLite would silently run only the text before it.
    package func execute(_ sql: String) throws(SQLiteError) {
        try checkOpen()
        guard !sql.utf8.contains(0) else {
            throw SQLiteError(extendedCode: SQLITE_ERROR, message: "the SQL text contains a NUL character")
        }
        try Self.exec(db, sql)
    }

    /// Compiles `sql`, which must hold exactly one statement. Whitespace, semicolons and
    /// comments around it are fine; an empty text or a second statement is an error, so a
    /// statement can never carry a hidden second one.
    package func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try checkOpen()
        var text = sql
        let result: Result<OpaquePointer, SQLiteError> = text.withUTF8 { utf8 in
            guard utf8.count <= Int32.max else {
                return .failure(SQLiteError(extendedCode: SQLITE_TOOBIG, message: "SQL text of \(utf8.count) bytes is too long"))
            }
            guard utf8.count > 0 else { return .failure(Self.noStatement) }
            let base = UnsafeRawPointer(utf8.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }
            var statement: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, base, Int32(utf8.count), 0, &statement, &tail)
            guard rc == SQLITE_OK else {
                let error = SQLiteError(rc, db)
                let offset = sqlite3_error_offset(db)
                let message = offset >= 0 ? "\(error.message) (at byte \(offset) of the SQL)" : error.message
                return .failure(SQLiteError(extendedCode: rc, message: message))
            }
            guard let statement else { return .failure(Self.noStatement) }
            let consumed = base.flatMap { base in tail.map { base.distance(to: $0) } } ?? utf8.count
            let rest = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[consumed...])
            if let extra = firstTokenOffset(in: rest) {
                sqlite3_finalize(statement)
                let found = String(decoding: rest[extra...].prefix(40), as: UTF8.self)
                return .failure(SQLiteError(
                    extendedCode: SQLITE_ERROR,
                    message: "expected one SQL statement, found a second at byte \(consumed + extra): '\(found)'"))
            }
            return .success(statement)
        }
        return SQLiteStatement(handle: try result.get(), connection: self)
    }

    private static let noStatement = SQLiteError(extendedCode: SQLITE_ERROR, message: "the SQL text holds no statement")

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection (not
    /// counting triggers or foreign key actions); 0 once closed.
    package var changes: Int64 { isClosed ? 0 : sqlite3_changes64(db) }

    /// Rows changed by every INSERT, UPDATE and DELETE since the connection opened; 0 once closed.
    package var totalChanges: Int64 { isClosed ? 0 : sqlite3_total_changes64(db) }

    /// Whether no explicit transaction is open (each statement commits on its own); true once
    /// closed, since closing rolls back any open transaction.
    package var isAutocommit: Bool { isClosed || sqlite3_get_autocommit(db) != 0 }

    private func checkOpen() throws(SQLiteError) {
        if isClosed { throw SQLiteError(extendedCode: SQLITE_MISUSE, message: "the SQLite connection is closed") }
    }
}

/// The offset of the first byte of `sql` that is not whitespace, a semicolon or a comment,
/// by SQLite's own tokenizer rules (an unterminated block comment runs to the end), or nil.
private func firstTokenOffset(in sql: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    let n = sql.count
    while i < n {
        switch sql[i] {
        case 0x20, 0x09, 0x0A, 0x0C, 0x0D, UInt8(ascii: ";"):
            i += 1
        case UInt8(ascii: "-") where i + 1 < n && sql[i + 1] == UInt8(ascii: "-"):
            i += 2
            while i < n && sql[i] != 0x0A { i += 1 }
        case UInt8(ascii: "/") where i + 1 < n && sql[i + 1] == UInt8(ascii: "*"):
            i += 2
            while i < n && !(sql[i] == UInt8(ascii: "*") && i + 1 < n && sql[i + 1] == UInt8(ascii: "/")) { i += 1 }
            i = min(i + 2, n)
        default:
            return i
        }
    }
    return nil
}

/// SQLite's storage class of one value: what a column of the current row actually holds,
/// whatever its declared type.
package enum SQLiteStorageClass: Sendable, Hashable {
    /// A signed integer of up to 8 bytes.
    case integer
    /// An 8-byte IEEE floating point number.
    case real
    /// A string, which this wrapper always reads as UTF-8.
    case text
    /// Bytes, stored as given.
    case blob
    /// NULL.
    case null
}

/// Pragmas whose argument names what to read rather than a value to set.
private let readingPragmas: Set<String> = [
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "foreign_key_check", "integrity_check", "quick_check",
]

/// The progress handler's state: the piece of work running and the ones cancelled.
private final class WorkCancellation: @unchecked Sendable {
    private let state = Mutex<(counter: UInt64, running: UInt64, cancelled: Set<UInt64>)>((0, 0, []))

    func next() -> UInt64 { state.withLock { $0.counter += 1; return $0.counter } }
    func begin(_ id: UInt64) { state.withLock { $0.running = id } }
    func end() { state.withLock { $0.cancelled.remove($0.running); $0.running = 0 } }
    func cancel(_ id: UInt64) { state.withLock { if id != 0 { $0.cancelled.insert(id) } } }
    var shouldStop: Bool { state.withLock { $0.running != 0 && $0.cancelled.contains($0.running) } }
}

/// One compiled SQL statement of a `SQLiteConnection`, which it keeps alive.
///
/// Used by one task at a time, like its connection. Column and parameter indices are 0-based
/// throughout (SQLite numbers parameters from 1; this type adds the 1). Pointers returned by
/// `text(_:)` and `blob(_:)` are SQLite's own memory, valid until the next `step()`, `reset()`
/// or read of the same column.
package final class SQLiteStatement: @unchecked Sendable {
    /// The connection that compiled the statement.
    package let connection: SQLiteConnection
    private let handle: OpaquePointer

    private var finalized = false

    fileprivate init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { finalize() }

    /// Frees the statement now; later use fails. A statement that can outlive the piece of
    /// work that uses it must be finalized inside it: its last release may otherwise happen on
    /// another thread while the connection serves someone else, and the connection has no
    /// mutex of its own.
    package func finalize() {
        guard !finalized else { return }
        finalized = true
        sqlite3_finalize(handle)
    }

    /// The statement's SQL text, without anything that followed it.
    package var sql: String { sqlite3_sql(handle).map { String(cString: $0) } ?? "" }

    /// Whether the statement cannot change the database (by `sqlite3_stmt_readonly`: BEGIN and
    /// COMMIT count as read-only, any INSERT, UPDATE or DELETE, even one matching no rows, does not).
    package var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    // MARK: Columns

    /// The number of result columns (0 for statements that return no rows).
    package var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The name of column `i`: its `AS` alias, else a name SQLite makes up.
    package func columnName(_ i: Int) -> String {
        // Nil only when SQLite runs out of memory making the name.
        sqlite3_column_name(handle, Int32(i)).map { String(cString: $0) } ?? ""
    }

    /// The declared type of column `i` when it is a table column (`VARCHAR(20)`, as written);
    /// nil for expressions and columns declared without a type.
    package func declaredType(_ i: Int) -> String? {
        sqlite3_column_decltype(handle, Int32(i)).map { String(cString: $0) }
    }

    // The system SQLite is built with SQLITE_ENABLE_COLUMN_METADATA (Debian's is); without it
    // these three symbols would not link, rather than fail at run time.

    /// The table that column `i` comes from, when it is a plain table column; nil otherwise.
    package func columnTableName(_ i: Int) -> String? {
        sqlite3_column_table_name(handle, Int32(i)).map { String(cString: $0) }
    }

    /// The name column `i` has in its table (whatever its alias), when it is a plain table column.
    package func columnOriginName(_ i: Int) -> String? {
        sqlite3_column_origin_name(handle, Int32(i)).map { String(cString: $0) }
    }

    /// The database (`main`, `temp` or an attached name) holding column `i`'s table.
    package func columnDatabaseName(_ i: Int) -> String? {
        sqlite3_column_database_name(handle, Int32(i)).map { String(cString: $0) }
    }

    // MARK: Stepping

    /// Runs the statement to its next row: true when a row is ready to read, false when the
    /// statement has finished. On error the statement must be `reset()` before it runs again.
    @inline(__always)
    package func step() throws(SQLiteError) -> Bool {
        if _slowPath(connection.isClosed || finalized) {
            throw SQLiteError(extendedCode: SQLITE_MISUSE, message: finalized ? "the statement was finalized" : "the SQLite connection is closed")
        }
        let rc = sqlite3_step(handle)
        if _fastPath(rc == SQLITE_ROW) { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(rc, sqlite3_db_handle(handle))
    }

    /// Rewinds the statement so the next `step()` runs it from the start; bindings are kept.
    /// Any error of the last step was already thrown by `step()`, so none is reported here.
    package func reset() {
        guard !finalized else { return }
        sqlite3_reset(handle)
    }

    /// Sets every parameter back to NULL.
    package func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    // MARK: Reading the current row

    /// The storage class of column `i` in the current row. Read it before any other reader of
    /// the column, which may convert the value.
    @inline(__always)
    package func storageClass(_ i: Int) -> SQLiteStorageClass {
        switch sqlite3_column_type(handle, Int32(truncatingIfNeeded: i)) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    /// Column `i` of the current row as a 64-bit integer (SQLite converts other classes).
    @inline(__always)
    package func int64(_ i: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(truncatingIfNeeded: i))
    }

    /// Column `i` of the current row as a double (SQLite converts other classes).
    @inline(__always)
    package func double(_ i: Int) -> Double {
        sqlite3_column_double(handle, Int32(truncatingIfNeeded: i))
    }

    /// The UTF-8 bytes of column `i` in the current row, without copying; numbers are
    /// converted to their text first, NULL gives an empty buffer. Valid until the next
    /// `step()`, `reset()` or read of this column.
    @inline(__always)
    package func text(_ i: Int) -> UnsafeRawBufferPointer {
        let column = Int32(truncatingIfNeeded: i)
        // The pointer first, then the length: the order SQLite documents for a stable answer.
        let start = sqlite3_column_text(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
    }

    /// The bytes of column `i` in the current row, without copying; numbers are converted to
    /// their text first, NULL gives an empty buffer. Valid until the next `step()`,
    /// `reset()` or read of this column.
    @inline(__always)
    package func blob(_ i: Int) -> UnsafeRawBufferPointer {
        let column = Int32(truncatingIfNeeded: i)
        let start = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
    }

    /// Column `i` of the current row as a string (a copy), nil for NULL.
    package func string(_ i: Int) -> String? {
        storageClass(i) == .null ? nil : String(decoding: text(i), as: UTF8.self)
    }

    // MARK: Parameters

    /// The number of parameters: the largest index used, so `?5` alone makes five.
    package var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// The name of parameter `i` with its prefix (`:id`, `@id`, `$id`, `?3`); nil for `?`.
    package func parameterName(_ i: Int) -> String? {
        sqlite3_bind_parameter_name(handle, Int32(i + 1)).map { String(cString: $0) }
    }

    /// Binds NULL to parameter `i`.
    package func bindNull(_ i: Int) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, try parameter(i)))
    }

    /// Binds an integer to parameter `i`.
    package func bind(_ i: Int, int64 value: Int64) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, try parameter(i), value))
    }

    /// Binds a double to parameter `i`.
    package func bind(_ i: Int, double value: Double) throws(SQLiteError) {
        try check(sqlite3_bind_double(handle, try parameter(i), value))
    }

    /// Binds text, given as UTF-8 bytes that SQLite copies, to parameter `i`. Empty bytes bind
    /// an empty string, not NULL.
    package func bind(_ i: Int, utf8 bytes: UnsafeRawBufferPointer) throws(SQLiteError) {
        try check(bindText(try parameter(i), bytes))
    }

    /// Binds a string to parameter `i`.
    package func bind(_ i: Int, text: String) throws(SQLiteError) {
        let index = try parameter(i)
        var text = text
        try check(text.withUTF8 { bindText(index, UnsafeRawBufferPointer($0)) })
    }

    private func bindText(_ index: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        if let base = bytes.baseAddress, bytes.count > 0 {
            return sqlite3_bind_text64(handle, index, base.assumingMemoryBound(to: CChar.self), UInt64(bytes.count),
                                       swift_sqlite_transient(), UInt8(SQLITE_UTF8))
        }
        // A null pointer would bind NULL; any valid pointer with length 0 binds ''.
        return sqlite3_bind_text64(handle, index, "", 0, swift_sqlite_transient(), UInt8(SQLITE_UTF8))
    }

    /// Binds bytes, which SQLite copies, as a blob to parameter `i`. Empty bytes bind an empty
    /// blob, not NULL.
    package func bind(_ i: Int, blob bytes: UnsafeRawBufferPointer) throws(SQLiteError) {
        let index = try parameter(i)
        if let base = bytes.baseAddress, bytes.count > 0 {
            try check(sqlite3_bind_blob64(handle, index, base, UInt64(bytes.count), swift_sqlite_transient()))
        } else {
            try check(sqlite3_bind_zeroblob(handle, index, 0))
        }
    }

    private func parameter(_ i: Int) throws(SQLiteError) -> Int32 {
        guard i >= 0, i < Int(Int32.max) else {
            throw SQLiteError(extendedCode: SQLITE_RANGE, message: "parameter index \(i) is out of range")
        }
        return Int32(i + 1)
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw SQLiteError(rc, sqlite3_db_handle(handle)) }
    }
}

extension SQLiteConnection {
    /// The SQLite library's version, like `3.40.1`.
    package static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// The keywords of SQLite's SQL dialect.
    package static var keywords: [String] {
        (0..<sqlite3_keyword_count()).compactMap { index in
            var name: UnsafePointer<CChar>?
            var length: Int32 = 0
            guard sqlite3_keyword_name(index, &name, &length) == SQLITE_OK, let name else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: name, count: Int(length)), as: UTF8.self)
        }
    }
}
