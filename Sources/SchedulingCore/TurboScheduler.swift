import TurboServeDomain

/// TurboServe's scheduling core: deadline-driven, step-level continuous batching with planned model residency.
///
/// At every engine step boundary it picks the most urgent work — earliest deadline first, where a job that can no
/// longer make its deadline yields (by `latePenalty`) to jobs that still can, and tenants ahead of their fair share
/// are shifted later — and runs one denoise step for every job of that step group (same expert and shape, any step)
/// that fits in device memory. If the most urgent job needs weights that are not resident, resident work runs first
/// as long as the urgent job's slack covers it, so I2V groups finish their high-noise phase before one switch and
/// small models interleave between large ones without a swap. Weights stay resident while they fit (least
/// recently used evicted, keep-alive while idle, preload, pinning). Text encode is batched across the jobs admitted
/// together; decode follows a job's last step at once; muxing and storage run in the shell's output pipeline.
///
/// Job states: `queued → admitted → denoising(k/n) … → decoding → muxing → succeeded`, or `failed` / `cancelled`
/// from any non-terminal state; `admitted / denoising / decoding → queued` when the engine is lost (state dropped;
/// the store counts and bounds the attempts). Every change is returned as a `JobEvent`, in order.
///
/// Follows the `SchedulingPolicy` contract: pure (time only from `clock`, no I/O), one plan outstanding at a time,
/// not thread-safe (one owner: the worker actor or the simulator's loop). A planning decision costs time
/// proportional to the number of (tenant, step group) buckets and jobs holding engine state, not to the queue's
/// length.
public struct TurboScheduler<C: Clock>: SchedulingPolicy where C.Duration == Duration {
    public typealias Event = JobEvent<C.Instant>

    public let name: String
    public let clock: C
    public let configuration: TurboSchedulerConfiguration
    /// The prior the scheduler was given, refined by the step timings it measures (`learnStepTimes`).
    var cost: LearnedCostModel
    let memory: any MemoryEstimating

    var jobs: [JobID: TrackedJob<C.Instant>] = [:]
    var queue: QueueBuckets
    /// The clock's time at creation; the queue keeps times as offsets from it.
    let epoch: C.Instant
    var fairness: FairShareLedger
    var residency: ResidencySet<C.Instant>
    /// Jobs holding engine state that still need denoise steps, in admission order.
    var active: [JobID] = []
    /// Jobs whose steps are all done, waiting for `decode`.
    var toDecode: [JobID] = []
    /// Jobs whose engine state must be dropped (cancelled, failed, or preempted).
    var toRelease: [JobID] = []
    /// Device bytes each job's state holds (admitted or being admitted, until decoded or released).
    var held: [JobID: Int64] = [:]
    var heldBytes: Int64 = 0
    /// Jobs that fail once their release plan is done (they cannot fit on the device).
    var failing: [JobID: Event.Reason] = [:]
    /// Learned per-group batch ceilings after the engine refused a batch for memory.
    var batchCeiling: [StepGroup: Int] = [:]
    /// Jobs per decode call at most, learned the same way.
    var decodeCeiling = Int.max
    /// How much less free memory the engine reported than the core's estimate (≤ 0); shrinks budgets.
    var memoryCorrection: Int64 = 0
    /// Jobs whose state is being released to make room; they queue again when the release is done.
    var preempting: Set<JobID> = []
    /// Jobs to queue again once the release of their old engine state is done.
    var requeueAfterRelease: Set<JobID> = []
    /// Interned step groups and tenants: queue buckets are keyed by these numbers, so planning never hashes strings.
    var groupNumbers: [StepGroup: Int] = [:]
    var groupList: [StepGroup] = []
    var tenantNumbers: [TenantID: Int] = [:]
    var tenantList: [TenantID] = []
    /// Fair-share deadline shifts by tenant number, computed once per decision.
    var decisionLags: [Duration] = []
    var outstanding: (plan: Plan, group: StepGroup?)?
    var planCounter: UInt64 = 0
    var submitted = 0
    /// How the last jobs to finish fared against their deadlines: whether missed jobs yield (`missedYield`).
    var overload: OverloadSignal
    /// The extra yield of a job past its deadline in this decision: `missedYield` under `.tail` while overloaded,
    /// else zero.
    var decisionMissedYield: Duration = .zero

