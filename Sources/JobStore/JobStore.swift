import Foundation
import TurboServeDomain

/// The durable record of every job: what the gateway creates, what workers claim and advance, what the API reads.
///
/// Who owns what (the rule every role keeps; `docs/architecture.md` says the same):
/// - The store owns a job's record: its state, its attempts, who holds it and until when (the lease). Nothing
///   else counts attempts or decides who may write. Lease times come from the store's clock, never the caller's.
/// - A worker holds a job from `claim` until the job ends or the worker gives it back. Every write a worker makes
///   (`advance`, `complete`, `fail`, `retry`, `release`) is fenced: it succeeds only while that worker holds the
///   job, so a result is delivered at most once. A refused write (`job_not_held`) means "you lost it" (cancelled,
///   expired, taken over): the worker drops the job at once.
/// - Two ways back: `retry` keeps the job with the same worker, queued in its own plan again (an engine restart, a
///   split batch, a preemption), counting an attempt when the reason is a fault (`countsAsAttempt`); `release`
///   returns it to the shared queue for any worker (drain, shutdown), counting nothing. Past `maxAttempts` a
///   retry fails the job with the retry's code.
/// - `heartbeat` renews every lease a worker holds and says which of the jobs it believes it holds it lost.
///   `rescueExpired` (run by any process, at any time) returns jobs whose lease ran out to the shared queue, one
///   attempt more for a job that had started; `releaseHeld` does the same at once for a restarted worker's jobs.
///
/// Contract (checked by one suite against every backend):
/// - `create` is atomic. With an idempotency key, a second create by the same tenant with the same key returns the
///   first job (`created == false`) when the request is identical and throws `conflict` when it differs. With
///   `NewJob.maxQueued`, it throws `queue_full` and stores nothing when that many jobs are queued (the count and
///   the insert are one atomic step, so concurrent creates never overshoot the bound); with
///   `NewJob.maxQueuedPerTenant`, likewise `tenant_queue_full` counting only the job's tenant.
/// - Transitions follow `JobState.Phase.allowedNext`; an illegal one throws `conflict` and changes nothing.
///   Every accepted transition appends one `StoredJobEvent`.
/// - `claim` hands each queued, unheld job to at most one worker, in `ClaimOrder`: priority class first (strictly),
///   then jobs for the claimer's resident models or past the affinity wait bound, then tenant fair share across
///   the fleet (counting the jobs every worker holds), then oldest first.
/// - No record is ever removed: retention deletes files (`markExpired`), a client's delete deletes files and marks
///   the record deleted (`markDeleted`), which `list` and `expirable` then skip.
/// - Implementations are safe to call concurrently from any task and from several processes sharing a database.
public protocol JobStore: Sendable {
    func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool)
    func get(_ id: JobID) async throws -> JobRecord?
    func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage

    /// Up to `limit` queued, unheld jobs, now held by `worker` until the store's now + `lease`, in `ClaimOrder` for
    /// `preferences` (what the worker holds, the affinity wait bound, the tenants' weights). Jobs another claimer
    /// is taking at the same moment are skipped, never waited for.
    func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord]
    /// Moves a held job to `to` (a non-terminal state), recording the event.
    func advance(_ id: JobID, worker: String, to: JobState, reason: String?) async throws -> JobRecord
    func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord
    func fail(_ id: JobID, worker: String, code: String, message: String) async throws -> JobRecord
    /// The holder plans the job again: `queued`, still held by `worker`. One attempt more when the reason's code
    /// counts (`TurboServeError.Code.countsAsAttempt`); failed with that code once the attempts reach `maxAttempts`.
    func retry(_ id: JobID, worker: String, reason: TurboServeError, maxAttempts: Int) async throws -> JobRecord
    /// The holder gives the job back to the shared queue (`queued`, unheld, no attempt counted).
    func release(_ id: JobID, worker: String, reason: String) async throws -> JobRecord
    /// Renews the lease of every unfinished job of `holding` that `worker` still holds to the store's now + `lease`,
    /// records the worker's `activity` (the fleet view), and returns which of `holding` the worker no longer holds
    /// and the incarnation of the heartbeat it replaced (`Heartbeat.previousIncarnation`).
    /// A job the store shows held by `worker` but missing from `holding` is not renewed: the worker does not know it
    /// holds it (a claim committed after its answer was lost to a hung or partitioned database), so its lease runs
    /// out and the rescuer gives it back to the queue instead of it staying held by nobody working on it.
    func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat
    /// Cancels a non-terminal job for its client (whoever holds it); returns the record (unchanged if it had
    /// already finished), nil for an unknown id.
    func cancel(_ id: JobID) async throws -> JobRecord?
    /// The rescuer: every held, unfinished job whose lease ended before the store's now goes back to the shared
    /// queue (one attempt more if it had started; failed `lease_expired` past `maxAttempts`). Returns their ids.
    func rescueExpired(maxAttempts: Int) async throws -> [JobID]
    /// Every job `worker` (nil: any worker) holds goes back to the shared queue as if its lease had run out: a
    /// restarted worker with a stable id recovers its jobs at once; a single node recovers all at start-up.
    func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID]

    /// The last heartbeat of every worker seen, newest first.
    func workers() async throws -> [WorkerHeartbeat]

    /// Retention: up to `limit` finished jobs completed before `cutoff` whose files were not expired yet, oldest
    /// completion first.
    func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord]
    /// Retention deleted job `id`'s files: records `expiredAt` and clears the artifact paths; the record stays.
    /// Throws `not_found` for an unknown id and `conflict` for an unfinished job; idempotent otherwise.
    func markExpired(_ id: JobID) async throws -> JobRecord

    /// Its client deleted finished job `id` (the caller removes the files): records `deletedAt` and clears the
    /// artifact paths; `get` still returns the record, `list` and `expirable` skip it from then on. Throws
    /// `not_found` for an unknown id and `conflict` for an unfinished job; idempotent otherwise.
    func markDeleted(_ id: JobID) async throws -> JobRecord

    func events(of id: JobID) async throws -> [StoredJobEvent]
    /// Jobs in phase `queued` per priority class and model, claimed or not (a claimed job that has not started
    /// still waits): the queue-depth gauge, per model for the autoscaler.
    func countQueued() async throws -> [QueuedKey: Int]
    /// Number of jobs per phase (for metrics and readiness).
    func countByPhase() async throws -> [JobState.Phase: Int]
}

