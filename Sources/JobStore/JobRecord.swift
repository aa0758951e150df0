import Foundation
import TurboServeDomain

/// A job as stored: the validated request, its state and progress, ownership (worker + lease), outcome and
/// artifacts. Value type; a snapshot of one row at the moment it was read.
public struct JobRecord: Sendable, Hashable, Codable {
    public var id: JobID
    public var tenant: TenantID
    public var spec: ValidatedJob
    public var phase: JobState.Phase
    public var stepsCompleted: Int
    /// Engine attempts used so far (a requeue after a crash or an expired lease counts one).
    public var attempts: Int
    /// The worker holding the job (nil while queued or finished).
    public var workerID: String?
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var errorCode: String?
    public var errorMessage: String?
    public var videoPath: String?
    public var thumbnailPath: String?
    public var idempotencyKey: String?
    /// Monotonic insertion order; the cursor of `list`.
    public var sequence: Int64
    /// When retention deleted this finished job's files (the record itself stays); nil while they are kept.
    public var expiredAt: Date?
    /// When its client deleted this finished job (`DELETE /v1/videos/{id}`): its files are gone and the API treats
    /// it as unknown (404); `list` and `expirable` skip it. The record stays (idempotency, history). nil: not deleted.
    public var deletedAt: Date? = nil

    public var state: JobState {
        switch phase {
        case .queued: .queued
        case .admitted: .admitted
        case .denoising: .denoising(completed: stepsCompleted, total: spec.steps)
        case .decoding: .decoding
        case .muxing: .muxing
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }
}

/// What `create` needs: the store assigns sequence and timestamps.
public struct NewJob: Sendable, Hashable {
    public var id: JobID
    public var tenant: TenantID
    public var spec: ValidatedJob
    public var idempotencyKey: String?
    /// The bounded queue: `create` throws `queue_full` (storing nothing) when this many jobs are queued already.
    /// An idempotent replay of an existing job is answered even then. nil: unbounded.
    public var maxQueued: Int?
    /// The per-tenant bound: `create` throws `tenant_queue_full` (storing nothing) when this job's tenant has this
    /// many jobs queued already, counted in the same transaction. nil: no per-tenant bound.
    public var maxQueuedPerTenant: Int?

    public init(id: JobID, tenant: TenantID = .default, spec: ValidatedJob, idempotencyKey: String? = nil, maxQueued: Int? = nil) {
        self.id = id
        self.tenant = tenant
        self.spec = spec
        self.idempotencyKey = idempotencyKey
        self.maxQueued = maxQueued
    }

    /// Throws `queue_full` when `queued` jobs already fill the bound.
    package func checkRoom(queued: Int) throws(TurboServeError) {
        guard let maxQueued, queued >= maxQueued else { return }
        throw TurboServeError(.queueFull, "the queue is full (\(queued) jobs waiting, limits.max_queued_jobs is \(maxQueued)); retry later")
    }

    /// Throws `tenant_queue_full` when the tenant's `queued` jobs already fill its bound.
    package func checkTenantRoom(queued: Int) throws(TurboServeError) {
        guard let maxQueuedPerTenant, queued >= maxQueuedPerTenant else { return }
        throw TurboServeError(.tenantQueueFull, "tenant '\(tenant)' has \(queued) jobs waiting (limits.max_queued_per_tenant is \(maxQueuedPerTenant)); retry when one has started")
    }
}

/// One persisted state change of a job: the history the API and the UI show.
public struct StoredJobEvent: Sendable, Hashable, Codable {
    public var job: JobID
    public var at: Date
    public var from: String
    public var to: String
    public var reasonCode: String?
    public var message: String?

    public init(job: JobID, at: Date, from: String, to: String, reasonCode: String? = nil, message: String? = nil) {
        self.job = job
        self.at = at
        self.from = from
        self.to = to
        self.reasonCode = reasonCode
        self.message = message
    }
}

/// A page of `list`: newest first by default; `nextCursor` is the id to pass as `after` for the next page.
public struct JobPage: Sendable, Hashable {
    public var jobs: [JobRecord]
    public var hasMore: Bool

    package init(jobs: [JobRecord], hasMore: Bool) {
        self.jobs = jobs
        self.hasMore = hasMore
    }

    public var nextCursor: JobID? { hasMore ? jobs.last?.id : nil }
}

public enum ListOrder: String, Sendable, Hashable, CaseIterable {
    case newestFirst = "desc"
    case oldestFirst = "asc"
}

extension JobRecord {
    /// Every field, for a backend decoding a row (the package's own backends only).
    package static func stored(
        id: JobID, tenant: TenantID, spec: ValidatedJob, phase: JobState.Phase, stepsCompleted: Int, attempts: Int,
        workerID: String?, leaseExpiresAt: Date?, createdAt: Date, updatedAt: Date, startedAt: Date?,
        completedAt: Date?, errorCode: String?, errorMessage: String?, videoPath: String?, thumbnailPath: String?,
        idempotencyKey: String?, sequence: Int64, expiredAt: Date?, deletedAt: Date?
    ) -> JobRecord {
        JobRecord(
            id: id, tenant: tenant, spec: spec, phase: phase, stepsCompleted: stepsCompleted, attempts: attempts,
            workerID: workerID, leaseExpiresAt: leaseExpiresAt, createdAt: createdAt, updatedAt: updatedAt,
            startedAt: startedAt, completedAt: completedAt, errorCode: errorCode, errorMessage: errorMessage,
            videoPath: videoPath, thumbnailPath: thumbnailPath, idempotencyKey: idempotencyKey, sequence: sequence,
            expiredAt: expiredAt, deletedAt: deletedAt)
    }
}
