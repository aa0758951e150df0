import SchedulingCore
import TurboServeDomain

/// `seed` — the published scheduled policy (calibration `scheduled_policy`), as described there:
/// - priority: I2V first, then 4-step jobs, then the rest; FIFO within a level (`SeedRule.level`);
/// - same-model batching per denoise step: at every step boundary the most urgent job leads, and every job of the
///   same model and shape whose next step uses the same expert shares the call (queued ones are admitted first, so
///   jobs join at step boundaries), up to the batch size the published table gives for the free memory once that
///   expert is resident;
/// - a cache of at most 2 models with a 300 s keep-alive; the preload list (for I2V its first expert) is loaded at
///   start and kept from keep-alive; least recently used evicted when memory or the cache size requires;
/// - asynchronous saving: finished videos go to the output pipeline, off the engine path.
///
/// It has no deadlines, no expert-phase grouping and no look-ahead on switches: those are TurboServe's.
/// Follows the `SchedulingPolicy` contract (pure, time from `clock`, one plan outstanding, one owner).
public struct SeedPolicy<C: Clock>: SchedulingPolicy where C.Duration == Duration {
    public let name = "seed"
    public let clock: C
    public let rule: SeedRule
    let memory: any MemoryEstimating
    let preload: [ModelKey]
    let maxQueued: Int
    var book = JobBook<C.Instant>()
    var residency: ResidencySet<C.Instant>
    var order: [JobID: Int] = [:]
    var submitted = 0
    /// Steps done by each admitted job.
    var progress: [JobID: Int] = [:]
    var toDecode: [JobID] = []
    var releases: [JobID] = []
    var outstanding: Plan?
    var planCounter: UInt64 = 0

    public init(clock: C, memory: any MemoryEstimating, published: Calibration.ScheduledPolicy, deviceMemoryBytes: Int64 = 48_000_000_000, maxQueued: Int = 100_000) {
        self.clock = clock
        self.memory = memory
        self.maxQueued = maxQueued
        rule = SeedRule(published: published)
        preload = published.modelCache.preload.map { ModelKey(model: $0, expert: ModelCatalog.descriptor(for: $0)?.experts.first ?? .main) }
        residency = ResidencySet(memory: memory, capacity: deviceMemoryBytes - ModelCatalog.sharedComponentBytes, maxModels: published.modelCache.maxSize, keepAlive: .seconds(published.modelCache.keepAliveSeconds))
        residency.keepWarm = Set(preload)
    }

    // MARK: - SchedulingPolicy

    public mutating func submit(_ job: SchedulerJob<C.Instant>) throws(TurboServeError) -> [JobEvent<C.Instant>] {
        guard book.count < maxQueued else { throw TurboServeError(.queueFull, "the queue holds \(maxQueued) jobs; retry later") }
        book.add(job)
        order[job.id] = submitted
        submitted += 1
        return []
    }

    public func spec(of id: JobID) -> ValidatedJob? { book.spec(of: id) }
    public var heldJobs: [JobID] { Array(book.jobs.keys) }

    public mutating func cancel(_ id: JobID) -> [JobEvent<C.Instant>] {
        guard book.state(of: id) != nil else { return [] }
        if progress.removeValue(forKey: id) != nil || toDecode.contains(id) { releases.append(id) }
        toDecode.removeAll { $0 == id }
        order[id] = nil
        return book.move(id, to: .cancelled, at: clock.now, reason: .init(code: .cancelled, message: "cancelled by the client")).map { [$0] } ?? []
    }

    public mutating func nextPlan() -> Plan? {
        guard outstanding == nil, let action = nextAction() else { return nil }
        planCounter += 1
        outstanding = Plan(id: PlanID(planCounter), action: action)
        return outstanding
    }

