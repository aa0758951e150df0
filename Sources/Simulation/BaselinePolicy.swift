import SchedulingCore
import TurboServeDomain

/// The baselines the simulator compares TurboServe with (`serial`, `seed`, `dynamic-batch`): one mechanism, a
/// `BatchRule` that chooses work and `BaselineOptions` for stages and residency. It runs one `StaticBatch` at a
/// time to completion, moving weights as the batch needs them (`ResidencySet`), and hands finished videos to the
/// output pipeline (or muxes them itself on the engine path).
///
/// Job states: `queued → admitted → denoising(k/n)… → decoding → muxing → succeeded`; `decoding` and `muxing` are
/// reported together when the decode plan finishes. Cancel works in every non-terminal state; engine state of a
/// cancelled admitted job is freed by a `release` plan.
///
/// Follows the `SchedulingPolicy` contract: pure, time only from `clock`, one plan outstanding at a time, not
/// thread-safe (one owner).
public struct BaselinePolicy<C: Clock, Rule: BatchRule>: SchedulingPolicy where C.Duration == Duration {
    public let name: String
    public let clock: C
    public let rule: Rule
    public let options: BaselineOptions
    let memory: any MemoryEstimating
    var book = JobBook<C.Instant>()
    var residency: ResidencySet<C.Instant>
    var queue: [(id: JobID, order: Int, enqueued: C.Instant)] = []
    var submitted = 0
    var batch: StaticBatch?
    var muxOnPath: [JobID] = []
    var releases: [JobID] = []
    var outstanding: Plan?
    var planCounter: UInt64 = 0
    var waitUntil: C.Instant?
    /// Jobs that can never fit; they fail when their release plan finishes.
    var failing: Set<JobID> = []

    public init(name: String, clock: C, rule: Rule, memory: any MemoryEstimating, options: BaselineOptions = BaselineOptions()) {
        self.name = name
        self.clock = clock
        self.rule = rule
        self.options = options
        self.memory = memory
        residency = ResidencySet(memory: memory, capacity: options.deviceMemoryBytes - options.sharedBytes, maxModels: options.maxResidentModels, keepAlive: options.keepAlive)
        residency.keepWarm = Set(options.preload)
    }

    // MARK: - SchedulingPolicy

    public mutating func submit(_ job: SchedulerJob<C.Instant>) throws(TurboServeError) -> [JobEvent<C.Instant>] {
        guard queue.count < options.maxQueued else {
            throw TurboServeError(.queueFull, "the queue holds \(options.maxQueued) jobs; retry later")
        }
        book.add(job)
        queue.append((job.id, submitted, clock.now))
        submitted += 1
        return []
    }

    public func spec(of id: JobID) -> ValidatedJob? { book.spec(of: id) }
    public var heldJobs: [JobID] { Array(book.jobs.keys) }

    public mutating func cancel(_ id: JobID) -> [JobEvent<C.Instant>] {
        guard let state = book.state(of: id) else { return [] }
        queue.removeAll { $0.id == id }
        muxOnPath.removeAll { $0 == id }
        if var running = batch, running.contains(id) {
            if running.holdingState.contains(id) { releases.append(id) }
            running.remove(id)
            batch = running.isEmpty ? nil : running
        } else if [.admitted, .denoising, .decoding].contains(state.phase) {
            releases.append(id)
        }
        let reason = JobEvent<C.Instant>.Reason(code: .cancelled, message: "cancelled by the client")
        return book.move(id, to: .cancelled, at: clock.now, reason: reason).map { [$0] } ?? []
    }

    public mutating func nextPlan() -> Plan? {
        guard outstanding == nil else { return nil }
        waitUntil = nil
        guard let action = nextAction() else { return nil }
        planCounter += 1
        let plan = Plan(id: PlanID(planCounter), action: action)
        outstanding = plan
        return plan
    }

    public mutating func outputFinished(_ id: JobID, error: TurboServeError?) -> [JobEvent<C.Instant>] {
        return book.outputFinished(id, error: error, at: clock.now)
    }

    public mutating func engineLost(reason: String) -> [JobEvent<C.Instant>] {
        outstanding = nil
        releases = []
        residency.clear()
        var events: [JobEvent<C.Instant>] = []
        if let running = batch {
            for id in running.members.reversed() {
                if let state = book.state(of: id), state != .queued, let event = book.move(id, to: .queued, at: clock.now, reason: .init(code: .engineCrashed, message: reason)) {
                    events.append(event)
                }
                queue.insert((id, -1, clock.now), at: 0)
            }
            batch = nil
        }
        return events.reversed()
    }

