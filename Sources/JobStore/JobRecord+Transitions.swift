import Foundation
import TurboServeDomain

/// The store rules, as pure mutations on a record. Every backend reads a row, applies one of these, and writes the
/// row and the returned event in one transaction — so all backends share one set of rules.
extension JobRecord {
    static func new(_ job: NewJob, sequence: Int64, at now: Date) -> JobRecord {
        JobRecord(
            id: job.id, tenant: job.tenant, spec: job.spec, phase: .queued, stepsCompleted: 0, attempts: 0,
            workerID: nil, leaseExpiresAt: nil, createdAt: now, updatedAt: now, startedAt: nil, completedAt: nil,
            errorCode: nil, errorMessage: nil, videoPath: nil, thumbnailPath: nil,
            idempotencyKey: job.idempotencyKey, sequence: sequence, expiredAt: nil)
    }

    /// Whether retention should delete this job's files: finished before `cutoff` and not expired yet.
    func isExpirable(finishedBefore cutoff: Date) -> Bool {
        guard phase.isTerminal, expiredAt == nil, let completedAt else { return false }
        return completedAt < cutoff
    }

    /// Retention deleted the files: the record stays, its artifact paths go. Only finished jobs expire; expiring
    /// twice keeps the first time. Not a state transition (the phase is unchanged), so no event.
    mutating func expire(at now: Date) throws(TurboServeError) {
        guard phase.isTerminal else {
            throw TurboServeError(.conflict, "job \(id) is \(phase.rawValue); only finished jobs expire")
        }
        guard expiredAt == nil else { return }
        expiredAt = now
        videoPath = nil
        thumbnailPath = nil
        updatedAt = now
    }

    /// Throws `conflict` unless `worker` holds this job.
    func requireOwner(_ worker: String) throws(TurboServeError) {
        guard workerID == worker, !phase.isTerminal else {
            throw TurboServeError(.conflict, "job \(id) is not held by worker \(worker) (state \(phase.rawValue), holder \(workerID ?? "none"))")
        }
    }

    /// Moves to `next` if the state machine allows it, returning the event to record.
    mutating func transition(to next: JobState, at now: Date, reasonCode: String? = nil, message: String? = nil) throws(TurboServeError) -> StoredJobEvent {
        let current = state
        guard current.canTransition(to: next) else {
            throw TurboServeError(.conflict, "job \(id) cannot go from \(current) to \(next)")
        }
        phase = next.phase
        switch next {
        case let .denoising(completed, _): stepsCompleted = completed
        case .queued: stepsCompleted = 0
        default: break
        }
        updatedAt = now
        if startedAt == nil, next.phase != .queued { startedAt = now }
        if next.isTerminal {
            completedAt = now
            workerID = nil
            leaseExpiresAt = nil
        }
        return StoredJobEvent(job: id, at: now, from: current.description, to: next.description, reasonCode: reasonCode, message: message)
    }

    /// Drops this worker's claim on a job that has not started; false (no change) otherwise.
    mutating func unclaim(by worker: String, at now: Date) -> Bool {
        guard workerID == worker, phase == .queued else { return false }
        workerID = nil
        leaseExpiresAt = nil
        updatedAt = now
        return true
    }

    mutating func claim(by worker: String, leaseUntil: Date, at now: Date) {
        workerID = worker
        leaseExpiresAt = leaseUntil
        updatedAt = now
    }

    /// Back to the queue with one more attempt, or failed when the attempts are used up.
    mutating func requeue(at now: Date, reason: String, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent {
        attempts += 1
        if attempts >= maxAttempts {
            return try fail(at: now, code: TurboServeError.Code.engineCrashed.rawValue, message: "gave up after \(attempts) attempts: \(reason)")
        }
        let event = try transition(to: .queued, at: now, reasonCode: "requeued", message: reason)
        workerID = nil
        leaseExpiresAt = nil
        return event
    }

    mutating func fail(at now: Date, code: String, message: String) throws(TurboServeError) -> StoredJobEvent {
        let event = try transition(to: .failed, at: now, reasonCode: code, message: message)
        errorCode = code
        errorMessage = message
        return event
    }

    /// The worker-side verbs: ownership is checked first, then the state machine.
    mutating func advance(by worker: String, to next: JobState, at now: Date, reason: String?) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        return try transition(to: next, at: now, message: reason)
    }

    mutating func complete(by worker: String, videoPath: String, thumbnailPath: String?, at now: Date) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        let event = try transition(to: .succeeded, at: now)
        self.videoPath = videoPath
        self.thumbnailPath = thumbnailPath
        return event
    }

    mutating func fail(by worker: String?, at now: Date, code: String, message: String) throws(TurboServeError) -> StoredJobEvent {
        if let worker { try requireOwner(worker) }
        return try fail(at: now, code: code, message: message)
    }

    mutating func requeue(by worker: String, at now: Date, reason: String, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        return try requeue(at: now, reason: reason, maxAttempts: maxAttempts)
    }

    /// Cancels an unfinished job; nil (no event) when it had already finished.
    mutating func cancel(at now: Date) throws(TurboServeError) -> StoredJobEvent? {
        guard !phase.isTerminal else { return nil }
        return try transition(to: .cancelled, at: now, reasonCode: TurboServeError.Code.cancelled.rawValue)
    }

    /// Recovery: a held, unfinished job whose lease ended before `now` (or, with `worker`, any job that worker
    /// held) goes back to the queue. Returns nil when the job is not to be recovered; otherwise the event to record
    /// (nil event for a claimed job that never started: it only loses its holder).
    mutating func recover(now: Date, worker: String?, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent?? {
        guard workerID != nil, !phase.isTerminal else { return nil }
        let expired = worker.map { workerID == $0 } ?? ((leaseExpiresAt ?? now) < now)
        guard expired else { return nil }
        guard phase != .queued else {
            workerID = nil
            leaseExpiresAt = nil
            return .some(nil)
        }
        return .some(try requeue(at: now, reason: "lease expired or worker restarted", maxAttempts: maxAttempts))
    }

    /// Whether a create with the same idempotency key describes the same request.
    func isSameRequest(as job: NewJob) -> Bool { tenant == job.tenant && spec == job.spec }
}

extension JobStore {
    /// The idempotency-key conflict error, worded once for every backend.
    static func idempotencyConflict(_ key: String) -> TurboServeError {
        TurboServeError(.conflict, field: "Idempotency-Key", "Idempotency-Key '\(key)' was already used for a different request")
    }
}
