import SchedulingCore
import TurboServeDomain

/// A cost and memory model with round numbers, so a test can reason about time by hand:
/// a step costs `1 s × √batch` on the 1.3B, `4 s × batch` on the 14B networks; loads/unloads 5 s; admit 0.1 s a
/// job; decode 0.5 s. Memory: 1.3B 3 GB, each 14B network 28 GB; a sample's activations 2 GB; a job's state 0.1 GB.
/// `loadSeconds` (default 5) is the cost of a load and of an unload: 0.2 stands for TurboServe's streamed loads.
struct RoundCost: CostEstimating, MemoryEstimating {
    static let gb: Int64 = 1_000_000_000
    var loadSeconds = 5.0
    func isolatedLatency(of job: ValidatedJob) -> Duration {
        let shape = job.shapeKey
        return admitTime(shape: shape, task: job.task, batchSize: 1) + decodeTime(shape: shape)
            + job.expertPlan.reduce(.zero) { $0 + stepTime(shape: shape, expert: ModelKey(model: job.model, expert: $1), batchSize: 1) }
    }
    func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration {
        shape.model == Models.small ? .seconds(Double(batchSize).squareRoot()) : .seconds(4 * batchSize)
    }
    func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration { .milliseconds(100 * batchSize) }
    func decodeTime(shape: ShapeKey) -> Duration { .milliseconds(500) }
    func loadTime(_ expert: ModelKey) -> Duration { .seconds(loadSeconds) }
    func weightBytes(_ expert: ModelKey) -> Int64 { expert.model == Models.small ? 3 * Self.gb : 28 * Self.gb }
    func activationBytes(shape: ShapeKey) -> Int64 { 2 * Self.gb }
    func residentStateBytes(shape: ShapeKey) -> Int64 { Self.gb / 10 }
}

enum Models {
    static let small = "wan2.1-t2v-1.3b"
    static let large = "wan2.1-t2v-14b"
    static let i2v = "wan2.2-i2v-a14b"
    static var smallKey: ModelKey { ModelKey(model: small) }
    static var largeKey: ModelKey { ModelKey(model: large) }
    static var high: ModelKey { ModelKey(model: i2v, expert: .highNoise) }
    static var low: ModelKey { ModelKey(model: i2v, expert: .lowNoise) }
}

/// Builds validated jobs for the tests.
enum Jobs {
    static func spec(_ model: String = Models.small, steps: Int = 4, priority: PriorityClass = .standard, deadline: Double? = nil) -> ValidatedJob {
        let i2v = model == Models.i2v
        let size = i2v ? FrameSize(width: 1280, height: 720) : FrameSize(width: 832, height: 480)
        return ValidatedJob(model: model, task: i2v ? .imageToVideo : .textToVideo, prompt: "a fox", imagePath: i2v ? "/tmp/x.png" : nil,
                            width: size.width, height: size.height, frames: 81, fps: 16, steps: steps, seed: 1, sampler: .sde,
                            sigmaMax: i2v ? 200 : 80, boundary: 0.9, attention: .original, quantLinear: false, adaptiveResolution: false,
                            negativePrompt: nil, priority: priority, deadlineSeconds: deadline)
    }
}

/// Plays the engine for a `TurboScheduler` on a virtual clock, step by step: takes the next plan, checks it the way
/// the real engine would (a step's expert is resident, its jobs are admitted and share a shape, weights + job
/// state + activations fit the device), advances the clock by the plan's cost and reports it finished. Output
/// (muxing) finishes at once. Records every plan and every event so a test can assert on the sequence.
struct EnginePlayer {
    var scheduler: TurboScheduler<VirtualClock>
    let clock: VirtualClock
    let cost: RoundCost
    let capacity: Int64
    /// What the engine reports as a step plan's engine time, given the cost model's: the identity unless a test
    /// plays an engine that runs slower or noisier than the prior (`LearnedCostTests`).
    var measuredStep: (Duration) -> Duration = { $0 }
    /// The same for a decode plan (the cost model's decode time × its jobs).
    var measuredDecode: (Duration) -> Duration = { $0 }
    var resident: Set<ModelKey> = []
    var admitted: [JobID: ShapeKey] = [:]
    var plans: [PlanAction] = []
    var events: [JobEvent<VirtualClock.Instant>] = []
    var finished: [JobID: VirtualClock.Instant] = [:]
    /// Largest weights + state + activations any plan needed (bytes).
    var peakBytes: Int64 = 0
    var violations: [String] = []

