import Foundation
import Synchronization
import TurboServeDomain

/// The in-memory twin of the durable stores: the same contract, nothing survives the process. For tests and for
/// components that need a store without a database.
///
/// Thread-safety: all state sits behind one `Mutex`; every method is one critical section, so each call is
/// atomic with respect to the others. Signals (when given) are published after the critical section.
public final class InMemoryJobStore: FencedTransitionStore {
    private struct State {
        var jobs: [JobID: JobRecord] = [:]
        var order: [JobID] = []
        var events: [JobID: [StoredJobEvent]] = [:]
        var idempotency: [String: JobID] = [:]
        var sequence: Int64 = 0
        var workers: [String: WorkerHeartbeat] = [:]
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Date
    private let signals: LocalJobSignals?

    /// `signals`: where each change is published (`JobSignal(after:)`), nil for none.
    public init(now: @escaping @Sendable () -> Date = Date.init, signals: LocalJobSignals? = nil) {
        self.now = now
        self.signals = signals
    }

    public func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) {
        let at = now()
        let outcome: (record: JobRecord, created: Bool) = try state.withLock { s in
            let key = job.idempotencyKey.map { "\(job.tenant.rawValue)\u{0}\($0)" }
            if let key, let existingID = s.idempotency[key], let existing = s.jobs[existingID] {
                guard existing.isSameRequest(as: job) else { throw Self.idempotencyConflict(job.idempotencyKey!) }
                return (existing, false)
            }
            guard s.jobs[job.id] == nil else { throw TurboServeError(.conflict, "job \(job.id) already exists") }
            if job.maxQueued != nil { try job.checkRoom(queued: s.jobs.values.count(where: { $0.phase == .queued })) }
            if job.maxQueuedPerTenant != nil { try job.checkTenantRoom(queued: s.jobs.values.count(where: { $0.phase == .queued && $0.tenant == job.tenant })) }
            s.sequence += 1
            let record = JobRecord.new(job, sequence: s.sequence, at: at)
            s.jobs[job.id] = record
            s.order.append(job.id)
            s.events[job.id] = [StoredJobEvent(job: job.id, at: at, from: "", to: JobState.queued.description)]
            if let key { s.idempotency[key] = job.id }
            return (record, true)
        }
        if outcome.created { signals?.publish(JobSignal(after: outcome.record)) }
        return outcome
    }

    public func get(_ id: JobID) async throws -> JobRecord? { state.withLock { $0.jobs[id] } }

    public func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage {
        state.withLock { s in
            var ids = order == .newestFirst ? Array(s.order.reversed()) : s.order
            if let cursor, let index = ids.firstIndex(of: cursor) { ids.removeFirst(index + 1) }
            let jobs = s.jobs
            let matching = ids.lazy.compactMap { jobs[$0] }.filter { (tenant == nil || $0.tenant == tenant) && $0.deletedAt == nil }
            let page = Array(matching.prefix(limit + 1))
            return JobPage(jobs: Array(page.prefix(limit)), hasMore: page.count > limit)
        }
    }

