/// What a worker's scheduler learned about one engine stage around the steps — admitting (text and, for I2V,
/// image encoding) or decoding (VAE) — for one shape: the measured seconds per job it keeps (newest last, a bounded
/// window) and what it now estimates, beside the calibrated prior's figure. Carried in the heartbeat
/// (`EngineActivity.learnedStages`) like `LearnedStep`, so `/v1/operations` shows it and a restarted worker with the
/// same id plans its deadlines from what it measured before.
public struct LearnedStage: Sendable, Hashable, Codable {
    /// The stages learned per job.
    public enum Stage: String, Sendable, Hashable, Codable, CaseIterable { case admit, decode }

    public var stage: Stage
    public var model: String
    public var width: Int
    public var height: Int
    public var frames: Int
    /// The task, for admit (I2V also encodes an image); nil for decode.
    public var task: TaskKind?
    /// Measured seconds per job, newest last.
    public var samples: [Double]
    /// What the scheduler plans one job's stage with now (the median of `samples`).
    public var estimateSeconds: Double
    /// What the calibrated prior alone would say for one job.
    public var priorSeconds: Double

    public init(stage: Stage, model: String, width: Int, height: Int, frames: Int, task: TaskKind?, samples: [Double], estimateSeconds: Double, priorSeconds: Double) {
        self.stage = stage
        self.model = model
        self.width = width
        self.height = height
        self.frames = frames
        self.task = task
        self.samples = samples
        self.estimateSeconds = estimateSeconds
        self.priorSeconds = priorSeconds
    }

    public var shape: ShapeKey { ShapeKey(model: model, width: width, height: height, frames: frames) }
}
