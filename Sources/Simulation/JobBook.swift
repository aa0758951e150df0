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
            if next == .queued { jobs[id]?.attempts += 1 }
        }
        return JobEvent(job: id, from: current, to: next, at: instant, reason: reason)
    }
}
