import Foundation
import JobStore
import TurboServeDomain

/// Publishes a `JobSignal` to `signals` after each accepted write of `base`, for a store that does not publish its
/// own (the embedded SQLite store): `queued` when a job enters the shared queue (create, release, rescue),
/// `cancelled` on a client's cancel, `changed` on every other write. Reads pass through.
///
/// Transitional: the stores publish their own signals once they take a `LocalJobSignals` (PostgreSQL by NOTIFY in
/// the writing transaction); then this decorator goes. Thread-safety: stateless besides `base` and `signals`.
struct SignallingJobStore: JobStore {
    let base: any JobStore
    let signals: LocalJobSignals

    func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) {
        let result = try await base.create(job)
        if result.created { signals.publish(.queued(result.record.id)) }
        return result
    }

    func get(_ id: JobID) async throws -> JobRecord? { try await base.get(id) }
    func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage {
        try await base.list(tenant: tenant, after: cursor, limit: limit, order: order)
    }

    func claim(worker: String, limit: Int, lease: Duration) async throws -> [JobRecord] {
        published(try await base.claim(worker: worker, limit: limit, lease: lease))
    }

    func advance(_ id: JobID, worker: String, to: JobState, reason: String?) async throws -> JobRecord {
        try changed(try await base.advance(id, worker: worker, to: to, reason: reason))
    }

    func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord {
        try changed(try await base.complete(id, worker: worker, videoPath: videoPath, thumbnailPath: thumbnailPath))
    }

    func fail(_ id: JobID, worker: String, code: String, message: String) async throws -> JobRecord {
        try changed(try await base.fail(id, worker: worker, code: code, message: message))
    }

    func retry(_ id: JobID, worker: String, reason: TurboServeError, maxAttempts: Int) async throws -> JobRecord {
        try changed(try await base.retry(id, worker: worker, reason: reason, maxAttempts: maxAttempts))
    }

    func release(_ id: JobID, worker: String, reason: String) async throws -> JobRecord {
        let record = try await base.release(id, worker: worker, reason: reason)
        signals.publish(.queued(id))
        return record
    }

    func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat {
        try await base.heartbeat(worker: worker, holding: holding, lease: lease, activity: activity)
    }

    func cancel(_ id: JobID) async throws -> JobRecord? {
        let record = try await base.cancel(id)
        if record != nil { signals.publish(.cancelled(id)) }
        return record
    }

    func rescueExpired(maxAttempts: Int) async throws -> [JobID] {
        requeued(try await base.rescueExpired(maxAttempts: maxAttempts))
    }

    func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID] {
        requeued(try await base.releaseHeld(by: worker, maxAttempts: maxAttempts))
    }

    func workers() async throws -> [WorkerHeartbeat] { try await base.workers() }
    func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord] { try await base.expirable(finishedBefore: cutoff, limit: limit) }
    func markExpired(_ id: JobID) async throws -> JobRecord { try await base.markExpired(id) }
    func markDeleted(_ id: JobID) async throws -> JobRecord { try changed(try await base.markDeleted(id)) }
    func events(of id: JobID) async throws -> [StoredJobEvent] { try await base.events(of: id) }
    func countQueued() async throws -> [QueuedKey: Int] { try await base.countQueued() }
    func countByPhase() async throws -> [JobState.Phase: Int] { try await base.countByPhase() }

    private func changed(_ record: JobRecord) throws -> JobRecord {
        signals.publish(.changed(record.id))
        return record
    }

    private func published(_ records: [JobRecord]) -> [JobRecord] {
        for record in records { signals.publish(.changed(record.id)) }
        return records
    }

    private func requeued(_ ids: [JobID]) -> [JobID] {
        for id in ids { signals.publish(.queued(id)) }
        return ids
    }
}
