import SchedulingCore
import TurboServeDomain

/// What the engine was doing during an interval of the timeline.
public enum EngineActivity: String, Sendable, Hashable, Codable, CaseIterable {
    /// GPU work: text/image encode, denoise steps, VAE decode, releases.
    case compute
    /// Moving weights on or off the device.
    case switching
    /// CPU work a policy ran on the engine path (`onEnginePath`): the GPU waits.
    case cpuOnPath = "cpu_on_path"
    /// No plan.
    case idle
}

/// The simulated engine: performs one plan at a time with durations from the cost model, and holds the device's
/// true state (resident weights, jobs with state on the device) so that a policy's plans are checked the way the
/// real engine checks them: a step needs its expert resident, all samples of a step share a shape, and weights +
/// job state + the step's activations must fit in device memory (else the plan fails `engine_out_of_memory`).
///
/// Weight transfers follow `cost.transfers`. Upstream, a load or an unload holds the engine for the whole copy.
/// Streamed, a load reserves the memory and returns after the fixed part; the bytes then arrive on one copy lane
/// (transfers queue behind each other) while the engine computes anything else, and the first step on that
/// expert waits only for what its compute cannot cover (`CalibratedCostModel.streamedWaitSeconds`). Copying is
/// assumed not to slow compute (a separate copy engine; the steps are compute-bound).
/// A value type owned by the simulator's loop.
struct SimulatedEngine {
    let cost: CalibratedCostModel
    private(set) var resident: Set<ModelKey> = []
    private var held: [JobID: ShapeKey] = [:]
    private var heldBytes: Int64 = 0
    /// Streamed loads still arriving: when each one's last byte is on the device (simulated seconds).
    private var arriving: [ModelKey: Double] = [:]
    /// When the copy lane is free for the next streamed load.
    private var copyLaneFree = 0.0
    private(set) var loads = 0
    private(set) var unloads = 0
    private(set) var stepCalls = 0
    private(set) var stepSamples = 0
    /// Step calls by batch size.
    private(set) var stepCallsBySize: [Int: Int] = [:]
    private(set) var failedPlans = 0
    /// Seconds spent in each activity (idle is derived by the caller).
    private(set) var seconds: [EngineActivity: Double] = [:]
    /// Seconds by stage, for the serial shares table: parse, switch, mux, compute.
    private(set) var stageSeconds: [String: Double] = [:]

    init(cost: CalibratedCostModel) { self.cost = cost }

    var freeBytes: Int64 {
        cost.deviceMemoryBytes - cost.sharedBytes - resident.reduce(0) { $0 + cost.weightBytes($1) } - heldBytes
    }

    struct Execution {
        /// Seconds the plan held the engine, `waitSeconds` included.
        let seconds: Double
        let activity: EngineActivity
        let outcome: PlanOutcome
        /// The first part of `seconds` spent waiting for streamed weights (drawn as switching).
        var waitSeconds = 0.0
    }

