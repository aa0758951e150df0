import Foundation
import TurboServeDomain

/// The durable record of every job: what the gateway creates, what workers claim and advance, what the API reads.
///
/// Contract (checked by one suite against every backend):
/// - `create` is atomic. With an idempotency key, a second create by the same tenant with the same key returns the
///   first job (`created == false`) when the request is identical and throws `conflict` when it differs. With
///   `NewJob.maxQueued`, it throws `queue_full` and stores nothing when that many jobs are queued (the count and
///   the insert are one atomic step, so concurrent creates never overshoot the bound); with
///   `NewJob.maxQueuedPerTenant`, likewise `tenant_queue_full` counting only the job's tenant.
/// - Transitions follow `JobState.Phase.allowedNext`; an illegal one throws `conflict` and changes nothing.
///   Every accepted transition appends one `StoredJobEvent`.
/// - Ownership is fenced: `advance`, `complete` and `fail` by a worker succeed only while that worker holds the job
///   (its claim was not requeued or cancelled meanwhile), so a result is delivered at most once.
/// - `claim` hands each queued job to at most one worker (oldest first within priority order) and sets its lease;
///   `requeueExpired` returns jobs whose lease ran out to `queued` (attempts + 1) or fails them when out of
///   attempts. Nothing is ever deleted except by retention, which deletes files, never records.
/// - Implementations are safe to call concurrently from any task.
public protocol JobStore: Sendable {
    func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool)
    func get(_ id: JobID) async throws -> JobRecord?
    func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage

    /// Up to `limit` queued jobs, now owned by `worker` until `leaseUntil`.
    func claim(worker: String, limit: Int, leaseUntil: Date) async throws -> [JobRecord]
    /// Gives back a claimed job that has not started (still `queued`), so another claim can take it.
    func unclaim(_ id: JobID, worker: String) async throws
    /// Extends the leases of every non-terminal job `worker` holds.
    func renewLeases(worker: String, until: Date) async throws
    /// Moves an owned job to `to` (a non-terminal state), recording the event.
    func advance(_ id: JobID, worker: String, to: JobState, reason: String?) async throws -> JobRecord
    func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord
    func fail(_ id: JobID, worker: String?, code: String, message: String) async throws -> JobRecord
    /// Gives an owned job back to the queue (engine lost, shutdown): attempts + 1, or failed past `maxAttempts`.
    func requeue(_ id: JobID, worker: String, reason: String, maxAttempts: Int) async throws -> JobRecord
    /// Cancels a non-terminal job; returns the record (unchanged if it had already finished).
    func cancel(_ id: JobID) async throws -> JobRecord?
    /// Requeues (or fails, past `maxAttempts`) every non-terminal, non-queued job whose lease ended before `now`;
    /// with `worker`, every job that worker held regardless of lease (recovery after a restart). Returns their ids.
    func requeueExpired(now: Date, worker: String?, maxAttempts: Int) async throws -> [JobID]

    /// Retention: up to `limit` finished jobs completed before `cutoff` whose files were not expired yet, oldest
    /// completion first.
    func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord]
    /// Retention deleted job `id`'s files: records `expiredAt` and clears the artifact paths; the record stays.
    /// Throws `not_found` for an unknown id and `conflict` for an unfinished job; idempotent otherwise.
    func markExpired(_ id: JobID) async throws -> JobRecord

    func events(of id: JobID) async throws -> [StoredJobEvent]
    /// Queued jobs per priority class (the queue-depth gauge).
    func countQueuedByClass() async throws -> [PriorityClass: Int]
    /// Number of jobs per phase (for metrics and readiness).
    func countByPhase() async throws -> [JobState.Phase: Int]
}
