import ArrowCore
import FlightSQL

/// How SQLite columns become Arrow types.
///
/// SQLite types values, not columns: a column's declared type only gives it an affinity, and
/// any row may hold any storage class. Arrow needs one type per column before the first batch,
/// so a column gets the type its declaration implies when there is one, and otherwise the type
/// its first rows' values imply (see `inferSchema`). `SQLiteBatchReader` then converts or
/// rejects the values that do not fit.
package enum SQLiteTypeMapping {
    /// The Arrow type a declared SQLite type implies, by SQLite's affinity rules (substrings of
    /// the upper-cased name, in SQLite's order), or nil when only the values can tell:
    ///
    /// | declared type contains | Arrow type |
    /// |---|---|
    /// | `INT` | `int64` |
    /// | `BOOL` | `bool` (SQLite stores 0 and 1) |
    /// | `CHAR`, `CLOB`, `TEXT` | `utf8` |
    /// | `BLOB` | `binary` |
    /// | `REAL`, `FLOA`, `DOUB` | `float64` |
    /// | `DATE`, `TIME` (`DATE`, `DATETIME`, `TIMESTAMP`, ...) | `utf8`: SQLite has no date type and its date functions read and write text |
    /// | anything else (`NUMERIC`, `DECIMAL`, no type) | nil |
    ///
    /// `INT` wins over everything, as in SQLite (`POINT` is an integer column there too).
    package static func arrowType(declared: String?) -> DataType? {
        guard let declared else { return nil }
        let name = declared.uppercased()
        if name.contains("INT") { return .int64 }
        if name.contains("BOOL") { return .bool }
        if name.contains("CHAR") || name.contains("CLOB") || name.contains("TEXT") { return .utf8 }
        if name.contains("BLOB") { return .binary }
        if name.contains("REAL") || name.contains("FLOA") || name.contains("DOUB") { return .float64 }
        if name.contains("DATE") || name.contains("TIME") { return .utf8 }
        return nil
    }

    /// The Arrow schema of `statement`'s result: one nullable field per column, named by
    /// `columnName` (duplicates kept, as Arrow allows), typed by the declared type where
    /// `arrowType(declared:)` maps it.
    ///
    /// The other columns are typed from the storage classes in up to `sampleRows` rows, which
    /// this steps through with the parameters as bound, then resets (keeping the bindings):
    /// only INTEGER gives `int64`; INTEGER and REAL `float64`; any TEXT `utf8`; any BLOB
    /// `binary`; only NULL, or no rows, the `null` type. A query whose types are all declared is
    /// never stepped.
    ///
    /// Without a sample the untyped columns are `utf8`, the one type every value but a blob
    /// converts to. That is the case for `sampleRows: 0`, for callers who would rather not run
    /// an expensive query's first rows twice, and always for a statement that writes
    /// (INSERT ... RETURNING), which stepping here would make change the database twice.
    package static func inferSchema(_ statement: SQLiteStatement, sampleRows: Int = 1024) throws(SQLiteError) -> Schema {
        let count = statement.columnCount
        let declared = (0..<count).map { arrowType(declared: statement.declaredType($0)) }
        let untyped = declared.indices.filter { declared[$0] == nil }
        var seen = [StorageClasses](repeating: [], count: count)
        let sample = statement.isReadOnly && !untyped.isEmpty && sampleRows > 0
        if sample {
            defer { statement.reset() }
            var rows = 0
            while rows < sampleRows, try statement.step() {
                for i in untyped { seen[i].insert(StorageClasses(statement.storageClass(i))) }
                rows += 1
            }
        }
        return Schema((0..<count).map { i in
            let type = declared[i] ?? (sample ? seen[i].arrowType : .utf8)
            return Field(statement.columnName(i), type, nullable: true)
        })
    }
}

extension SQLiteTypeMapping {
    /// The narrowest type every storage class in `classes` converts to without loss: only
    /// INTEGER gives `int64`; INTEGER and REAL `float64`; any TEXT `utf8`; any BLOB `binary`;
    /// only NULL, or nothing, the `null` type.
    package static func valueType(of classes: some Sequence<SQLiteStorageClass>) -> DataType {
        var seen: StorageClasses = []
        for storage in classes { seen.insert(StorageClasses(storage)) }
        return seen.arrowType
    }
}

/// The set of storage classes seen in one column.
private struct StorageClasses: OptionSet {
    let rawValue: UInt8
    static let integer = StorageClasses(rawValue: 1)
    static let real = StorageClasses(rawValue: 2)
    static let text = StorageClasses(rawValue: 4)
    static let blob = StorageClasses(rawValue: 8)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ storage: SQLiteStorageClass) {
        switch storage {
        case .integer: self = .integer
        case .real: self = .real
        case .text: self = .text
        case .blob: self = .blob
        case .null: self = []
        }
    }

    /// The narrowest type every class seen converts to without loss.
    var arrowType: DataType {
        if contains(.blob) { return .binary }
        if contains(.text) { return .utf8 }
        if contains(.real) { return .float64 }
        if contains(.integer) { return .int64 }
        return .null
    }
}
