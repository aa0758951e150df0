/// What one worker's engine is doing, as the operations view shows it: the plan running now and the jobs in it,
/// the experts resident on the device, and the most recent plan intervals (oldest first, bounded).
///
/// A snapshot value: the worker builds it on request and it never changes afterwards, so it is safe to hand to
/// any task (the HTTP layer encodes it without knowing the worker's types).
public struct EngineActivity: Sendable, Hashable, Codable {
    /// One plan the engine executed: its stage (`load`, `admit`, `step`, `decode`, …), when it started (Unix
    /// seconds), how long it ran, how many jobs it carried and whether it succeeded.
    public struct Interval: Sendable, Hashable, Codable {
        public let stage: String
        public let startedAt: Double
        public let seconds: Double
        public let jobs: Int
        public let ok: Bool

        public init(stage: String, startedAt: Double, seconds: Double, jobs: Int, ok: Bool) {
            self.stage = stage
            self.startedAt = startedAt
            self.seconds = seconds
            self.jobs = jobs
            self.ok = ok
        }
    }

    public var worker: String
    /// The stage of the plan on the engine right now; nil while the engine waits.
    public var runningStage: String?
    /// Jobs in the running plan (the running batch).
    public var runningJobs: [String]
    /// Unfinished jobs this worker holds (admitted, denoising, decoding or muxing, or claimed and waiting).
    public var heldJobs: [String]
    /// Resident experts, as `model` or `model/expert`, sorted.
    public var residentModels: [String]
    public var timeline: [Interval]
    /// Fraction of the worker's life the engine spent executing plans.
    public var busyRatio: Double
    public var plansExecuted: Int
    /// The step times the worker's scheduler measured and plans with (nil from a worker that reports none: the
    /// serial policy, or a heartbeat written before they were reported).
    public var learnedSteps: [LearnedStep]?
    /// The admit and decode times per job it measured and plans deadlines with (nil when none are reported).
    public var learnedStages: [LearnedStage]?
    /// How the worker's last finished jobs fared against their deadlines, and whether its scheduler judges the engine
    /// overloaded (nil from a worker that does not judge it: the serial policy, or an older heartbeat).
    public var deadlineHealth: DeadlineHealth?
    /// Which process wrote this heartbeat: a random id each worker process draws at start. Two processes beating
    /// under one worker id (a misconfiguration the store's fencing cannot tell apart) show up as two incarnations
    /// taking turns (nil from an older heartbeat).
    public var incarnation: String?

    public init(
        worker: String, runningStage: String? = nil, runningJobs: [String] = [], heldJobs: [String] = [],
        residentModels: [String] = [], timeline: [Interval] = [], busyRatio: Double = 0, plansExecuted: Int = 0,
        learnedSteps: [LearnedStep]? = nil, learnedStages: [LearnedStage]? = nil, deadlineHealth: DeadlineHealth? = nil,
        incarnation: String? = nil
    ) {
        self.worker = worker
        self.runningStage = runningStage
        self.runningJobs = runningJobs
        self.heldJobs = heldJobs
        self.residentModels = residentModels
        self.timeline = timeline
        self.busyRatio = busyRatio
        self.plansExecuted = plansExecuted
        self.learnedSteps = learnedSteps
        self.learnedStages = learnedStages
        self.deadlineHealth = deadlineHealth
        self.incarnation = incarnation
    }
}