    init(cost: RoundCost = RoundCost(), configure: (inout TurboSchedulerConfiguration) -> Void = { _ in }) {
        self.cost = cost
        var configuration = TurboSchedulerConfiguration()
        configuration.deviceMemoryBytes = 48 * RoundCost.gb
        configuration.sharedBytes = 12 * RoundCost.gb
        configuration.keepAlive = nil
        configure(&configuration)
        clock = VirtualClock()
        capacity = configuration.deviceMemoryBytes - configuration.sharedBytes
        scheduler = TurboScheduler(clock: clock, cost: cost, memory: cost, configuration: configuration)
    }

    var now: Double { clock.now.seconds }

    mutating func submit(_ id: JobID, _ spec: ValidatedJob, tenant: TenantID = .default) {
        let job = SchedulerJob(id: id, tenant: tenant, spec: spec, arrival: clock.now)
        record(try! scheduler.submit(job))
    }

    /// Runs one plan; nil when the scheduler has nothing to do now.
    @discardableResult
    mutating func runOne() -> PlanAction? {
        guard let plan = scheduler.nextPlan() else { return nil }
        plans.append(plan.action)
        let seconds = perform(plan.action)
        clock.advance(by: seconds)
        record(scheduler.planFinished(plan.id, outcome: .completed(engineTime: seconds, freeMemoryBytes: nil)))
        return plan.action
    }

    /// Runs plans until the scheduler has none (or `limit` plans).
    mutating func runUntilIdle(limit: Int = 10_000) {
        for _ in 0..<limit where runOne() != nil {}
    }

    mutating func record(_ new: [JobEvent<VirtualClock.Instant>]) {
        events += new
        for event in new {
            if event.to == .muxing { record(scheduler.outputFinished(event.job, error: nil)) }
            if event.to.isTerminal { finished[event.job] = event.at }
        }
    }

    mutating func perform(_ action: PlanAction) -> Duration {
        switch action {
        case let .load(key):
            resident.insert(key)
            check(extra: 0, "load \(key)")
            return cost.loadTime(key)
        case let .unload(key):
            resident.remove(key)
            return cost.unloadTime(key)
        case let .admit(ids, _):
            for id in ids { admitted[id] = Jobs.spec().shapeKey }
            check(extra: 0, "admit")
            return cost.admitTime(shape: Jobs.spec().shapeKey, task: .textToVideo, batchSize: ids.count)
        case let .step(expert, steps):
            if !resident.contains(expert) { violations.append("step on \(expert), not resident") }
            for step in steps where admitted[step.job] == nil { violations.append("step of \(step.job), not admitted") }
            check(extra: Int64(steps.count) * cost.activationBytes(shape: Jobs.spec().shapeKey), "step of \(steps.count)")
            return measuredStep(cost.stepTime(shape: ShapeKey(model: expert.model, width: 0, height: 0, frames: 1), expert: expert, batchSize: steps.count))
        case let .decode(ids):
            for id in ids { admitted[id] = nil }
            return measuredDecode(cost.decodeTime(shape: Jobs.spec().shapeKey) * ids.count)
        case let .release(ids):
            for id in ids { admitted[id] = nil }
            return .milliseconds(10)
        case .onEnginePath:
            return .zero
        }
    }

    mutating func check(extra: Int64, _ what: String) {
        let used = resident.reduce(0) { $0 + cost.weightBytes($1) } + Int64(admitted.count) * cost.residentStateBytes(shape: Jobs.spec().shapeKey) + extra
        peakBytes = max(peakBytes, used)
        if used > capacity { violations.append("\(what) needs \(used) bytes of \(capacity)") }
    }

    /// The step plans, as (expert, jobs) pairs.
    var steps: [(expert: ModelKey, jobs: [JobID])] {
        plans.compactMap { if case let .step(expert, steps) = $0 { (expert, steps.map(\.job)) } else { nil } }
    }

    var loads: [ModelKey] { plans.compactMap { if case let .load(key) = $0 { key } else { nil } } }
    var unloads: [ModelKey] { plans.compactMap { if case let .unload(key) = $0 { key } else { nil } } }

    func state(_ id: JobID) -> JobState.Phase? {
        events.last { $0.job == id }?.to.phase ?? scheduler.state(of: id)?.phase
    }
}
