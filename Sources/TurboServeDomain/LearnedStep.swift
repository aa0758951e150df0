/// What a worker's scheduler learned about one denoise step group at one batch size: the measured engine times it
/// keeps (newest last, a bounded window) and what it now estimates a step costs, beside the calibrated prior's
/// figure. Carried in the worker's heartbeat (`EngineActivity.learnedSteps`), so `/v1/operations` shows it and a
/// restarted worker with the same id starts from what it measured before instead of the prior.
public struct LearnedStep: Sendable, Hashable, Codable {
    public var model: String
    public var expert: Expert
    public var width: Int
    public var height: Int
    public var frames: Int
    public var batchSize: Int
    /// Measured seconds of engine compute per step plan, newest last.
    public var samples: [Double]
    /// What the scheduler plans with now (the median of `samples`).
    public var estimateSeconds: Double
    /// What the calibrated prior alone would say.
    public var priorSeconds: Double

    public init(model: String, expert: Expert, width: Int, height: Int, frames: Int, batchSize: Int, samples: [Double], estimateSeconds: Double, priorSeconds: Double) {
        self.model = model
        self.expert = expert
        self.width = width
        self.height = height
        self.frames = frames
        self.batchSize = batchSize
        self.samples = samples
        self.estimateSeconds = estimateSeconds
        self.priorSeconds = priorSeconds
    }

    public var modelKey: ModelKey { ModelKey(model: model, expert: expert) }
    public var shape: ShapeKey { ShapeKey(model: model, width: width, height: height, frames: frames) }
}
