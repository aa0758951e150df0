import SchedulingCore
import TurboServeDomain

/// The simplest correct policy, what upstream's terminal server does: one job at a time in arrival order, each
/// expert loaded when a step first needs it (all kept resident), admit → every step → decode → output.
/// `generate` uses it for its single job; `serve` uses it until the TurboServe core replaces it.
///
/// Transitions: queued → admitted → denoising(k/n) … → decoding → muxing → succeeded | failed; cancel at any
/// point (a job holding engine state gets a `release` plan next). Not thread-safe: owned by the worker actor.
public struct SerialPolicy: SchedulingPolicy {
    public typealias C = ContinuousClock
    public typealias Event = JobEvent<ContinuousClock.Instant>

    public let name = "serial"
    public var maxQueued: Int
    private var queue: [SchedulerJob<ContinuousClock.Instant>] = []
    private var current: (job: SchedulerJob<ContinuousClock.Instant>, state: JobState)?
    private var outstanding: Plan?
    private var muxing: Set<JobID> = []
    private var toRelease: [JobID] = []
    private var resident: Set<ModelKey> = []
    private var nextID: UInt64 = 0

    public init(maxQueued: Int = 10_000) {
        self.maxQueued = maxQueued
    }

    public func spec(of id: JobID) -> ValidatedJob? {
        if let current, current.job.id == id { return current.job.spec }
        return queue.first { $0.id == id }?.spec
    }

    public var heldJobs: [JobID] { queue.map(\.id) + (current.map { [$0.job.id] } ?? []) + muxing }

    public mutating func submit(_ job: SchedulerJob<ContinuousClock.Instant>) throws(TurboServeError) -> [Event] {
        guard queue.count < maxQueued else {
            throw TurboServeError(.queueFull, "the queue holds \(maxQueued) jobs; retry later")
        }
        guard !queue.contains(where: { $0.id == job.id }), current?.job.id != job.id else {
            throw TurboServeError(.conflict, "job \(job.id) is already scheduled")
        }
        queue.append(job)
        return []
    }

    public mutating func cancel(_ job: JobID) -> [Event] {
        if let index = queue.firstIndex(where: { $0.id == job }) {
            queue.remove(at: index)
            return [event(job, .queued, .cancelled)]
        }
        if let current, current.job.id == job {
            self.current = nil
            if current.state != .queued { toRelease.append(job) }
            return [event(job, current.state, .cancelled)]
        }
        if muxing.remove(job) != nil { return [event(job, .muxing, .cancelled)] }
        return []
    }

    public mutating func nextPlan() -> Plan? {
        guard outstanding == nil else { return nil }
        if !toRelease.isEmpty {
            defer { toRelease = [] }
            return issue(.release(jobs: toRelease))
        }
        if current == nil, !queue.isEmpty { current = (queue.removeFirst(), .queued) }
        guard let current else { return nil }
        let spec = current.job.spec
        switch current.state {
        case .queued:
            return issue(.admit(jobs: [current.job.id], model: spec.model))
        case .admitted, .denoising:
            let index = Self.completedSteps(current.state)
            guard index < spec.steps else { return issue(.decode(jobs: [current.job.id])) }
            let expert = ModelKey(model: spec.model, expert: spec.expertPlan[index])
            guard resident.contains(expert) else { return issue(.load(expert)) }
            return issue(.step(expert: expert, steps: [JobStep(job: current.job.id, index: index, total: spec.steps)]))
        default:
            return nil
        }
    }

    public mutating func planFinished(_ plan: PlanID, outcome: PlanOutcome) -> [Event] {
        guard let finished = outstanding, finished.id == plan else { return [] }
        outstanding = nil
        if case let .load(key) = finished.action, case .completed = outcome { resident.insert(key) }
        guard let current else { return [] }
        guard case .completed = outcome else {
            guard case let .failed(code, message, retryable, _) = outcome else { return [] }
            return fail(current, code: code, message: message, retryable: retryable)
        }
        let from = current.state
        switch finished.action {
        case .admit:
            self.current = (current.job, .admitted)
            return [event(current.job.id, from, .admitted)]
        case .step:
            let next = JobState.denoising(completed: Self.completedSteps(from) + 1, total: current.job.spec.steps)
            self.current = (current.job, next)
            return [event(current.job.id, from, next)]
        case .decode:
            self.current = nil
            muxing.insert(current.job.id)
            return [event(current.job.id, from, .decoding), event(current.job.id, .decoding, .muxing)]
        default:
            return []
        }
    }

    public mutating func outputFinished(_ job: JobID, error: TurboServeError?) -> [Event] {
        guard muxing.remove(job) != nil else { return [] }
        guard let error else { return [event(job, .muxing, .succeeded)] }
        return [event(job, .muxing, .failed, reason: .init(code: error.code, message: error.message))]
    }

    public mutating func engineLost(reason: String) -> [Event] {
        outstanding = nil
        resident = []
        toRelease = []
        guard let current else { return [] }
        return fail(current, code: .engineCrashed, message: reason, retryable: true)
    }

    public func nextWakeup() -> ContinuousClock.Instant? { nil }

    // MARK: - Helpers

    private mutating func issue(_ action: PlanAction) -> Plan {
        nextID += 1
        let plan = Plan(id: PlanID(nextID), action: action)
        outstanding = plan
        return plan
    }

    /// A failed plan fails its job, or requeues it (fresh engine state) when retrying helps; the store bounds the
    /// attempts.
    private mutating func fail(_ current: (job: SchedulerJob<ContinuousClock.Instant>, state: JobState), code: TurboServeError.Code, message: String, retryable: Bool) -> [Event] {
        self.current = nil
        let reason = JobEvent<ContinuousClock.Instant>.Reason(code: code, message: message)
        if current.state != .queued { toRelease.append(current.job.id) }
        let job = current.job
        if retryable {
            // Back to the front of the queue; from `queued` the event only marks the retry (the store counts it).
            queue.insert(job, at: 0)
            return [event(job.id, current.state, .queued, reason: reason)]
        }
        return [event(job.id, current.state, .failed, reason: reason)]
    }

    private static func completedSteps(_ state: JobState) -> Int {
        if case let .denoising(k, _) = state { return k }
        return 0
    }

    private func event(_ job: JobID, _ from: JobState, _ to: JobState, reason: Event.Reason? = nil) -> Event {
        JobEvent(job: job, from: from, to: to, at: .now, reason: reason)
    }
}
