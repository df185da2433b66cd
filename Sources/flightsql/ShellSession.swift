import ArrowCore
import FlightDataSource
import FlightRPC
import FlightSQL
import Foundation

/// A failure of the shell itself (a bad command or argument), as opposed to one the server
/// reported.
struct ShellError: Error, CustomStringConvertible {
    /// What went wrong, for the user.
    let description: String

    /// An error saying `description`.
    init(_ description: String) { self.description = description }
}

/// Runs requests against one server and writes their results to standard output, keeping
/// the settings that commands change.
struct ShellSession {
    /// Whether the shell goes on after a request.
    enum Next: Equatable {
        /// Read the next request.
        case proceed
        /// `\q`: stop.
        case quit
    }

    /// The server's client.
    let client: FlightSQLClient
    /// How rows are written; `\format` changes it.
    var format: OutputFormat
    /// Whether a query's row count is followed by the time it took; `\timing` changes it.
    var timing = true
    /// Where query results go instead of standard output (`--out`): a file written by its
    /// extension (.arrows, .arrow or .parquet), the result's endpoints read in parallel.
    var output: String?
    /// Endpoints read at once (`--parallel`).
    var parallel = 8

    /// A session on `client` writing rows in `format`.
    init(client: FlightSQLClient, format: OutputFormat) {
        self.client = client
        self.format = format
    }

    /// What `\help` prints.
    static let help = """
        Statements end with `;` at the end of a line and may span lines.
        \\tables [PATTERN]       tables (PATTERN is SQL LIKE: % and _)
        \\describe TABLE         the columns of TABLE
        \\catalogs               catalogs
        \\schemas                database schemas
        \\format table|csv|json  how rows are written
        \\timing on|off          whether queries show the time they took
        \\help                   this text
        \\q                      quit (Ctrl-D too)
        """

    /// Runs one request. Errors (from the server or the shell) are thrown for the caller to
    /// report; the session stays usable.
    mutating func handle(_ request: ShellRequest) async throws -> Next {
        switch request {
        case .statement(let sql):
            try await run(sql)
        case .command(let name, let argument):
            return try await command(name, argument)
        }
        return .proceed
    }

    /// Reads `info`'s endpoints in parallel, in endpoint order, into the file at `path`,
    /// with the progress on standard error when it is a terminal.
    private func save(_ info: FlightInfo, to path: String) async throws {
        let reader = client.reader(info, options: FlightReadOptions(parallelism: parallel, ordered: true))
        let progress = ProgressLine(reader)
        defer { progress.stop() }
        let (rows, _) = try await reader.write(to: path)
        progress.finish()
        Console.write("wrote \(self.rows(Int64(rows))) to \(path)\(ProgressLine.failoverNote(reader.progress))\n")
    }