    /// Performs `action` at simulated time `now` on the device state and says how long it took. `specs` has every
    /// job the plan names.
    mutating func perform(_ action: PlanAction, specs: [JobID: ValidatedJob], now: Double) -> Execution {
        switch action {
        case let .load(key):
            guard !resident.contains(key) else { return done(0, .switching, stage: "switch") }
            guard cost.weightBytes(key) <= freeBytes else { return refuse(.engineOutOfMemory, "loading \(key) does not fit") }
            resident.insert(key)
            loads += 1
            guard cost.transfers == .streamed else { return done(cost.loadSeconds(key), .switching, stage: "switch") }
            let start = max(now + cost.transferFixedSeconds, copyLaneFree)
            copyLaneFree = start + cost.loadSeconds(key) - cost.transferFixedSeconds
            arriving[key] = copyLaneFree
            return done(cost.transferFixedSeconds, .switching, stage: "switch")
        case let .unload(key):
            guard resident.remove(key) != nil else { return done(0, .switching, stage: "switch") }
            unloads += 1
            // Freeing memory that is still being written waits for the copy to land first.
            let pending = arriving.removeValue(forKey: key).map { max(0, $0 - now) } ?? 0
            return done(pending + cost.unloadSeconds(key), .switching, stage: "switch")
        case let .admit(jobs, _):
            var groups: [ShapeKey: (task: TaskKind, count: Int)] = [:]
            for job in jobs {
                guard let spec = specs[job] else { continue }
                groups[spec.shapeKey, default: (spec.task, 0)].count += 1
                hold(job, spec.shapeKey)
            }
            let seconds = groups.reduce(0.0) { $0 + cost.admitSeconds(shape: $1.key, task: $1.value.task, batchSize: $1.value.count) }
            return done(seconds, .compute, stage: "compute")
        case let .step(expert, steps):
            return step(expert, steps, now: now)
        case let .decode(jobs):
            let seconds = jobs.reduce(0.0) { $0 + (held[$1].map(cost.decodeSeconds) ?? 0) }
            for job in jobs { drop(job) }
            return done(seconds, .compute, stage: "compute")
        case let .release(jobs):
            for job in jobs { drop(job) }
            return done(cost.releaseSeconds, .compute, stage: "compute")
        case let .onEnginePath(work, jobs):
            let shapes = jobs.compactMap { specs[$0]?.shapeKey }
            switch work {
            case .parse: return done(shapes.reduce(0) { $0 + cost.parseSeconds($1) }, .cpuOnPath, stage: "parse")
            case .mux: return done(shapes.reduce(0) { $0 + cost.muxSeconds($1) }, .cpuOnPath, stage: "mux")
            }
        }
    }

    /// The engine process died: everything on the device is gone.
    mutating func lose() {
        resident.removeAll()
        arriving.removeAll()
        held.removeAll()
        heldBytes = 0
    }

    private mutating func step(_ expert: ModelKey, _ steps: [JobStep], now: Double) -> Execution {
        guard resident.contains(expert) else { return refuse(.engineError, "step on \(expert), which is not resident") }
        let shapes = Set(steps.compactMap { held[$0.job] })
        guard shapes.count == 1, let shape = shapes.first, steps.allSatisfy({ held[$0.job] != nil }) else {
            return refuse(.engineError, "step batch needs admitted jobs of one shape; got \(shapes.count) shapes")
        }
        guard shape.model == expert.model else { return refuse(.engineError, "step of \(shape) on \(expert)") }
        guard Int64(steps.count) * cost.activationBytes(shape: shape) <= freeBytes else {
            return refuse(.engineOutOfMemory, "batch of \(steps.count) at \(shape) does not fit")
        }
        stepCalls += 1
        stepSamples += steps.count
        stepCallsBySize[steps.count, default: 0] += 1
        let seconds = cost.stepSeconds(shape: shape, expert: expert, batchSize: steps.count)
        let wait = arriving.removeValue(forKey: expert).map {
            cost.streamedWaitSeconds(transferLeft: max(0, $0 - now), stepSeconds: seconds)
        } ?? 0
        guard wait > 0 else { return done(seconds, .compute, stage: "compute") }
        _ = done(wait, .switching, stage: "switch")
        let computed = done(seconds, .compute, stage: "compute")
        return Execution(seconds: seconds + wait, activity: .compute, outcome: computed.outcome, waitSeconds: wait)
    }

    private mutating func hold(_ job: JobID, _ shape: ShapeKey) {
        guard held[job] == nil else { return }
        held[job] = shape
        heldBytes += cost.residentStateBytes(shape: shape)
    }

    private mutating func drop(_ job: JobID) {
        guard let shape = held.removeValue(forKey: job) else { return }
        heldBytes -= cost.residentStateBytes(shape: shape)
    }

    private mutating func done(_ seconds: Double, _ activity: EngineActivity, stage: String) -> Execution {
        self.seconds[activity, default: 0] += seconds
        stageSeconds[stage, default: 0] += seconds
        return Execution(seconds: seconds, activity: activity, outcome: .completed(engineTime: .seconds(seconds), freeMemoryBytes: freeBytes))
    }

    private mutating func refuse(_ code: TurboServeError.Code, _ message: String) -> Execution {
        failedPlans += 1
        return Execution(seconds: 0.05, activity: .compute, outcome: .failed(code: code, message: message, retryable: code == .engineOutOfMemory, jobs: nil))
    }
}
