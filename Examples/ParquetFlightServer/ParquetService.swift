import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import Parquet

/// The Flight service of `parquet-flight-server`: the Parquet files under a root, each file and
/// each directory of them a dataset, read as pull partitions of row groups that every member
/// of the cluster serves.
struct ParquetService: FlightService {
    let root: DatasetRoot
    let manager: any FlightManager
    /// The uncompressed bytes an endpoint aims at.
    let partitionBytes: Int64

    private func query(_ descriptor: FlightDescriptor) throws(FlightError) -> (DatasetRequest, DatasetPlan) {
        let request = try DatasetRequest(descriptor)
        return (request, try root.plan(request, targetBytes: partitionBytes))
    }

    func getFlightInfo(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> FlightInfo {
        let (_, plan) = try query(descriptor)
        var info = try await manager.distribute(PlannedDataset(plan: plan), for: descriptor)
        info.totalRecords = plan.rowsExact ? plan.rows : -1
        info.totalBytes = plan.bytes
        return info
    }

    func getSchema(_ descriptor: FlightDescriptor, context: FlightCallContext) async throws -> Schema {
        try query(descriptor).1.schema
    }

    func listFlights(criteria: [UInt8], responses: FlightResponseWriter<FlightInfo>, context: FlightCallContext) async throws {
        for dataset in root.datasets() {
            let descriptor = FlightDescriptor.path(dataset == "." ? ["."] : [dataset])
            // A file that cannot be read, or a directory of files that disagree, is left out.
            guard let plan = try? root.plan(DatasetRequest(descriptor), targetBytes: partitionBytes) else { continue }
            try await responses.send(FlightInfo(schema: plan.schema, descriptor: descriptor, endpoints: [],
                                                totalRecords: plan.rows, totalBytes: plan.bytes))
        }
    }

    func doGet(_ ticket: Ticket, writer: FlightRecordBatchWriter, context: FlightCallContext) async throws {
        try await manager.stream(ticket, to: writer, context: context)
    }

    /// DoPut with a path descriptor: the upload becomes a Parquet file (zstd) under the root,
    /// written beside it and renamed into place once complete.
    func doPut(_ reader: FlightRecordBatchReader, results: FlightResponseWriter<PutResult>, context: FlightCallContext) async throws {
        guard case .path(let elements) = reader.descriptor, !elements.isEmpty else {
            throw FlightError(.invalidArgument, "DoPut needs a path descriptor: the file to write")
        }
        let name = elements.joined(separator: "/")
        guard name.hasSuffix(".parquet") else { throw FlightError(.invalidArgument, "an upload's name must end in .parquet") }
        let target = try root.locate(name, mustExist: false)
        guard let schema = try await reader.schema() else { throw FlightError(.invalidArgument, "the upload has no schema") }
        let temporary = (target as NSString).deletingLastPathComponent + "/.upload-\(UUID().uuidString).parquet"
        var rows = 0
        do {
            let writer = try ParquetWriter(path: temporary, schema: schema, options: ParquetWriteOptions(compression: .zstd))
            for try await batch in reader {
                try writer.write(batch)
                rows += batch.length
            }
            try writer.finish()
            guard rename(temporary, target) == 0 else {
                throw FlightError(.internal, "cannot move the upload into place: \(String(cString: strerror(errno)))")
            }
        } catch let error as ParquetError {
            unlink(temporary)
            throw FlightError(.invalidArgument, "the upload cannot be written as Parquet: \(error.message)")
        } catch {
            unlink(temporary)
            throw error
        }
        try await results.send(PutResult(appMetadata: Array("{\"rows\": \(rows)}".utf8)))
    }

    func doAction(_ action: Action, results: FlightResponseWriter<FlightResult>, context: FlightCallContext) async throws {
        guard action.type == FlightStandardAction.cancelFlightInfo else {
            throw FlightError(.invalidArgument, "unknown action '\(action.type)'")
        }
        let status = await manager.cancel(try FlightStandardAction.cancelFlightInfoRequest(action))
        try await results.send(FlightStandardAction.result(status))
    }

    func listActions(context: FlightCallContext) async throws -> [ActionType] {
        [ActionType(type: FlightStandardAction.cancelFlightInfo, description: "Cancel a planned read")]
    }
}

/// A planned dataset read as a distributed query: one pull partition per task, spread by the
/// manager over the live members, each with the others as fallbacks.
struct PlannedDataset: DistributedQuery {
    let plan: DatasetPlan
    var schema: Schema { plan.schema }

    func partitions(over members: [NodeInfo]) async throws -> [QueryPartition] {
        try plan.tasks.map { .pull(try $0.task, nodes: []) }
    }
}