    public func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord] {
        let at = now()
        let until = at.addingTimeInterval(lease.seconds)
        return state.withLock { s in
            var held: [TenantID: Int] = [:]
            var queued: [ClaimOrder.Candidate] = []
            for job in s.jobs.values {
                if job.workerID != nil { held[job.tenant, default: 0] += 1 } else if job.phase == .queued { queued.append(ClaimOrder.Candidate(job)) }
            }
            let chosen = ClaimOrder.pick(queued, limit: limit, held: held, preferences: preferences, now: at)
            return chosen.compactMap { s.jobs[$0.id] }.map { job in
                var job = job
                job.claim(by: worker, leaseUntil: until, at: at)
                s.jobs[job.id] = job
                return job
            }
        }
    }

    public func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat {
        let at = now()
        let until = at.addingTimeInterval(lease.seconds)
        return state.withLock { s in
            var renewed = 0
            for id in holding where s.jobs[id].map({ $0.workerID == worker && !$0.phase.isTerminal }) ?? false {
                s.jobs[id]?.leaseExpiresAt = until
                renewed += 1
            }
            let previous = s.workers[worker]?.activity?.incarnation
            s.workers[worker] = WorkerHeartbeat(worker: worker, at: at, activity: activity)
            var lost: [JobID: JobRecord?] = [:]
            for id in holding where s.jobs[id]?.lostBy(worker) ?? true { lost[id] = s.jobs[id] }
            return Heartbeat(renewed: renewed, lost: lost, previousIncarnation: previous)
        }
    }

    public func cancel(_ id: JobID) async throws -> JobRecord? {
        guard try await get(id) != nil else { return nil }
        return try await mutateRecord(id) { job, at in try job.cancel(at: at) }
    }

    public func rescueExpired(maxAttempts: Int) async throws -> [JobID] {
        try recover(.expiredLeases, maxAttempts: maxAttempts)
    }

    public func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID] {
        try recover(Recovery(releasing: worker), maxAttempts: maxAttempts)
    }

    private func recover(_ which: Recovery, maxAttempts: Int) throws(TurboServeError) -> [JobID] {
        let at = now()
        let recovered = try state.withLock { s throws(TurboServeError) in
            var recovered: [JobRecord] = []
            for id in s.order {
                guard var job = s.jobs[id], let outcome = try job.recover(now: at, which, maxAttempts: maxAttempts) else { continue }
                if let event = outcome { s.events[id, default: []].append(event) }
                s.jobs[id] = job
                recovered.append(job)
            }
            return recovered
        }
        for job in recovered { signals?.publish(JobSignal(after: job)) }
        return recovered.map(\.id)
    }

    public func workers() async throws -> [WorkerHeartbeat] {
        state.withLock { s in s.workers.values.sorted { ($0.at, $0.worker) > ($1.at, $1.worker) } }
    }

    public func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord] {
        state.withLock { s in
            let due = s.jobs.values.filter { $0.isExpirable(finishedBefore: cutoff) }
            return Array(due.sorted { ($0.completedAt!, $0.sequence) < ($1.completedAt!, $1.sequence) }.prefix(limit))
        }
    }

    public func markExpired(_ id: JobID) async throws -> JobRecord {
        let at = now()
        return try state.withLock { s throws(TurboServeError) in
            guard var job = s.jobs[id] else { throw TurboServeError.noSuchVideo(id.rawValue) }
            try job.expire(at: at)
            s.jobs[id] = job
            return job
        }
    }

    public func markDeleted(_ id: JobID) async throws -> JobRecord {
        let at = now()
        return try state.withLock { s throws(TurboServeError) in
            guard var job = s.jobs[id] else { throw TurboServeError.noSuchVideo(id.rawValue) }
            try job.delete(at: at)
            s.jobs[id] = job
            return job
        }
    }

    public func events(of id: JobID) async throws -> [StoredJobEvent] { state.withLock { $0.events[id] ?? [] } }

    public func countQueued() async throws -> [QueuedKey: Int] {
        state.withLock { s in
            s.jobs.values.filter { $0.phase == .queued }.reduce(into: [:]) { $0[QueuedKey(priority: $1.spec.priority, model: $1.spec.model), default: 0] += 1 }
        }
    }

    public func countByPhase() async throws -> [JobState.Phase: Int] {
        state.withLock { s in s.jobs.values.reduce(into: [:]) { $0[$1.phase, default: 0] += 1 } }
    }

    /// Reads, mutates and writes one job in one critical section; `body` returns the event to append (nil: no change).
    package func mutateRecord(_ id: JobID, _ body: @escaping @Sendable (inout JobRecord, Date) throws -> StoredJobEvent?) async throws -> JobRecord {
        let at = now()
        let (job, changed) = try state.withLock { s in
            guard var job = s.jobs[id] else { throw TurboServeError.noSuchVideo(id.rawValue) }
            guard let event = try body(&job, at) else { return (job, false) }
            s.jobs[id] = job
            s.events[id, default: []].append(event)
            return (job, true)
        }
        if changed { signals?.publish(JobSignal(after: job)) }
        return job
    }
}
