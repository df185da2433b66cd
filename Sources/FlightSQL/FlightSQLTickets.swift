import FlightRPC
import Foundation

/// The tickets of statement results. Flight SQL clients redeem them as `TicketStatementQuery`:
/// a `FlightManager`'s ticket travels inside as the statement handle.
package enum FlightSQLTickets {
    /// `info` with every endpoint's ticket wrapped in a `TicketStatementQuery`.
    package static func wrap(_ info: FlightInfo) -> FlightInfo {
        var wrapped = info
        wrapped.endpoints = info.endpoints.map { endpoint in
            var ticket = TicketStatementQuery()
            ticket.statementHandle = Data(endpoint.ticket.bytes)
            var copy = endpoint
            copy.ticket = Ticket(FlightSQLAny.pack(ticket))
            return copy
        }
        return wrapped
    }

    /// `info` with the manager's own tickets back (a client's CancelFlightInfo sends them wrapped).
    package static func unwrap(_ info: FlightInfo) -> FlightInfo {
        var unwrapped = info
        unwrapped.endpoints = info.endpoints.map { endpoint in
            var copy = endpoint
            if let any = try? FlightSQLAny.decode(endpoint.ticket.bytes),
               let ticket = try? FlightSQLAny.unpack(any, as: TicketStatementQuery.self) {
                copy.ticket = Ticket([UInt8](ticket.statementHandle))
            }
            return copy
        }
        return unwrapped
    }
}
