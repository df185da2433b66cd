import Foundation
import FlightSQL
import FlightSQLSQLite

/// A fresh directory for one test's database files, removed with everything in it when the
/// value goes away, so tests run against real files without leaving any behind.
final class TemporaryDatabase {
    let directory: URL
    /// The path of the database file (created by the first writable connection).
    let path: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flightsql-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("test.sqlite").path
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A connection to the database file.
    func open(readOnly: Bool = false, busyTimeout: Duration = .seconds(5)) throws -> SQLiteConnection {
        try SQLiteConnection(path: path, readOnly: readOnly, busyTimeout: busyTimeout)
    }
}

extension SQLiteConnection {
    /// Every row of `sql` as text (nil for NULL), for checking what SQLite holds.
    func rows(_ sql: String) throws -> [[String?]] {
        let statement = try prepare(sql)
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.string($0) })
        }
        return rows
    }
}
