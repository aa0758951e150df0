import TurboServeDomain

/// A cost model that learns denoise-step, admit and decode times from measured plans and falls back to its `prior`
/// (the calibrated profile) for everything it has not measured: a step at a measured batch size costs the window
/// median; at an unmeasured batch size of a measured group, the prior scaled by the measured/prior ratio of the
/// nearest measured batch size (so a uniformly slower GPU is learned for every batch size at once); otherwise the
/// prior. Admit and decode are learned per job from plans of one shape (`stages`) and scale the prior the same way
/// (admit: the prior at the batch size × measured/prior at one job). Transfers and the output pipeline come from
/// the prior. Every learned time feeds `isolatedLatency`, so deadlines follow the engine actually measured. Pure and
/// cheap; `Sendable`.
public struct LearnedCostModel: CostEstimating, Sendable {
    /// An engine stage timed per job: what `stages` is keyed by.
    public struct StageKey: Sendable, Hashable, Codable {
        public typealias Stage = LearnedStage.Stage
        public let stage: Stage
        public let shape: ShapeKey
        /// The task for admit (I2V also encodes an image); nil for decode.
        public let task: TaskKind?
    }

    public let prior: any CostEstimating
    public var timings: StepTimings
    /// Measured seconds per job of admit and decode plans.
    public var stages: RecentMedians<StageKey>

    public init(prior: any CostEstimating, timings: StepTimings = StepTimings()) {
        self.prior = prior
        self.timings = timings
        stages = RecentMedians(window: timings.window)
    }

    /// Records one measured admit plan of `jobs` jobs of one shape and task (`seconds` for the whole plan).
    public mutating func recordAdmit(shape: ShapeKey, task: TaskKind, jobs: Int, seconds: Double) {
        guard jobs > 0 else { return }
        // Per job at the prior's batch scaling: a batch of n is scaled back to what one job would cost.
        let batchPrior = prior.admitTime(shape: shape, task: task, batchSize: jobs).seconds
        let singlePrior = prior.admitTime(shape: shape, task: task, batchSize: 1).seconds
        let perJob = batchPrior > 0 ? seconds * singlePrior / batchPrior : seconds / Double(jobs)
        stages.record(StageKey(stage: .admit, shape: shape, task: task), seconds: perJob)
    }

    /// Records one measured decode plan of `jobs` jobs of one shape (`seconds` for the whole plan).
    public mutating func recordDecode(shape: ShapeKey, jobs: Int, seconds: Double) {
        guard jobs > 0 else { return }
        stages.record(StageKey(stage: .decode, shape: shape, task: nil), seconds: seconds / Double(jobs))
    }

    /// Records one measured step plan: `seconds` of engine compute for `batchSize` samples of `group`.
    public mutating func recordStep(_ group: StepGroup, batchSize: Int, seconds: Double) {
        timings.record(StepTimings.Key(expert: group.expert, shape: group.shape, batchSize: batchSize), seconds: seconds)
    }

    public func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration {
        let size = max(1, batchSize)
        let prior = self.prior.stepTime(shape: shape, expert: expert, batchSize: size)
        guard !timings.isEmpty, let nearest = timings.nearest(expert: expert, shape: shape, batchSize: size) else { return prior }
        if nearest.batchSize == size { return .seconds(nearest.seconds) }
        let reference = self.prior.stepTime(shape: shape, expert: expert, batchSize: nearest.batchSize)
        guard reference > .zero else { return prior }
        return prior * (nearest.seconds / reference.seconds)
    }

    public func isolatedLatency(of job: ValidatedJob) -> Duration {
        let shape = job.shapeKey
        let priorSteps = job.expertPlan.reduce(Duration.zero) { $0 + prior.stepTime(shape: shape, expert: ModelKey(model: job.model, expert: $1), batchSize: 1) }
        let learnedSteps = job.expertPlan.reduce(Duration.zero) { $0 + stepTime(shape: shape, expert: ModelKey(model: job.model, expert: $1), batchSize: 1) }
        let priorStages = prior.admitTime(shape: shape, task: job.task, batchSize: 1) + prior.decodeTime(shape: shape)
        let learnedStages = admitTime(shape: shape, task: job.task, batchSize: 1) + decodeTime(shape: shape)
        return prior.isolatedLatency(of: job) - priorSteps + learnedSteps - priorStages + learnedStages
    }

    public func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration {
        let estimate = prior.admitTime(shape: shape, task: task, batchSize: batchSize)
        guard let measured = stages.median(StageKey(stage: .admit, shape: shape, task: task)) else { return estimate }
        let single = prior.admitTime(shape: shape, task: task, batchSize: 1)
        return single > .zero ? estimate * (measured / single.seconds) : .seconds(measured * Double(max(1, batchSize)))
    }

    /// The per-job stage times measured so far, with what they now estimate for one job and the prior's figure.
    public var learnedStages: [LearnedStage] {
        stages.samples.keys.sorted { ($0.stage.rawValue, $0.shape.description, $0.task?.rawValue ?? "") < ($1.stage.rawValue, $1.shape.description, $1.task?.rawValue ?? "") }.map { key in
            let (estimate, prior) = switch key.stage {
            case .admit: (admitTime(shape: key.shape, task: key.task ?? .textToVideo, batchSize: 1), self.prior.admitTime(shape: key.shape, task: key.task ?? .textToVideo, batchSize: 1))
            case .decode: (decodeTime(shape: key.shape), self.prior.decodeTime(shape: key.shape))
            }
            return LearnedStage(stage: key.stage, model: key.shape.model, width: key.shape.width, height: key.shape.height, frames: key.shape.frames,
                                task: key.task, samples: stages.samples[key] ?? [], estimateSeconds: estimate.seconds, priorSeconds: prior.seconds)
        }
    }

    /// Starts over from `learned` (stage times measured before a restart) in place of what was recorded.
    public mutating func restore(_ learned: [LearnedStage]) {
        var restored = RecentMedians<StageKey>(window: stages.window)
        for stage in learned {
            let key = StageKey(stage: stage.stage, shape: stage.shape, task: stage.stage == .admit ? stage.task : nil)
            for seconds in stage.samples { restored.record(key, seconds: seconds) }
        }
        stages = restored
    }

    public func decodeTime(shape: ShapeKey) -> Duration {
        stages.median(StageKey(stage: .decode, shape: shape, task: nil)).map { .seconds($0) } ?? prior.decodeTime(shape: shape)
    }
    public func loadTime(_ expert: ModelKey) -> Duration { prior.loadTime(expert) }
    public func unloadTime(_ expert: ModelKey) -> Duration { prior.unloadTime(expert) }
    public func outputTime(shape: ShapeKey) -> Duration { prior.outputTime(shape: shape) }
}
