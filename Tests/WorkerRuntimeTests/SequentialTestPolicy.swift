import SchedulingCore
import TurboServeDomain

/// A deliberately simple policy for testing the worker shell: one job at a time, FIFO, admit → every step →
/// decode → (output) → succeeded. Emits the same events a real policy does.
struct SequentialTestPolicy: SchedulingPolicy {
    typealias C = ContinuousClock
    let name = "sequential-test"
    var maxQueued = 100
    var queue: [SchedulerJob<ContinuousClock.Instant>] = []
    var current: (job: SchedulerJob<ContinuousClock.Instant>, state: JobState)?
    var outstanding: Plan?
    var muxing: Set<JobID> = []
    var toRelease: [JobID] = []
    var nextID: UInt64 = 0

    mutating func submit(_ job: SchedulerJob<ContinuousClock.Instant>) throws(TurboServeError) -> [JobEvent<ContinuousClock.Instant>] {
        guard queue.count < maxQueued else { throw TurboServeError(.queueFull, "full") }
        queue.append(job)
        return []
    }

    mutating func cancel(_ job: JobID) -> [JobEvent<ContinuousClock.Instant>] {
        if let index = queue.firstIndex(where: { $0.id == job }) {
            queue.remove(at: index)
            return [event(job, .queued, .cancelled)]
        }
        if let current, current.job.id == job {
            self.current = nil
            toRelease.append(job)
            return [event(job, current.state, .cancelled)]
        }
        return []
    }

    mutating func nextPlan() -> Plan? {
        guard outstanding == nil else { return nil }
        nextID += 1
        let id = PlanID(nextID)
        if !toRelease.isEmpty {
            outstanding = Plan(id: id, action: .release(jobs: toRelease))
            toRelease = []
            return outstanding
        }
        if current == nil, !queue.isEmpty {
            current = (queue.removeFirst(), .queued)
        }
        guard let current else { return nil }
        let spec = current.job.spec
        switch current.state {
        case .queued:
            outstanding = Plan(id: id, action: .admit(jobs: [current.job.id], model: spec.model))
        case .admitted:
            outstanding = Plan(id: id, action: .step(expert: ModelKey(model: spec.model, expert: spec.expertPlan[0]), steps: [JobStep(job: current.job.id, index: 0, total: spec.steps)]))
        case let .denoising(k, n) where k < n:
            outstanding = Plan(id: id, action: .step(expert: ModelKey(model: spec.model, expert: spec.expertPlan[k]), steps: [JobStep(job: current.job.id, index: k, total: n)]))
        default:
            outstanding = Plan(id: id, action: .decode(jobs: [current.job.id]))
        }
        return outstanding
    }

    mutating func planFinished(_ plan: PlanID, outcome: PlanOutcome) -> [JobEvent<ContinuousClock.Instant>] {
        guard let finished = outstanding, finished.id == plan else { return [] }
        outstanding = nil
        guard case .completed = outcome else {
            guard let current else { return [] }
            self.current = nil
            return [event(current.job.id, current.state, .failed)]
        }
        guard let current else { return [] }
        let from = current.state
        let next: JobState
        switch finished.action {
        case .admit: next = .admitted
        case .step: next = .denoising(completed: from == .admitted ? 1 : { if case let .denoising(k, _) = from { k + 1 } else { 1 } }(), total: current.job.spec.steps)
        case .decode:
            self.current = nil
            muxing.insert(current.job.id)
            return [event(current.job.id, from, .decoding), event(current.job.id, .decoding, .muxing)]
        default: return []
        }
        self.current = (current.job, next)
        return [event(current.job.id, from, next)]
    }

    mutating func outputFinished(_ job: JobID, error: TurboServeError?) -> [JobEvent<ContinuousClock.Instant>] {
        guard muxing.remove(job) != nil else { return [] }
        return [event(job, .muxing, error == nil ? .succeeded : .failed)]
    }

    mutating func engineLost(reason: String) -> [JobEvent<ContinuousClock.Instant>] { [] }
    func nextWakeup() -> ContinuousClock.Instant? { nil }

    func event(_ job: JobID, _ from: JobState, _ to: JobState) -> JobEvent<ContinuousClock.Instant> {
        JobEvent(job: job, from: from, to: to, at: .now)
    }
}
