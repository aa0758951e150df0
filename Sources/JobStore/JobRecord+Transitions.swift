import Foundation
import TurboServeDomain

/// The store rules, as pure mutations on a record. Every backend reads a row, applies one of these, and writes the
/// row and the returned event in one transaction — so all backends share one set of rules.
extension JobRecord {
    package static func new(_ job: NewJob, sequence: Int64, at now: Date) -> JobRecord {
        JobRecord(
            id: job.id, tenant: job.tenant, spec: job.spec, phase: .queued, stepsCompleted: 0, attempts: 0,
            workerID: nil, leaseExpiresAt: nil, createdAt: now, updatedAt: now, startedAt: nil, completedAt: nil,
            errorCode: nil, errorMessage: nil, videoPath: nil, thumbnailPath: nil,
            idempotencyKey: job.idempotencyKey, sequence: sequence, expiredAt: nil)
    }

    /// Whether retention should delete this job's files: finished before `cutoff` and not expired yet.
    package func isExpirable(finishedBefore cutoff: Date) -> Bool {
        guard phase.isTerminal, expiredAt == nil, deletedAt == nil, let completedAt else { return false }
        return completedAt < cutoff
    }

    /// Retention deleted the files: the record stays, its artifact paths go. Only finished jobs expire; expiring
    /// twice keeps the first time. Not a state transition (the phase is unchanged), so no event.
    package mutating func expire(at now: Date) throws(TurboServeError) {
        guard phase.isTerminal else {
            throw TurboServeError(.conflict, "job \(id) is \(phase.rawValue); only finished jobs expire")
        }
        guard expiredAt == nil else { return }
        expiredAt = now
        videoPath = nil
        thumbnailPath = nil
        updatedAt = now
    }

    /// The client deleted this finished job (its files are removed by the caller): the artifact paths go and
    /// `deletedAt` is set; deleting twice keeps the first time. Not a state transition, so no event.
    package mutating func delete(at now: Date) throws(TurboServeError) {
        guard phase.isTerminal else {
            throw TurboServeError(.conflict, "job \(id) is \(phase.rawValue); only finished jobs are deleted (cancel it first)")
        }
        guard deletedAt == nil else { return }
        deletedAt = now
        videoPath = nil
        thumbnailPath = nil
        updatedAt = now
    }

    /// Throws `job_not_held` unless `worker` holds this unfinished job.
    package func requireOwner(_ worker: String) throws(TurboServeError) {
        guard workerID == worker, !phase.isTerminal else {
            throw TurboServeError(.jobNotHeld, "job \(id) is not held by worker \(worker) (state \(phase.rawValue), holder \(workerID ?? "none"))")
        }
    }