    public init(name: String = "turboserve", clock: C, cost: any CostEstimating, memory: any MemoryEstimating, configuration: TurboSchedulerConfiguration = TurboSchedulerConfiguration()) {
        self.name = name
        self.clock = clock
        self.cost = LearnedCostModel(prior: cost)
        self.memory = memory
        self.configuration = configuration
        epoch = clock.now
        fairness = FairShareLedger(scale: configuration.fairShareScale)
        queue = QueueBuckets(separatesMissed: configuration.objective == .tail && configuration.missedYield != nil)
        overload = OverloadSignal(window: configuration.overloadWindow, enterMissFraction: configuration.overloadEnterMissFraction,
                                  exitMissFraction: configuration.overloadExitMissFraction)
        residency = ResidencySet(memory: memory, capacity: configuration.deviceMemoryBytes - configuration.sharedBytes, maxModels: configuration.maxResident, keepAlive: configuration.keepAlive)
        residency.keepWarm = Set(configuration.preload)
        residency.pinned = configuration.pinned
    }

    // MARK: - SchedulingPolicy

    public mutating func submit(_ job: SchedulerJob<C.Instant>) throws(TurboServeError) -> [Event] {
        guard jobs.count < configuration.maxQueued else {
            throw TurboServeError(.queueFull, "the queue holds \(configuration.maxQueued) jobs; retry later")
        }
        guard jobs[job.id] == nil else { throw TurboServeError(.conflict, "job \(job.id) is already scheduled") }
        var tracked = track(job)
        tracked.suspect = job.attempts > 0
        tracked.tenantNumber = intern(job.tenant)
        tracked.groupNumber = tracked.group.map { intern($0) }
        jobs[job.id] = tracked
        fairness.arrived(tracked.tenantNumber)
        enqueue(tracked)
        return []
    }

    public mutating func cancel(_ id: JobID) -> [Event] {
        guard let job = jobs[id] else { return [] }
        dropFromEngine(id)
        let reason = Event.Reason(code: .cancelled, message: "cancelled by the client")
        return move(job.id, to: .cancelled, reason: reason).map { [$0] } ?? []
    }

    public mutating func nextPlan() -> Plan? {
        guard outstanding == nil, let (action, group) = nextAction() else { return nil }
        planCounter += 1
        let plan = Plan(id: PlanID(planCounter), action: action)
        outstanding = (plan, group)
        return plan
    }

    public mutating func outputFinished(_ id: JobID, error: TurboServeError?) -> [Event] {
        guard jobs[id]?.state == .muxing else { return [] }
        let reason = error.map { Event.Reason(code: $0.code, message: $0.message) }
        if error == nil, let deadline = jobs[id]?.deadline { overload.record(missed: clock.now > deadline) }
        return move(id, to: error == nil ? .succeeded : .failed, reason: reason).map { [$0] } ?? []
    }

    public mutating func engineLost(reason: String) -> [Event] {
        let suspects = Set(outstanding?.plan.action.jobs ?? [])
        outstanding = nil
        residency.clear()
        memoryCorrection = 0
        toRelease = []
        failing = [:]
        requeueAfterRelease = []
        preempting = []
        let holders = Set(held.keys).union(suspects).sorted { (jobs[$0]?.sequence ?? 0) < (jobs[$1]?.sequence ?? 0) }
        held = [:]
        heldBytes = 0
        active = []
        toDecode = []
        var events: [Event] = []
        for id in holders {
            guard let job = jobs[id] else { continue }
            let suspect = suspects.contains(id)
            if suspect { jobs[id]?.suspect = true }
            let why = suspect
                ? Event.Reason(code: .engineCrashed, message: reason)
                : Event.Reason(code: .engineRestarted, message: "the engine restarted while this job waited between steps (\(reason)); it runs again")
            if job.state == .queued && !suspect {
                putBackUnadmitted(id)
                continue
            }
            if let event = requeue(job, reason: why) { events.append(event) }
        }
        return events
    }

    public func spec(of id: JobID) -> ValidatedJob? { jobs[id]?.spec }
    public var heldJobs: [JobID] { Array(jobs.keys) }

    public func nextWakeup() -> C.Instant? { residency.nextExpiry() }

    // MARK: - Read-only views (operations, tests)