    public mutating func planFinished(_ id: PlanID, outcome: PlanOutcome) -> [JobEvent<C.Instant>] {
        guard let plan = outstanding, plan.id == id else { return [] }
        outstanding = nil
        let now = clock.now
        var events: [JobEvent<C.Instant>] = []
        func move(_ job: JobID, _ state: JobState, _ reason: JobEvent<C.Instant>.Reason? = nil) {
            if let event = book.move(job, to: state, at: now, reason: reason) { events.append(event) }
        }
        if case let .failed(code, message, _, jobs) = outcome {
            for job in jobs ?? plan.action.jobs where book.state(of: job) != nil {
                if progress.removeValue(forKey: job) != nil { releases.append(job) }
                toDecode.removeAll { $0 == job }
                move(job, .failed, .init(code: code, message: message))
            }
            return events
        }
        switch plan.action {
        case let .load(key): residency.loaded(key, at: now)
        case let .unload(key): residency.unloaded(key)
        case let .admit(jobs, _):
            for job in jobs where book.state(of: job) == .queued {
                progress[job] = 0
                move(job, .admitted)
            }
        case let .step(expert, steps):
            residency.touch(expert, at: now)
            for step in steps where progress[step.job] == step.index {
                progress[step.job] = step.index + 1
                move(step.job, .denoising(completed: step.index + 1, total: step.total))
                if step.index + 1 == step.total { toDecode.append(step.job) }
            }
        case let .decode(jobs):
            for job in jobs where toDecode.contains(job) {
                toDecode.removeAll { $0 == job }
                progress[job] = nil
                move(job, .decoding)
                move(job, .muxing)
            }
        case .release, .onEnginePath: break
        }
        return events
    }

    public mutating func outputFinished(_ id: JobID, error: TurboServeError?) -> [JobEvent<C.Instant>] {
        if book.state(of: id) == .muxing { order[id] = nil }
        return book.outputFinished(id, error: error, at: clock.now)
    }

    public mutating func engineLost(reason: String) -> [JobEvent<C.Instant>] {
        outstanding = nil
        releases = []
        residency.clear()
        var events: [JobEvent<C.Instant>] = []
        for job in (Array(progress.keys) + toDecode).sorted(by: { order[$0, default: 0] < order[$1, default: 0] }) {
            if let event = book.move(job, to: .queued, at: clock.now, reason: .init(code: .engineCrashed, message: reason)) { events.append(event) }
        }
        progress = [:]
        toDecode = []
        return events
    }

    public func nextWakeup() -> C.Instant? { residency.nextExpiry() }

    // MARK: - Choosing

    /// Jobs not yet denoised, most urgent first.
    private var live: [JobID] {
        order.keys.filter { id in
            guard let state = book.state(of: id) else { return false }
            return state == .queued || (progress[id].map { $0 < (book.spec(of: id)?.steps ?? 0) } ?? false)
        }.sorted { a, b in
            let (sa, sb) = (book.spec(of: a)!, book.spec(of: b)!)
            return (SeedRule.level(of: sa), order[a]!) < (SeedRule.level(of: sb), order[b]!)
        }
    }

    private func nextExpert(_ id: JobID) -> ModelKey? {
        guard let spec = book.spec(of: id) else { return nil }
        let plan = spec.expertPlan
        let done = progress[id] ?? 0
        return done < plan.count ? ModelKey(model: spec.model, expert: plan[done]) : nil
    }

    private var heldBytes: Int64 {
        (Array(progress.keys) + toDecode).reduce(0) { $0 + (book.spec(of: $1).map { memory.residentStateBytes(shape: $0.shapeKey) } ?? 0) }
    }

    private mutating func nextAction() -> PlanAction? {
        if !releases.isEmpty {
            defer { releases = [] }
            return .release(jobs: releases)
        }
        if !toDecode.isEmpty { return .decode(jobs: toDecode) }
        let waiting = live
        let wanted = Set(waiting.compactMap(nextExpert))
        if let expired = residency.expired(at: clock.now, protecting: wanted) { return .unload(expired) }
        guard let lead = waiting.first, let expert = nextExpert(lead), let shape = book.spec(of: lead)?.shapeKey else {
            for key in preload where !residency.contains(key) {
                if case .load = residency.move(toward: key, extraBytes: heldBytes, protecting: residency.keys) { return .load(key) }
            }
            return nil
        }
        let size = rule.batchSize(freeBytes: residency.freeBytes(ifResident: expert, heldBytes: heldBytes))
        let batch = Array(waiting.filter { book.spec(of: $0)?.shapeKey == shape && nextExpert($0) == expert }.prefix(size))
        let fresh = batch.filter { book.state(of: $0) == .queued }
        let extra = heldBytes + Int64(fresh.count) * memory.residentStateBytes(shape: shape) + Int64(batch.count) * memory.activationBytes(shape: shape)
        switch residency.move(toward: expert, extraBytes: extra, protecting: []) {
        case let .load(key): return .load(key)
        case let .unload(key): return .unload(key)
        case .impossible, .ready: break
        }
        if !fresh.isEmpty { return .admit(jobs: fresh, model: shape.model) }
        return .step(expert: expert, steps: batch.map { JobStep(job: $0, index: progress[$0]!, total: book.spec(of: $0)!.steps) })
    }
}
