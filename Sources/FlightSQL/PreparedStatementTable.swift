import ArrowCore
import FlightRPC
import Foundation
import Synchronization

/// What an engine keeps of one prepared statement, as ``PreparedStatementTable`` needs it.
package protocol PreparedStatementRecord: Sendable {
    /// The client connection that made it (`FlightCallContext.connectionID`).
    var owner: UInt64 { get }
    /// When a call last used it.
    var lastUsed: ContinuousClock.Instant { get set }
    /// The parameter rows bound to it.
    var parameters: [RecordBatch] { get set }
}

/// The prepared statements of a server by handle: bounded in number, with their bound
/// parameters, dropped with their connection's session or when unused too long.
package final class PreparedStatementTable<Statement: PreparedStatementRecord>: Sendable {
    private let table = Mutex<[Data: Statement]>([:])
    /// Statements kept at most; more are refused with RESOURCE_EXHAUSTED.
    package let maximum: Int

    package init(maximum: Int) { self.maximum = maximum }

    /// Keeps `statement` under a new random handle.
    package func insert(_ statement: Statement) throws(FlightError) -> Data {
        let handle = Data(FlightCrypto.randomBytes(16))
        try table.withLock { table throws(FlightError) in
            guard table.count < maximum else {
                throw FlightError(.resourceExhausted, "too many open prepared statements; close some")
            }
            table[handle] = statement
        }
        return handle
    }

    /// The statement of `handle`, marked used now.
    package func statement(_ handle: Data) throws(FlightError) -> Statement {
        let found = table.withLock { table -> Statement? in
            table[handle]?.lastUsed = .now
            return table[handle]
        }
        guard let found else {
            throw FlightError(.notFound, "unknown prepared statement handle (it may have been closed or unused too long)")
        }
        return found
    }

    /// Forgets `handle`; NOT_FOUND when it is unknown.
    package func remove(_ handle: Data) throws(FlightError) {
        guard table.withLock({ $0.removeValue(forKey: handle) }) != nil else {
            throw FlightError(.notFound, "unknown prepared statement handle")
        }
    }

    /// Binds `batches` to `handle` (replacing what was bound).
    package func bind(_ handle: Data, _ batches: [RecordBatch]) throws(FlightError) {
        try table.withLock { table throws(FlightError) in
            guard table[handle] != nil else { throw FlightError(.notFound, "the prepared statement was closed") }
            table[handle]?.parameters = batches
        }
    }

    /// Forgets every statement matching `condition`; returns how many.
    @discardableResult
    package func removeAll(where condition: (Statement) -> Bool) -> Int {
        table.withLock { table in
            let before = table.count
            table = table.filter { !condition($0.value) }
            return before - table.count
        }
    }

    /// Reads a parameter upload, bounded so that a client cannot fill the server's memory.
    package static func readParameters(_ reader: FlightRecordBatchReader, maximumRows: Int, maximumBytes: Int) async throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        var rows = 0, bytes = 0
        while let batch = try await reader.next() {
            rows += batch.length
            bytes += batch.bufferBytes
            guard rows <= maximumRows, bytes <= maximumBytes else {
                throw FlightError(.resourceExhausted, "more than \(maximumRows) parameter rows or \(maximumBytes >> 20) MiB")
            }
            if batch.length > 0 { batches.append(batch) }
        }
        return batches
    }
}
