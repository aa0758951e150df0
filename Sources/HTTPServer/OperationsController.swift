import Foundation
import Hummingbird
import JobStore
import TurboServeDomain

/// `GET /v1/operations`: the operations view's data (see `OperationsReport`). Reads the newest `window` records of
/// the store (every tenant) and the fleet's workers through `workers` (the store's heartbeats), so this module
/// never depends on the worker's types.
struct OperationsController<Context: RequestContext>: Sendable {
    let store: any JobStore
    let workers: @Sendable () async throws -> [WorkerHeartbeat]
    var window = 1_000

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("operations") { request, context in
            try await VideoController<Context>.translatingErrors {
                let report = OperationsReport(
                    records: try await newestRecords(), queueDepth: try await store.countQueuedByClass(),
                    workers: try await workers(), now: Date())
                return try JSONCoding.encoder.encode(report, from: request, context: context)
            }
        }
    }

    /// Up to `window` records, newest first, a page at a time.
    func newestRecords() async throws -> [JobRecord] {
        var records: [JobRecord] = []
        var cursor: JobID?
        while records.count < window {
            let page = try await store.list(tenant: nil, after: cursor, limit: min(100, window - records.count), order: .newestFirst)
            records += page.jobs
            guard page.hasMore, let last = page.jobs.last else { break }
            cursor = last.id
        }
        return records
    }
}
