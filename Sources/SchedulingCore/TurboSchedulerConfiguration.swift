import TurboServeDomain

/// The knobs of `TurboScheduler`, with the defaults `turboserve serve` and `turboserve bench` start from.
public struct TurboSchedulerConfiguration: Sendable {
    /// Device memory the plan is bounded by, and the part the shared text encoder + VAE always occupy.
    public var deviceMemoryBytes: Int64 = 48_000_000_000
    public var sharedBytes: Int64 = ModelCatalog.sharedComponentBytes
    /// Jobs the core holds at once (queued + running); more is a fast `queue_full` rejection.
    public var maxQueued = 10_000
    /// Samples in one denoise call at most (the memory model may allow fewer).
    public var maxBatchSize = 8
    /// Jobs holding engine state (admitted, part-way denoised) at most; bounds the state a crash or a preemption
    /// throws away.
    public var maxActiveJobs = 32
    /// Deadline = factor × the job's isolated latency after arrival, per priority class, unless the request sets
    /// `deadline_seconds`.
    public var sloFactors: [PriorityClass: Double] = [.interactive: 3, .standard: 5, .batch: 20]
    /// The scheduler aims to finish every job within its isolated latency + this wait (or by its deadline, if that
    /// is sooner), and orders work by that target: long jobs with generous deadlines are not left until the last
    /// moment, which keeps tail latency down. nil: aim at the deadline itself (pure EDF).
    public var targetWait: Duration? = .seconds(60)
    /// Resident work may go before the most urgent job while that job's slack to its target covers it. Work
    /// shorter than this fraction of the urgent job's remaining time (a quick T2V step between I2V steps) may go
    /// first as long as the urgent job still makes its deadline. Work of the same model's other expert (another
    /// I2V job's phase) goes first only when the two switches it saves cost more than it takes.
    public var shortPassFraction = 0.05
    /// A job that can no longer meet its deadline yields to jobs that still can whose deadlines fall within this
    /// much after its own. It is still bounded: a late job is served at most this long after its deadline's turn,
    /// so nothing starves (the aging bound).
    public var latePenalty: Duration = .seconds(200)
    /// What to favour under contention: a short tail (default), deadlines met, or arrival order
    /// (`SchedulingObjective`).
    public var objective: SchedulingObjective = .tail
    /// Under `.arrival`, each job aims at arrival + this × its isolated latency (its deadline, if sooner) instead of
    /// `targetWait`: a shorter job may go before an earlier, longer one only when it arrived less than this fraction
    /// of the difference of their isolated latencies later (0: strict arrival order).
    public var arrivalLatencyFactor = SchedulingObjective.defaultArrivalLatencyFactor
    /// Under `.tail`, a late job yields by this multiple of its own work (instead of `latePenalty`).
    public var tailYieldFactor = 2.0
    /// Under `.tail`, the yield is bounded by the job's deadline: a late job moves back by at most this fraction of
    /// the room between its target and the last moment it can start and still make its deadline
    /// (`deadline − work − target`), so yielding never by itself costs a job its deadline. A job without such room
    /// (a short job whose target is its deadline) does not yield. nil: the yield is `tailYieldFactor` × work alone.
    public var tailYieldDeadlineFraction: Double? = 0.5
    /// Overload mode (under `.tail`): while overloaded, a job that can no longer make its deadline even if it ran
    /// alone from now moves back by this much more than its late yield, whether queued or part-way denoised, so the
    /// jobs that can still make theirs go first; a missed job is still served at most this long after its turn (the
    /// aging bound). Near saturation, serving a missed job in its turn keeps the tail short; past it, every job
    /// served late makes the one behind it late too, and without yielding hardly any job makes its deadline. nil: off.
    public var missedYield: Duration? = .seconds(200)
    /// Overloaded from when more than this fraction of the last `overloadWindow` jobs to finish missed their
    /// deadline until at most `overloadExitMissFraction` did (`OverloadSignal`).
    public var overloadEnterMissFraction = 0.7
    public var overloadExitMissFraction = 0.3
    public var overloadWindow = 20
    /// Deadline rescue (under `.tail` and `.arrival`): when the most urgent job can no longer make its deadline, a
    /// job that still can goes first once its deadline slack is at most this fraction of its own work (under
    /// `.arrival`, also once it is at most the late job's remaining work). Under overload, work that is already late
    /// would otherwise keep a long job with a generous deadline (I2V) waiting until it misses too, and the next one
    /// behind it. nil: off.
    public var rescueHorizonFraction: Double? = 0.25
    /// A job joins a step batch only while the batch's step grows by at most this fraction of a solo step for each
    /// job added: batching pays where the GPU has room (the 1.3B at 480p: +0.52 of a solo step for the second
    /// sample), not where one sample fills it (I2V at 720p: +0.96), which would only make every job of the batch
    /// finish as late as the last. nil (the default): any batch the memory and slack rules allow. Off by default: on
    /// seed-mix it moved P95/P99 by only 2–5% (on 099bfcf: `docs/benchmarks-history.md`), and the tiny CPU engine's batches (+0.87 of a
    /// solo step) would stop.
    public var batchPayFraction: Double?
    /// Learn denoise-step times from the engine time of every completed step plan, per step group and batch size
    /// (`LearnedCostModel`: a windowed median over `StepTimings`), instead of planning with the prior alone.
    public var learnStepTimes = true
    /// Deadline shift per second of engine service a tenant received beyond the least-served backlogged tenant
    /// (weighted fair share). 0 turns fair share off.
    public var fairShareScale = 1.0
    /// Fair-share weights (absent tenants weigh 1).
    public var tenantWeights: [TenantID: Double] = [:]
    /// An expert nobody has used for this long is unloaded when the engine is otherwise idle (nil: never).
    public var keepAlive: Duration? = .seconds(300)
    /// Residency units (experts) on the device at most, besides memory (nil: memory decides).
    public var maxResident: Int?
    /// Loaded when the engine is idle and kept warm (exempt from keep-alive; evictable when memory is needed).
    public var preload: [ModelKey] = []
    /// Never evicted.
    public var pinned: Set<ModelKey> = []

    public init() {}

    /// Weight of `tenant` (1 when not configured).
    public func weight(of tenant: TenantID) -> Double { max(1e-6, tenantWeights[tenant] ?? 1) }
}
