import SchedulingCore
import TurboServeDomain

/// The discrete-event simulator: replays arrivals against one policy on a `VirtualClock`, with one engine that
/// executes one plan at a time (durations from the cost model) and CPU pools for parsing and output that run in
/// parallel with it. The policy is driven only through the `SchedulingPolicy` verbs, exactly as the worker
/// runtime drives it: `submit` when a parsed request arrives, `nextPlan` whenever the engine is free, `planFinished`
/// when a plan's time is up, `outputFinished` when the output pipeline stored a video, and a timer at `nextWakeup`.
///
/// Deterministic: the same policy, setup and seed give the same result (events at equal times run in the order
/// they were scheduled; all randomness comes from `SplitMix64`).
public enum Simulator {
    /// Runs `policy` (which must read time from `clock`) until every job has finished or
    /// `setup.maxSimulatedSeconds` has passed.
    public static func run<Policy: SchedulingPolicy>(_ policy: Policy, clock: VirtualClock, setup: SimulationSetup) -> SimulationResult where Policy.C == VirtualClock {
        let started = ContinuousClock.now
        var loop = SimulationLoop(policy: policy, clock: clock, setup: setup)
        loop.run()
        return loop.result(wallSeconds: (ContinuousClock.now - started).seconds)
    }
}

/// The event loop behind `Simulator.run`. A value type owned by one call.
struct SimulationLoop<Policy: SchedulingPolicy>: EventLoop where Policy.C == VirtualClock {
    enum Event {
        /// An open-loop request of workload class `classIndex`.
        case arrive(classIndex: Int)
        /// A closed-loop user's `request`-th request (from 1); its class is drawn from the user's stream.
        case ask(user: Int, request: Int)
        case parsed(JobID)
        case planDone(PlanID)
        case outputDone(JobID)
        case wakeup
    }

    var policy: Policy
    let clock: VirtualClock
    let setup: SimulationSetup
    var engine: SimulatedEngine
    var events = EventQueue<Event>()
    var gateway: CPUPool
    var output: CPUPool
    var jobs: [JobOutcome] = []
    var index: [JobID: Int] = [:]
    var specs: [JobID: ValidatedJob] = [:]
    /// Each closed-loop user's random stream: the classes it asks for and its think times.
    var users: [SplitMix64] = []
    var running: (plan: Plan, start: Double, execution: SimulatedEngine.Execution)?
    var pendingWakeup: VirtualClock.Instant?
    var timeline: [EngineInterval] = []

    init(policy: Policy, clock: VirtualClock, setup: SimulationSetup) {
        self.policy = policy
        self.clock = clock
        self.setup = setup
        engine = SimulatedEngine(cost: setup.cost)
        gateway = CPUPool(workers: setup.gatewayWorkers)
        output = CPUPool(workers: setup.outputWorkers)
    }

    mutating func run() {
        switch setup.arrivals {
        case let .closedLoop(count, think, duration, seed):
            users = (0..<count).map { SplitMix64.stream(UInt64($0), of: seed) }
            for user in 0..<count {
                let start = users[user].exponential(mean: think)
                if start < duration { events.push(.ask(user: user, request: 1), at: instant(start)) }
            }
        case let .open(arrivals, _):
            for arrival in arrivals { events.push(.arrive(classIndex: arrival.classIndex), at: instant(arrival.time)) }
        }
        runEvents()
    }

    // MARK: - Events

    mutating func handle(_ event: Event) {
        switch event {
        case let .arrive(classIndex):
            arrive(classIndex)
        case let .ask(user, request):
            let classIndex = users[user].weightedIndex(setup.classes.map(\.weight))
            arrive(classIndex, askedBy: (user, request))
        case let .parsed(job):
            parsed(job)
        case let .planDone(id):
            guard let current = running, current.plan.id == id else { return }
            running = nil
            process(policy.planFinished(id, outcome: current.execution.outcome))
        case let .outputDone(job):
            if let next = output.finish() { events.push(.outputDone(next.job), at: instant(now + next.seconds)) }
            process(policy.outputFinished(job, error: nil))
        case .wakeup:
            if let due = pendingWakeup, due <= clock.now { pendingWakeup = nil }
        }
    }