/// A slice of the queue: one priority class, one model.
public struct QueuedKey: Sendable, Hashable {
    public var priority: PriorityClass
    public var model: String

    public init(priority: PriorityClass, model: String) {
        self.priority = priority
        self.model = model
    }
}

extension JobStore {
    /// A claim with no resident models, no affinity bound and every tenant weighing 1 (class, fair share, age).
    public func claim(worker: String, limit: Int, lease: Duration) async throws -> [JobRecord] {
        try await claim(worker: worker, limit: limit, lease: lease, preferences: ClaimPreferences())
    }

    /// Queued jobs per priority class, summed over models.
    public func countQueuedByClass() async throws -> [PriorityClass: Int] {
        try await countQueued().reduce(into: [:]) { $0[$1.key.priority, default: 0] += $1.value }
    }
}

/// What a heartbeat learned: the leases renewed, and the jobs the worker believed it held but no longer does.
public struct Heartbeat: Sendable, Hashable {
    public var renewed: Int
    /// Each lost job with its record as the store has it now (nil: no such job).
    public var lost: [JobID: JobRecord?]
    /// The `EngineActivity.incarnation` of the heartbeat this one replaced under the same worker id (nil: none
    /// before, or it carried none). A worker that finds another incarnation than its own between two of its beats
    /// shares its id with another live process.
    public var previousIncarnation: String?

    public init(renewed: Int, lost: [JobID: JobRecord?], previousIncarnation: String? = nil) {
        self.renewed = renewed
        self.lost = lost
        self.previousIncarnation = previousIncarnation
    }
}

/// A worker's last heartbeat as the store recorded it (store clock), with what it reported.
public struct WorkerHeartbeat: Sendable, Hashable, Codable {
    public var worker: String
    public var at: Date
    public var activity: EngineActivity?

    public init(worker: String, at: Date, activity: EngineActivity?) {
        self.worker = worker
        self.at = at
        self.activity = activity
    }
}