    /// Moves to `next` if the state machine allows it, returning the event to record.
    package mutating func transition(to next: JobState, at now: Date, reasonCode: String? = nil, message: String? = nil) throws(TurboServeError) -> StoredJobEvent {
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
            dropHolder()
        }
        return StoredJobEvent(job: id, at: now, from: current.description, to: next.description, reasonCode: reasonCode, message: message)
    }

    package mutating func claim(by worker: String, leaseUntil: Date, at now: Date) {
        workerID = worker
        leaseExpiresAt = leaseUntil
        updatedAt = now
    }

    private mutating func dropHolder() {
        workerID = nil
        leaseExpiresAt = nil
    }

    /// Back to `queued` with one more attempt when `countsAttempt`, or failed with `code` once the attempts reach
    /// `maxAttempts`. A job already queued (claimed, or retried before it ran again) records a retry event
    /// without a state change. The holder is kept; the caller drops it for a return to the shared queue.
    private mutating func requeue(at now: Date, code: String, message: String, countsAttempt: Bool, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent {
        if countsAttempt { attempts += 1 }
        if attempts >= maxAttempts {
            return try fail(at: now, code: code, message: "gave up after \(attempts) attempts: \(message)")
        }
        guard phase != .queued else {
            updatedAt = now
            return StoredJobEvent(job: id, at: now, from: state.description, to: state.description, reasonCode: code, message: message)
        }
        return try transition(to: .queued, at: now, reasonCode: code, message: message)
    }

    package mutating func fail(at now: Date, code: String, message: String) throws(TurboServeError) -> StoredJobEvent {
        let event = try transition(to: .failed, at: now, reasonCode: code, message: message)
        errorCode = code
        errorMessage = message
        return event
    }

    /// The worker-side verbs: ownership is checked first, then the state machine.
    package mutating func advance(by worker: String, to next: JobState, at now: Date, reason: String?) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        return try transition(to: next, at: now, message: reason)
    }

    package mutating func complete(by worker: String, videoPath: String, thumbnailPath: String?, at now: Date) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        let event = try transition(to: .succeeded, at: now)
        self.videoPath = videoPath
        self.thumbnailPath = thumbnailPath
        return event
    }

    package mutating func fail(by worker: String, at now: Date, code: String, message: String) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        return try fail(at: now, code: code, message: message)
    }

    /// The holder plans the job again; it stays held by `worker`.
    package mutating func retry(by worker: String, at now: Date, reason: TurboServeError, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        return try requeue(at: now, code: reason.code.rawValue, message: reason.message, countsAttempt: reason.code.countsAsAttempt, maxAttempts: maxAttempts)
    }

    /// The holder gives the job back to the shared queue; no attempt counted. A job that had not started only
    /// loses its holder (the event says so).
    package mutating func release(by worker: String, at now: Date, reason: String) throws(TurboServeError) -> StoredJobEvent {
        try requireOwner(worker)
        let event = try requeue(at: now, code: "released", message: reason, countsAttempt: false, maxAttempts: .max)
        dropHolder()
        return event
    }

    /// Cancels an unfinished job; nil (no event) when it had already finished.
    package mutating func cancel(at now: Date) throws(TurboServeError) -> StoredJobEvent? {
        guard !phase.isTerminal else { return nil }
        return try transition(to: .cancelled, at: now, reasonCode: TurboServeError.Code.cancelled.rawValue)
    }

    /// Recovery of a held, unfinished job whose holder is gone (`which` says how that is decided). It goes back to
    /// the shared queue: a job that had not started only loses its holder (nil event); a started one counts an
    /// attempt (it may have killed its worker) and fails `lease_expired` past `maxAttempts`. Returns nil when the
    /// job is not recovered.
    package mutating func recover(now: Date, _ which: Recovery, maxAttempts: Int) throws(TurboServeError) -> StoredJobEvent?? {
        guard let holder = workerID, !phase.isTerminal else { return nil }
        let due = switch which {
        case .expiredLeases: (leaseExpiresAt ?? now) < now
        case let .heldBy(worker): holder == worker
        case .everyHolder: true
        }
        guard due else { return nil }
        guard phase != .queued else {
            dropHolder()
            updatedAt = now
            return .some(nil)
        }
        let event = try requeue(at: now, code: TurboServeError.Code.leaseExpired.rawValue,
                                message: "worker \(holder) stopped holding the job (lease expired or worker restarted)",
                                countsAttempt: true, maxAttempts: maxAttempts)
        dropHolder()
        return .some(event)
    }

    /// Whether `worker`, believing it holds this job, has lost it (another holder, none, or the job ended).
    package func lostBy(_ worker: String) -> Bool { workerID != worker || phase.isTerminal }

    /// Whether a create with the same idempotency key describes the same request.
    package func isSameRequest(as job: NewJob) -> Bool { tenant == job.tenant && spec == job.spec }
}

/// Which held jobs a recovery returns to the shared queue.
package enum Recovery: Sendable {
    /// Those whose lease ended before now (the rescuer).
    case expiredLeases
    /// Those `worker` holds, whatever their lease (a restarted worker with a stable id).
    case heldBy(String)
    /// Every held job (a single node starting up: no holder of a previous process survives).
    case everyHolder

    /// `releaseHeld(by:)`'s choice: one worker's jobs, or (nil) every holder's.
    package init(releasing worker: String?) { self = worker.map { .heldBy($0) } ?? .everyHolder }
}

extension JobStore {
    /// The idempotency-key conflict error, worded once for every backend.
    package static func idempotencyConflict(_ key: String) -> TurboServeError {
        TurboServeError(.conflict, field: "Idempotency-Key", "Idempotency-Key '\(key)' was already used for a different request")
    }
}