    /// A request of workload class `classIndex` arrives now (in a closed loop, the `request`-th of `user`, recorded
    /// before the request can be refused so the refusal reaches its user) and goes to the gateway, or straight to the
    /// policy when parsing is on the engine's path.
    mutating func arrive(_ classIndex: Int, askedBy asker: (user: Int, request: Int)? = nil) {
        let (id, spec) = recordArrival(of: classIndex)
        if let asker, let position = index[id] {
            jobs[position].user = asker.user
            jobs[position].request = asker.request
        }
        parse(id, spec)
    }

    static func parsedEvent(_ id: JobID) -> Event { .parsed(id) }

    /// Submits a parsed request to the policy; a refusal ends the job (and answers its user).
    mutating func accept(_ id: JobID) {
        guard let position = index[id], let spec = specs[id] else { return }
        let job = SchedulerJob(id: id, spec: spec, arrival: instant(jobs[position].arrival))
        do {
            process(try policy.submit(job))
        } catch {
            if recordEnd(of: id, .rejected) { answered(id) }
        }
    }

    /// Applies the policy's job events to the records and starts the CPU work they call for.
    mutating func process(_ changes: [JobEvent<VirtualClock.Instant>]) {
        for change in changes {
            switch record(change) {
            case let .startOutput(seconds)?:
                if let seconds = output.enqueue(change.job, seconds: seconds) {
                    events.push(.outputDone(change.job), at: instant(now + seconds))
                }
            case .ended?: answered(change.job)
            case nil: break
            }
        }
    }

    /// A job just ended: in a closed loop its user thinks, then asks its next request (if that falls in the run).
    mutating func answered(_ id: JobID) {
        guard let position = index[id], let user = jobs[position].user, let request = jobs[position].request,
              case let .closedLoop(_, think, duration, _) = setup.arrivals else { return }
        let next = now + users[user].exponential(mean: think)
        if next < duration { events.push(.ask(user: user, request: request + 1), at: instant(next)) }
    }

    // MARK: - The engine

    /// If the engine is free, asks the policy for the next plan and starts it; otherwise, or if there is none,
    /// arms the policy's wakeup timer.
    mutating func drive() {
        guard running == nil else { return }
        if let plan = policy.nextPlan() {
            let execution = engine.perform(plan.action, specs: specs, now: now)
            running = (plan, now, execution)
            record(EngineInterval(start: now, end: now + execution.waitSeconds, activity: .switching))
            record(EngineInterval(start: now + execution.waitSeconds, end: now + execution.seconds, activity: execution.activity))
            events.push(.planDone(plan.id), at: instant(now + execution.seconds))
            return
        }
        guard let due = policy.nextWakeup(), due > clock.now else { return }
        if let pending = pendingWakeup, pending <= due { return }
        pendingWakeup = due
        events.push(.wakeup, at: due)
    }

    mutating func record(_ interval: EngineInterval) {
        guard interval.end > interval.start else { return }
        if let last = timeline.last, last.activity == interval.activity, abs(last.end - interval.start) < 1e-9 {
            timeline[timeline.count - 1].end = interval.end
        } else {
            timeline.append(interval)
        }
    }

    func result(wallSeconds: Double) -> SimulationResult {
        let lastFinish = jobs.compactMap(\.finished).max() ?? 0
        var result = SimulationResult(
            policy: policy.name, jobs: jobs, timeline: timeline, durationSeconds: setup.arrivals.durationSeconds,
            horizonSeconds: max(setup.arrivals.durationSeconds, lastFinish), activitySeconds: engine.seconds,
            stageSeconds: engine.stageSeconds, offPathParseSeconds: gateway.workSeconds, offPathMuxSeconds: output.workSeconds,
            modelLoads: engine.loads, modelUnloads: engine.unloads, stepCalls: engine.stepCalls,
            stepSamples: engine.stepSamples, failedPlans: engine.failedPlans, wallSeconds: wallSeconds)
        result.stepCallsBySize = engine.stepCallsBySize
        return result
    }
}
