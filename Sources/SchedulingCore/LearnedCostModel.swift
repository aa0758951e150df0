import TurboServeDomain

/// A cost model that learns denoise-step times from measured plans and falls back to its `prior` (the calibrated
/// profile) for everything it has not measured: a step at a measured batch size costs the window median; at an
/// unmeasured batch size of a measured group, the prior scaled by the measured/prior ratio of the nearest measured
/// batch size (so a uniformly slower GPU is learned for every batch size at once); otherwise the prior. Admit,
/// decode, transfers and the output pipeline come from the prior. Pure and cheap; `Sendable`.
public struct LearnedCostModel: CostEstimating, Sendable {
    public let prior: any CostEstimating
    public var timings: StepTimings

    public init(prior: any CostEstimating, timings: StepTimings = StepTimings()) {
        self.prior = prior
        self.timings = timings
    }

    /// Records one measured step plan: `seconds` of engine compute for `batchSize` samples of `group`.
    public mutating func recordStep(_ group: StepGroup, batchSize: Int, seconds: Double) {
        timings.record(StepTimings.Key(expert: group.expert, shape: group.shape, batchSize: batchSize), seconds: seconds)
    }

    public func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration {
        let size = max(1, batchSize)
        let prior = self.prior.stepTime(shape: shape, expert: expert, batchSize: size)
        if let measured = timings.median(StepTimings.Key(expert: expert, shape: shape, batchSize: size)) { return .seconds(measured) }
        guard let nearest = timings.batchSizes(expert: expert, shape: shape).min(by: { abs($0 - size) < abs($1 - size) }),
              let measured = timings.median(StepTimings.Key(expert: expert, shape: shape, batchSize: nearest)) else { return prior }
        let reference = self.prior.stepTime(shape: shape, expert: expert, batchSize: nearest)
        guard reference > .zero else { return prior }
        return prior * (measured / reference.seconds)
    }

    public func isolatedLatency(of job: ValidatedJob) -> Duration {
        let shape = job.shapeKey
        let priorSteps = job.expertPlan.reduce(Duration.zero) { $0 + prior.stepTime(shape: shape, expert: ModelKey(model: job.model, expert: $1), batchSize: 1) }
        let learnedSteps = job.expertPlan.reduce(Duration.zero) { $0 + stepTime(shape: shape, expert: ModelKey(model: job.model, expert: $1), batchSize: 1) }
        return prior.isolatedLatency(of: job) - priorSteps + learnedSteps
    }

    public func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration { prior.admitTime(shape: shape, task: task, batchSize: batchSize) }
    public func decodeTime(shape: ShapeKey) -> Duration { prior.decodeTime(shape: shape) }
    public func loadTime(_ expert: ModelKey) -> Duration { prior.loadTime(expert) }
    public func unloadTime(_ expert: ModelKey) -> Duration { prior.unloadTime(expert) }
    public func outputTime(shape: ShapeKey) -> Duration { prior.outputTime(shape: shape) }
}