    public func nextWakeup() -> C.Instant? {
        [waitUntil, residency.nextExpiry()].compactMap { $0 }.min()
    }

    // MARK: - Choosing the next action

    private mutating func nextAction() -> PlanAction? {
        if !releases.isEmpty {
            defer { releases = [] }
            return .release(jobs: releases)
        }
        if let id = muxOnPath.first { return .onEnginePath(.mux, jobs: [id]) }
        for _ in 0..<4 {
            if batch == nil, let idle = idleAction() { return idle }
            if batch == nil, !startBatch() { return nil }
            if let action = batchAction() { return action }
        }
        return nil
    }

    /// Keep-alive evictions and preloads, when no batch is running.
    private mutating func idleAction() -> PlanAction? {
        let wanted = Set(queue.compactMap { book.spec(of: $0.id)?.firstExpert })
        if let expired = residency.expired(at: clock.now, protecting: wanted) { return .unload(expired) }
        for key in options.preload where !residency.contains(key) {
            if case .load = residency.move(toward: key, extraBytes: heldBytes, protecting: residency.keys) { return .load(key) }
        }
        return nil
    }

    /// Asks the rule for a batch; false when there is nothing to start now.
    private mutating func startBatch() -> Bool {
        let now = clock.now
        let waiting = queue.compactMap { entry -> QueuedJob? in
            guard let spec = book.spec(of: entry.id) else { return nil }
            return QueuedJob(id: entry.id, spec: spec, order: entry.order, waitedSeconds: entry.enqueued.duration(to: now).seconds)
        }
        let snapshot = residency, held = heldBytes
        let context = BatchContext(memory: memory, freeBytesIfResident: { snapshot.freeBytes(ifResident: $0, heldBytes: held) })
        switch rule.select(waiting, context: context) {
        case nil:
            return false
        case let .wait(seconds)?:
            waitUntil = now.advanced(by: .seconds(max(0, seconds)))
            return false
        case let .run(ids)?:
            let chosen = Set(ids)
            queue.removeAll { chosen.contains($0.id) }
            let jobs = ids.compactMap { id in book.spec(of: id).map { (id: id, spec: $0) } }
            guard !jobs.isEmpty else { return false }
            batch = StaticBatch(jobs: jobs, needsParse: options.parseOnEnginePath)
            return true
        }
    }

    /// The running batch's next plan, with the weight moves it needs first.
    private mutating func batchAction() -> PlanAction? {
        guard let running = batch else { return nil }
        switch running.next() {
        case let .parse(ids):
            return .onEnginePath(.parse, jobs: ids)
        case let .admit(ids, expert):
            let extra = heldBytes + Int64(ids.count) * (memory.residentStateBytes(shape: running.shape) + memory.activationBytes(shape: running.shape))
            return residencyAction(for: expert, extraBytes: extra) ?? .admit(jobs: ids, model: running.model)
        case let .step(expert, steps):
            let extra = heldBytes + Int64(steps.count) * memory.activationBytes(shape: running.shape)
            return residencyAction(for: expert, extraBytes: extra) ?? .step(expert: expert, steps: steps)
        case let .decode(ids):
            return .decode(jobs: ids)
        case .finished:
            batch = nil
            return nil
        }
    }

    /// nil when `expert` is resident with room; else the load/unload to do first (or, when the batch can never
    /// fit, a release after which its jobs fail).
    private mutating func residencyAction(for expert: ModelKey, extraBytes: Int64) -> PlanAction? {
        switch residency.move(toward: expert, extraBytes: extraBytes, protecting: []) {
        case .ready: return nil
        case let .load(key): return .load(key)
        case let .unload(key): return .unload(key)
        case .impossible:
            // Even an empty device would not hold this batch: release it and fail its jobs when the release is done.
            let members = batch?.members ?? []
            failing.formUnion(members)
            batch = nil
            return .release(jobs: members)
        }
    }

    /// Bytes of job state on the device (members of the running batch once admitted).
    var heldBytes: Int64 {
        guard let running = batch else { return 0 }
        return Int64(running.holdingState.count) * memory.residentStateBytes(shape: running.shape)
    }
}
