import SchedulingCore
import TurboServeDomain

/// The baselines' record of their jobs and states. Every state change goes through `move`, which checks it
/// against `JobState.canTransition` (the one transition table) and returns the event to hand back to the shell.
/// Jobs leave the book when they reach a terminal state.
struct JobBook<Instant: Sendable & Hashable> {
    private(set) var jobs: [JobID: SchedulerJob<Instant>] = [:]
    private(set) var states: [JobID: JobState] = [:]

    var count: Int { jobs.count }

    mutating func add(_ job: SchedulerJob<Instant>) {
        jobs[job.id] = job
        states[job.id] = .queued
    }

    func state(of id: JobID) -> JobState? { states[id] }
    func spec(of id: JobID) -> ValidatedJob? { jobs[id]?.spec }

    /// Moves `id` to `next` and returns the event; nil if the job is unknown. A transition the table forbids is a
    /// programming error in the policy.
    mutating func move(_ id: JobID, to next: JobState, at instant: Instant, reason: JobEvent<Instant>.Reason? = nil) -> JobEvent<Instant>? {
        guard let current = states[id] else { return nil }
        precondition(current.canTransition(to: next), "\(id): \(current) → \(next) is not allowed")
        if next.isTerminal {
            states[id] = nil
            jobs[id] = nil
        } else {
            states[id] = next
        }
        return JobEvent(job: id, from: current, to: next, at: instant, reason: reason)
    }

    /// The output pipeline finished a `muxing` job: `succeeded`, or `failed` with the error. No event for a job
    /// that is not muxing (cancelled meanwhile).
    mutating func outputFinished(_ id: JobID, error: TurboServeError?, at instant: Instant) -> [JobEvent<Instant>] {
        guard states[id] == .muxing else { return [] }
        let reason = error.map { JobEvent<Instant>.Reason(code: $0.code, message: $0.message) }
        return move(id, to: error == nil ? .succeeded : .failed, at: instant, reason: reason).map { [$0] } ?? []
    }
}