    /// Experts on the device, as the core believes.
    public var residentExperts: Set<ModelKey> { residency.keys }
    /// Jobs the core holds (queued, running, muxing).
    public var jobCount: Int { jobs.count }
    /// The state of a job the core holds.
    public func state(of id: JobID) -> JobState? { jobs[id]?.state }
    /// Device bytes the core plans as used: resident weights + job state (shared encoders excluded).
    public var plannedDeviceBytes: Int64 { residency.weightBytes + heldBytes }
    /// The denoise-step timings measured so far (`LearnedCostModel`); the shell persists and shows them as `learnedSteps`.
    public var stepTimings: StepTimings { cost.timings }

    public var learnedSteps: [LearnedStep] {
        cost.timings.samples.keys.sorted().map { key in
            LearnedStep(
                model: key.expert.model, expert: key.expert.expert, width: key.shape.width, height: key.shape.height,
                frames: key.shape.frames, batchSize: key.batchSize, samples: cost.timings.samples[key] ?? [],
                estimateSeconds: cost.stepTime(shape: key.shape, expert: key.expert, batchSize: key.batchSize).seconds,
                priorSeconds: cost.prior.stepTime(shape: key.shape, expert: key.expert, batchSize: key.batchSize).seconds)
        }
    }

    /// The admit and decode times measured so far (`LearnedCostModel.learnedStages`).
    public var learnedStages: [LearnedStage] { cost.learnedStages }

    public mutating func restoreLearnedStages(_ stages: [LearnedStage]) { cost.restore(stages) }

    public mutating func restoreLearnedSteps(_ steps: [LearnedStep]) {
        var timings = StepTimings(window: cost.timings.window)
        for step in steps {
            let key = StepTimings.Key(expert: step.modelKey, shape: step.shape, batchSize: step.batchSize)
            for seconds in step.samples { timings.record(key, seconds: seconds) }
        }
        cost.timings = timings
    }
    /// The scheduler's current estimate of one denoise step (prior refined by measurements).
    public func estimatedStepTime(_ group: StepGroup, batchSize: Int) -> Duration {
        cost.stepTime(shape: group.shape, expert: group.expert, batchSize: batchSize)
    }
    /// Whether the core is in overload mode (`OverloadSignal`; jobs past their deadline yield under `.tail`) and the
    /// finished jobs' outcomes that judgement rests on: for the overload tests, metrics and the operations view.
    public var deadlineHealth: DeadlineHealth? {
        DeadlineHealth(window: overload.window, jobsCounted: overload.counted, jobsMissed: overload.missed, overloaded: overload.isOverloaded)
    }

    /// The deadline the core derived for a job it holds.
    public func deadline(of id: JobID) -> C.Instant? { jobs[id]?.deadline }

    // MARK: - Bookkeeping

    mutating func track(_ job: SchedulerJob<C.Instant>) -> TrackedJob<C.Instant> {
        let spec = job.spec
        let shape = spec.shapeKey
        let experts = spec.expertPlan.map { ModelKey(model: spec.model, expert: $0) }
        let tail = cost.decodeTime(shape: shape) + cost.outputTime(shape: shape)
        var remaining = [Duration](repeating: tail, count: experts.count + 1)
        for k in stride(from: experts.count - 1, through: 0, by: -1) {
            remaining[k] = remaining[k + 1] + cost.stepTime(shape: shape, expert: experts[k], batchSize: 1)
        }
        let isolated = cost.isolatedLatency(of: spec)
        let budget: Duration = spec.deadlineSeconds.map { .seconds($0) } ?? isolated * (configuration.sloFactors[spec.priority] ?? 3)
        submitted += 1
        let admitWork = cost.admitTime(shape: shape, task: spec.task, batchSize: 1)
        let aim: Duration = switch configuration.objective {
        case .arrival: min(budget, isolated * max(0, configuration.arrivalLatencyFactor))
        case .tail, .deadlines: configuration.targetWait.map { min(budget, isolated + $0) } ?? budget
        }
        var yield: Duration
        switch configuration.objective {
        case .arrival:
            yield = .zero
        case .tail:
            yield = (admitWork + remaining[0]) * configuration.tailYieldFactor
            // The room between the target and the latest start that still makes the deadline (none: no yield at all).
            if let fraction = configuration.tailYieldDeadlineFraction {
                let room = budget - aim - (admitWork + remaining[0])
                yield = min(yield, max(.zero, room * fraction))
            }
        case .deadlines:
            yield = configuration.latePenalty
        }
        return TrackedJob(job: job, state: .queued, deadline: job.arrival.advanced(by: budget), target: job.arrival.advanced(by: aim),
                          lateAt: job.arrival.advanced(by: configuration.objective == .deadlines ? budget : aim),
                          yield: yield,
                          experts: experts, remaining: remaining, admitWork: admitWork, sequence: submitted)
    }

