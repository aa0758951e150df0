import SchedulingCore
import ServerConfiguration
import TurboServeDomain
import WorkerRuntime

/// The policy every worker of this process runs, chosen by `scheduler.policy`: TurboServe's scheduling core (the
/// default) or the serial baseline, both on the wall clock. One type for both, so the worker, its pool and the
/// composition root stay the same whichever plans; every verb goes to the chosen policy unchanged.
///
/// Exactly one of the two is set, for the value's whole life. Verbs mutate it in place (no copy of the core's
/// queues per call). Not thread-safe: a value type owned by one worker actor, like the policies it wraps.
struct NodePolicy: SchedulingPolicy {
    typealias C = ContinuousClock
    typealias Event = JobEvent<ContinuousClock.Instant>

    private var core: TurboScheduler<ContinuousClock>?
    private var serial: SerialPolicy?

    /// The policy `choice` selects, for an engine whose scheduler settings are `configuration`.
    init(_ choice: ServerConfiguration.SchedulerPolicyName, configuration: TurboSchedulerConfiguration) {
        switch choice {
        case .turboserve: core = TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: CostProfile.serving, configuration: configuration)
        case .serial: serial = SerialPolicy(maxQueued: configuration.maxQueued)
        }
    }

    var name: String { core?.name ?? serial!.name }
    func spec(of id: JobID) -> ValidatedJob? { core.map { $0.spec(of: id) } ?? serial!.spec(of: id) }
    var heldJobs: [JobID] { core?.heldJobs ?? serial!.heldJobs }
    func nextWakeup() -> ContinuousClock.Instant? { core.map { $0.nextWakeup() } ?? serial!.nextWakeup() }
    var learnedSteps: [LearnedStep] { core?.learnedSteps ?? serial!.learnedSteps }

    var learnedStages: [LearnedStage] { core?.learnedStages ?? serial!.learnedStages }

    var deadlineHealth: DeadlineHealth? { core?.deadlineHealth ?? serial!.deadlineHealth }

    mutating func restoreLearnedStages(_ stages: [LearnedStage]) {
        if core != nil { return core!.restoreLearnedStages(stages) }
        serial!.restoreLearnedStages(stages)
    }

    mutating func restoreLearnedSteps(_ steps: [LearnedStep]) {
        if core != nil { return core!.restoreLearnedSteps(steps) }
        serial!.restoreLearnedSteps(steps)
    }

    mutating func submit(_ job: SchedulerJob<ContinuousClock.Instant>) throws(TurboServeError) -> [Event] {
        if core != nil { return try core!.submit(job) }
        return try serial!.submit(job)
    }

    mutating func cancel(_ job: JobID) -> [Event] {
        if core != nil { return core!.cancel(job) }
        return serial!.cancel(job)
    }

    mutating func nextPlan() -> Plan? {
        if core != nil { return core!.nextPlan() }
        return serial!.nextPlan()
    }

    mutating func planFinished(_ plan: PlanID, outcome: PlanOutcome) -> [Event] {
        if core != nil { return core!.planFinished(plan, outcome: outcome) }
        return serial!.planFinished(plan, outcome: outcome)
    }

    mutating func outputFinished(_ job: JobID, error: TurboServeError?) -> [Event] {
        if core != nil { return core!.outputFinished(job, error: error) }
        return serial!.outputFinished(job, error: error)
    }

    mutating func engineLost(reason: String) -> [Event] {
        if core != nil { return core!.engineLost(reason: reason) }
        return serial!.engineLost(reason: reason)
    }

    mutating func forget(_ job: JobID) {
        if core != nil { return core!.forget(job) }
        serial!.forget(job)
    }
}
