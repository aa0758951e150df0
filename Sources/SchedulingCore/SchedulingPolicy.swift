import TurboServeDomain

/// The verbs every scheduling policy offers — TurboServe's own core and the baselines the simulator compares it
/// with (`serial`, `seed`, `dynamic-batch`) — so the simulator and the worker runtime drive them identically.
///
/// Contract:
/// - Pure: no I/O, no sleeping, no wall clock, no environment; time comes only from the injected clock.
/// - One engine per policy instance. `nextPlan()` returns nil while a plan is outstanding (the engine executes
///   one plan at a time) or when nothing is runnable now; the shell calls it again after any other verb.
/// - `planFinished` must be called exactly once per plan returned, with that plan's id.
/// - Not thread-safe: a value type mutated by one owner (the worker's actor, or the simulator's loop).
public protocol SchedulingPolicy<C>: SendableMetatype {
    associatedtype C: Clock where C.Duration == Duration

    var name: String { get }

    /// Queue a job. Throws `queue_full` when the bounded queue is full (a fast rejection, nothing enqueued).
    mutating func submit(_ job: SchedulerJob<C.Instant>) throws(TurboServeError) -> [JobEvent<C.Instant>]

    /// Cancel a job in any non-terminal state. Engine state is freed by a later `release` plan; the job's events
    /// say `cancelled` at once. Unknown or finished jobs return no events.
    mutating func cancel(_ job: JobID) -> [JobEvent<C.Instant>]

    /// The next engine action, or nil.
    mutating func nextPlan() -> Plan?

    /// Report the outcome of a plan returned by `nextPlan`.
    mutating func planFinished(_ plan: PlanID, outcome: PlanOutcome) -> [JobEvent<C.Instant>]

    /// Report that the off-engine output pipeline (MP4 mux, thumbnail, storage) finished a job.
    mutating func outputFinished(_ job: JobID, error: TurboServeError?) -> [JobEvent<C.Instant>]

    /// The engine process died (or hung and was killed): every job holding engine state goes back to `queued`,
    /// residency is cleared, the outstanding plan is forgotten. The jobs of that plan are suspects (reason
    /// `engine_crashed`, which counts an attempt in the store); the others lost their state as bystanders
    /// (`engine_restarted`, which does not). Policies never give up on a job themselves: the store counts attempts.
    mutating func engineLost(reason: String) -> [JobEvent<C.Instant>]

    /// The shell no longer holds the job (the store refused a write, a heartbeat reported it lost, it was
    /// cancelled, or its attempts ran out): drop it without an event; engine state it held is released by a later
    /// plan. Unknown jobs are ignored.
    mutating func forget(_ job: JobID)

    /// The job's validated request while the policy holds it: the one copy the shell reads (for `admit`).
    func spec(of id: JobID) -> ValidatedJob?

    /// Every job the policy holds (queued, running, muxing), in no particular order.
    var heldJobs: [JobID] { get }

    /// The earliest instant at which `nextPlan()` could return a plan although no verb was called (a batching
    /// delay expiring, a keep-alive eviction due), or nil. Lets the shell arm one timer instead of polling.
    func nextWakeup() -> C.Instant?

    /// The denoise-step times the policy measured and plans with, for the operations view and for a restarted
    /// worker (default: none — a policy that does not learn).
    var learnedSteps: [LearnedStep] { get }

    /// Starts from step times measured before (the worker's last heartbeat): estimates use them until new
    /// measurements replace them (default: ignored).
    mutating func restoreLearnedSteps(_ steps: [LearnedStep])

    /// The admit and decode times per job the policy measured and plans deadlines with (default: none).
    var learnedStages: [LearnedStage] { get }

    /// Starts from stage times measured before, as `restoreLearnedSteps` does for steps (default: ignored).
    mutating func restoreLearnedStages(_ stages: [LearnedStage])

    /// How the last finished jobs fared against their deadlines and whether the policy judges the engine overloaded,
    /// for metrics and the operations view (default: nil — a policy that does not judge it).
    var deadlineHealth: DeadlineHealth? { get }
}

extension SchedulingPolicy {
    public var learnedSteps: [LearnedStep] { [] }
    public mutating func restoreLearnedSteps(_ steps: [LearnedStep]) {}
    public var learnedStages: [LearnedStage] { [] }
    public mutating func restoreLearnedStages(_ stages: [LearnedStage]) {}
    public var deadlineHealth: DeadlineHealth? { nil }

    /// Forgetting is cancelling without telling anyone: the events are the shell's to drop.
    public mutating func forget(_ job: JobID) { _ = cancel(job) }
}