    mutating func enqueue(_ job: TrackedJob<C.Instant>) {
        guard let group = job.group else { return }
        let key = QueueBuckets.Key(tenant: intern(job.tenant), group: intern(group))
        let work = job.admitWork + job.remaining[0]
        let item = QueueBuckets.Item(target: offset(job.target), deadline: offset(job.deadline), lateAt: offset(job.lateAt), yield: job.yield,
                                     work: work, rank: job.rank, sequence: job.sequence, ticket: 0, id: job.id)
        let ticket = queue.insert(item, key: key)
        jobs[job.id]?.ticket = ticket
    }

    /// `instant` as an offset from the epoch (the queue's and the planner's time axis).
    func offset(_ instant: C.Instant) -> Duration { epoch.duration(to: instant) }

    /// The job no longer waits in the queue (handed to the engine, or gone).
    mutating func leaveQueue(_ id: JobID) {
        guard let ticket = jobs[id]?.ticket else { return }
        queue.forget(ticket)
        jobs[id]?.ticket = nil
    }

    mutating func intern(_ group: StepGroup) -> Int {
        if let number = groupNumbers[group] { return number }
        groupList.append(group)
        groupNumbers[group] = groupList.count - 1
        return groupList.count - 1
    }

    mutating func intern(_ tenant: TenantID) -> Int {
        if let number = tenantNumbers[tenant] { return number }
        tenantList.append(tenant)
        tenantNumbers[tenant] = tenantList.count - 1
        fairness.register(tenantList.count - 1, weight: configuration.weight(of: tenant))
        return tenantList.count - 1
    }

    /// Moves `id` to `next` (checked against the transition table) and returns the event. Terminal jobs leave.
    mutating func move(_ id: JobID, to next: JobState, reason: Event.Reason? = nil) -> Event? {
        if next != .queued { leaveQueue(id) }
        guard var job = jobs[id] else { return nil }
        precondition(job.state.canTransition(to: next), "\(id): \(job.state) → \(next) is not allowed")
        let event = Event(job: id, from: job.state, to: next, at: clock.now, reason: reason)
        let leavesEngineWork = (next == .muxing || next.isTerminal) && job.state != .muxing
        if leavesEngineWork { fairness.left(job.tenantNumber) }
        if next.isTerminal {
            jobs[id] = nil
        } else {
            job.state = next
            job.groupNumber = job.group.map { intern($0) }
            jobs[id] = job
        }
        return event
    }

    /// Takes `id` out of the engine's sets; a job holding state gets a release plan.
    mutating func dropFromEngine(_ id: JobID) {
        active.removeAll { $0 == id }
        toDecode.removeAll { $0 == id }
        if held[id] != nil, !toRelease.contains(id) { toRelease.append(id) }
    }

    mutating func hold(_ id: JobID, shape: ShapeKey) {
        guard held[id] == nil else { return }
        let bytes = memory.residentStateBytes(shape: shape)
        held[id] = bytes
        heldBytes += bytes
    }

    mutating func unhold(_ id: JobID) {
        guard let bytes = held.removeValue(forKey: id) else { return }
        heldBytes -= bytes
    }

    /// Back to the queue with its engine state dropped (offered again once a pending release is done). The event
    /// goes to the store, which counts the attempt when the reason is a fault and may end the job (the shell then
    /// `forget`s it); a job still `queued` gets a retry marker (`queued → queued`) only when the reason counts.
    mutating func requeue(_ job: TrackedJob<C.Instant>, reason: Event.Reason) -> Event? {
        active.removeAll { $0 == job.id }
        toDecode.removeAll { $0 == job.id }
        let releasing = held[job.id] != nil
        var event: Event?
        if job.state == .queued {
            if reason.code.countsAsAttempt { event = Event(job: job.id, from: .queued, to: .queued, at: clock.now, reason: reason) }
        } else {
            event = move(job.id, to: .queued, reason: reason)
        }
        if releasing {
            requeueAfterRelease.insert(job.id)
        } else if let again = jobs[job.id], again.ticket == nil {
            enqueue(again)
        }
        return event
    }
}