    /// Plans `sql`, reads every batch of its result and writes it. The time covers both,
    /// since the gateway runs short queries and all DML while planning.
    private func run(_ sql: String) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let info = try await client.execute(sql)
        if let output, !info.schema.fields.isEmpty || !info.endpoints.isEmpty {
            try await save(info, to: output)
            return
        }
        let batches = try await client.readAll(info)
        let elapsed = clock.now - start
        let schema = batches.first?.schema ?? info.schema
        if schema.fields.isEmpty {
            var status = info.totalRecords >= 0 ? "OK, \(rows(info.totalRecords)) affected" : "OK"
            if timing { status += " in \(milliseconds(elapsed))" }
            Console.write(status + "\n")
        } else {
            write(batches, schema: schema, elapsed: timing ? elapsed : nil)
        }
    }

    /// Writes rows in the current format; the table format ends with the row count (and the
    /// time, when given).
    private func write(_ batches: [RecordBatch], schema: Schema, elapsed: Duration? = nil) {
        var text = format.render(batches, schema: schema)
        if format == .table {
            text += "(\(rows(batches.reduce(0) { $0 + Int64($1.length) })))"
            if let elapsed { text += " in \(milliseconds(elapsed))" }
            text += "\n"
        }
        Console.write(text)
    }

    private mutating func command(_ name: String, _ argument: String) async throws -> Next {
        switch name {
        case "q":
            return .quit
        case "help":
            Console.write(Self.help + "\n")
        case "format":
            guard let format = OutputFormat(rawValue: argument) else { throw ShellError("usage: \\format table|csv|json") }
            self.format = format
        case "timing":
            switch argument {
            case "on": timing = true
            case "off": timing = false
            default: throw ShellError("usage: \\timing on|off")
            }
        case "tables":
            try await tables(pattern: argument.isEmpty ? nil : argument)
        case "describe":
            guard !argument.isEmpty else { throw ShellError("usage: \\describe TABLE") }
            try await describe(argument)
        case "catalogs":
            let names = StringBuilder()
            for catalog in try await client.catalogs() { try names.append(catalog) }
            try write(RecordBatch(["catalog": names.finish()]))
        case "schemas":
            let catalogs = StringBuilder(), names = StringBuilder()
            for schema in try await client.dbSchemas() {
                try catalogs.append(schema.catalog)
                try names.append(schema.name)
            }
            try write(RecordBatch(["catalog": catalogs.finish(), "schema": names.finish()]))
        default:
            throw ShellError("unknown command \\\(name) (\\help lists the commands)")
        }
        return .proceed
    }

    private func write(_ batch: RecordBatch) {
        write([batch], schema: batch.schema)
    }

    private func tables(pattern: String?) async throws {
        let names = StringBuilder(), types = StringBuilder(), schemas = StringBuilder()
        for table in try await client.tables(tablePattern: pattern) {
            try names.append(table.name)
            try types.append(table.type)
            try schemas.append(table.dbSchema)
        }
        try write(RecordBatch(["name": names.finish(), "type": types.finish(), "schema": schemas.finish()]))
    }

    /// The columns of every table named exactly `table`. GetTables only takes a LIKE pattern,
    /// in which `_` matches any character, so the rows are filtered by name here.
    private func describe(_ table: String) async throws {
        let matches = try await client.tables(tablePattern: table, includeSchema: true).filter { $0.name == table }
        guard !matches.isEmpty else { throw ShellError("no table named \(table)") }
        for match in matches {
            guard let schema = match.schema else { throw ShellError("the server sent no schema for \(table)") }
            let names = StringBuilder(), types = StringBuilder(), nullable = BooleanBuilder(), sqlTypes = StringBuilder()
            for field in schema.fields {
                try names.append(field.name)
                try types.append(field.type.description)
                nullable.append(field.nullable)
                try sqlTypes.append(field.metadata["ARROW:FLIGHT:SQL:TYPE_NAME"])
            }
            // Several matches are the same name in different schemas; say which is which.
            if matches.count > 1 {
                Console.write([match.catalog, match.dbSchema, match.name].compactMap { $0 }.joined(separator: ".") + ":\n")
            }
            try write(RecordBatch(["column": names.finish(), "type": types.finish(), "nullable": nullable.finish(),
                                    "sql_type": sqlTypes.finish()]))
        }
    }

    private func rows(_ count: Int64) -> String {
        count == 1 ? "1 row" : "\(count) rows"
    }

    private func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f ms", Double(seconds) * 1e3 + Double(attoseconds) / 1e15)
    }
}

/// Standard output and error. Output goes through C stdio, like libedit's prompt, and is
/// flushed after each write so results appear before the next prompt or error.
enum Console {
    /// Writes `text` to standard output and flushes it.
    static func write(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    /// Writes `error: <message>` and a newline to standard error, after any pending output.
    static func error(_ error: any Error) {
        fflush(nil)
        try? FileHandle.standardError.write(contentsOf: Data("error: \(message(error))\n".utf8))
    }

    /// The text of `error` for people: a server error's message without its status code.
    static func message(_ error: any Error) -> String {
        switch error {
        case let error as FlightError: error.message
        case let error as ArrowError: error.description
        default: String(describing: error)
        }
    }
}
