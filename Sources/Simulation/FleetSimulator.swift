import Foundation
import SchedulingCore
import TurboServeDomain

/// Simulates a fleet: several engines (each one simulated GPU with its own policy instance, its own device state
/// and output pipeline) that share one global queue, as the deployed workers share the job store. A job that
/// arrives is parsed by the shared gateway and queued; an engine claims only between plans (the worker's loop
/// claims, then runs the next plan), up to `FleetOptions.claimWindow` held jobs, in the order of `ClaimOrder` (the
/// fleet's claim rule) with its resident models as its affinity; claimed jobs enter its policy with the claim time
/// as their arrival, as in `Worker.claimNewJobs`. With an autoscaler, every `pollSeconds` the queue (every job not
/// started, claimed or not) is read and engines are added (claiming after `startupSeconds`) or removed (the
/// newest first, a starting one before a ready one; a removed engine stops claiming, finishes what it holds,
/// then stops).
///
/// Guarantees: each job is claimed by one engine (never handed out twice); deterministic for the same setup,
/// options and policy (events at equal times run in the order they were scheduled; engines are visited in
/// creation order). Only open-loop arrivals (`SimulationSetup.Arrivals.open`).
public enum FleetSimulator {
    public static func run<Policy: SchedulingPolicy>(
        policy name: String, setup: SimulationSetup, fleet: FleetOptions, make: @escaping (VirtualClock) -> Policy
    ) -> FleetResult where Policy.C == VirtualClock {
        let started = ContinuousClock.now
        var loop = FleetLoop(name: name, make: make, setup: setup, fleet: fleet)
        loop.run()
        return loop.result(wallSeconds: (ContinuousClock.now - started).seconds)
    }
}

/// The event loop behind `FleetSimulator.run`. A value type owned by one call.
struct FleetLoop<Policy: SchedulingPolicy>: EventLoop where Policy.C == VirtualClock {
    enum Event {
        case arrive(classIndex: Int)
        case parsed(JobID)
        case planDone(engine: Int, PlanID)
        case outputDone(engine: Int, JobID)
        case wakeup(engine: Int)
        case ready(engine: Int)
        case tick
    }

    struct Engine {
        var policy: Policy
        var device: SimulatedEngine
        var output: CPUPool
        var running: (plan: Plan, execution: SimulatedEngine.Execution)?
        var pendingWakeup: VirtualClock.Instant?
        let created: Double
        var ready: Bool
        var draining = false
        var stopped: Double?
        /// Counted as a replica by the autoscaler: created, not being removed.
        var isReplica: Bool { stopped == nil && !draining }
    }

    let name: String
    let make: (VirtualClock) -> Policy
    let clock = VirtualClock()
    let setup: SimulationSetup
    let fleet: FleetOptions
    let pollSeconds: Double
    var autoscaler: Autoscaler?
    var engines: [Engine] = []
    var events = EventQueue<Event>()
    var gateway: CPUPool
    /// Queued, unclaimed jobs by priority rank, oldest first.
    var queue: [[ClaimOrder.Candidate]] = []
    var jobs: [JobOutcome] = []
    var index: [JobID: Int] = [:]
    var specs: [JobID: ValidatedJob] = [:]
    var claims: [String: [Double]] = [:]
    var samples: [FleetSample] = []
    var unfinished = 0
    var arrivalsLeft = 0

    init(name: String, make: @escaping (VirtualClock) -> Policy, setup: SimulationSetup, fleet: FleetOptions) {
        self.name = name
        self.make = make
        self.setup = setup
        self.fleet = fleet
        pollSeconds = fleet.autoscaler?.pollSeconds ?? AutoscalerSettings().pollSeconds
        autoscaler = fleet.autoscaler.map(Autoscaler.init(settings:))
        gateway = CPUPool(workers: setup.gatewayWorkers)
        queue = Array(repeating: [], count: PriorityClass.allCases.count)
    }

    mutating func run() {
        guard case let .open(arrivals, _) = setup.arrivals else { preconditionFailure("a fleet run needs open-loop arrivals") }
        arrivalsLeft = arrivals.count
        for arrival in arrivals { events.push(.arrive(classIndex: arrival.classIndex), at: instant(arrival.time)) }
        for _ in 0..<(fleet.autoscaler?.minReplicas ?? fleet.engines) { addEngine(startup: 0) }
        events.push(.tick, at: instant(0))
        runEvents()
    }

    // MARK: - Events

    mutating func handle(_ event: Event) {
        switch event {
        case let .arrive(classIndex):
            arrivalsLeft -= 1
            arrive(classIndex)
        case let .parsed(job):
            parsed(job)
        case let .planDone(e, id):
            guard let current = engines[e].running, current.plan.id == id else { return }
            engines[e].running = nil
            process(e, engines[e].policy.planFinished(id, outcome: current.execution.outcome))
        case let .outputDone(e, job):
            if let next = engines[e].output.finish() { events.push(.outputDone(engine: e, next.job), at: instant(now + next.seconds)) }
            process(e, engines[e].policy.outputFinished(job, error: nil))
        case let .wakeup(e):
            if let due = engines[e].pendingWakeup, due <= clock.now { engines[e].pendingWakeup = nil }
        case let .ready(e):
            if engines[e].stopped == nil { engines[e].ready = true }
        case .tick:
            tick()
        }
    }

    mutating func arrive(_ classIndex: Int) {
        let (id, spec) = recordArrival(of: classIndex)
        unfinished += 1
        parse(id, spec)
    }

    static func parsedEvent(_ id: JobID) -> Event { .parsed(id) }

    mutating func accept(_ id: JobID) { enqueue(id) }

    /// Simulated seconds as the claim rule's instants (it compares creation times with `now` only).
    static func storeDate(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    /// Puts a job in the global queue, in age order within its class.
    mutating func enqueue(_ id: JobID) {
        guard let position = index[id], let spec = specs[id] else { return }
        let candidate = ClaimOrder.Candidate(id: id, tenant: .default, priorityRank: spec.priority.rank, sequence: Int64(position), model: spec.model,
                                             createdAt: Self.storeDate(jobs[position].arrival))
        let rank = candidate.priorityRank
        let at = queue[rank].lastIndex { $0.sequence < Int64(position) }.map { $0 + 1 } ?? 0
        queue[rank].insert(candidate, at: at)
    }

    /// Applies engine `e`'s job events to the records and starts the output work they call for.
    mutating func process(_ e: Int, _ changes: [JobEvent<VirtualClock.Instant>]) {
        for change in changes {
            switch record(change) {
            case let .startOutput(seconds)?:
                if let seconds = engines[e].output.enqueue(change.job, seconds: seconds) {
                    events.push(.outputDone(engine: e, change.job), at: instant(now + seconds))
                }
            case .ended?: unfinished -= 1
            case nil: break
            }
        }
    }

    // MARK: - Engines

    /// Every engine that is not running a plan claims (if it may) and starts its next plan, or arms its timer.
    mutating func drive() {
        for e in engines.indices where engines[e].stopped == nil && engines[e].ready && engines[e].running == nil {
            if !engines[e].draining { claim(e) }
            if let plan = engines[e].policy.nextPlan() {
                let execution = engines[e].device.perform(plan.action, specs: specs, now: now)
                engines[e].running = (plan, execution)
                events.push(.planDone(engine: e, plan.id), at: instant(now + execution.seconds))
            } else if engines[e].draining && engines[e].policy.heldJobs.isEmpty {
                engines[e].stopped = now
            } else if let due = engines[e].policy.nextWakeup(), due > clock.now, engines[e].pendingWakeup.map({ due < $0 }) ?? true {
                engines[e].pendingWakeup = due
                events.push(.wakeup(engine: e), at: due)
            }
        }
    }

    /// Engine `e` claims up to its free room from the global queue, in the fleet's claim order.
    mutating func claim(_ e: Int) {
        let room = fleet.claimWindow - engines[e].policy.heldJobs.count
        guard room > 0, queue.contains(where: { !$0.isEmpty }) else { return }
        // One tenant: the store reads the first `scanDepth` jobs by (class, age), which is this prefix.
        let depth = ClaimOrder.scanDepth(limit: room)
        let read = Array(queue.joined().prefix(depth))
        let held = engines.reduce(0) { $0 + ($1.stopped == nil ? $1.policy.heldJobs.count : 0) }
        let preferences = ClaimPreferences(residentModels: Set(engines[e].device.resident.map(\.model)), affinityWait: .seconds(fleet.affinityWaitSeconds))
        let picked = ClaimOrder.pick(read, limit: room, held: [.default: held], preferences: preferences, now: Self.storeDate(now))
        let taken = Set(picked.map(\.id))
        for rank in queue.indices {
            let cut = min(depth, queue[rank].count)
            queue[rank].replaceSubrange(0..<cut, with: queue[rank][0..<cut].filter { !taken.contains($0.id) })
        }
        for candidate in picked {
            guard let spec = specs[candidate.id] else { continue }
            claims[candidate.id.rawValue, default: []].append(now)
            do {
                process(e, try engines[e].policy.submit(SchedulerJob(id: candidate.id, spec: spec, arrival: clock.now)))
            } catch {
                enqueue(candidate.id)  // the policy's queue is full: back to the shared queue
            }
        }
    }

    mutating func addEngine(startup: Double) {
        engines.append(Engine(
            policy: make(clock), device: SimulatedEngine(cost: setup.cost), output: CPUPool(workers: setup.outputWorkers),
            created: now, ready: startup <= 0))
        if startup > 0 { events.push(.ready(engine: engines.count - 1), at: instant(now + startup)) }
    }

    /// Removes one replica: the newest still starting, else the newest ready one (which drains first).
    mutating func removeEngine() {
        let replicas = engines.indices.filter { engines[$0].isReplica }
        guard let victim = replicas.last(where: { !engines[$0].ready }) ?? replicas.last else { return }
        if engines[victim].ready {
            engines[victim].draining = true
        } else {
            engines[victim].stopped = now
        }
    }

    /// Reads the queue, lets the autoscaler act, records a sample, and schedules the next reading while work remains.
    mutating func tick() {
        var queuedByRank = queue.map(\.count)
        for engine in engines where engine.stopped == nil {
            for id in engine.policy.heldJobs {
                guard let position = index[id], jobs[position].firstService == nil, let spec = specs[id] else { continue }
                queuedByRank[spec.priority.rank] += 1
            }
        }
        var replicas = engines.filter(\.isReplica).count
        if var scaler = autoscaler {
            let target = scaler.evaluate(now: now, current: replicas, queuedByRank: queuedByRank)
            autoscaler = scaler
            while replicas < target {
                addEngine(startup: scaler.settings.startupSeconds)
                replicas += 1
            }
            while replicas > target {
                removeEngine()
                replicas -= 1
            }
        }
        let ready = engines.filter { $0.isReplica && $0.ready }.count
        samples.append(FleetSample(time: now, replicas: replicas, ready: ready, queued: queuedByRank.reduce(0, +)))
        if arrivalsLeft > 0 || unfinished > 0 { events.push(.tick, at: instant(now + pollSeconds)) }
    }

    func result(wallSeconds: Double) -> FleetResult {
        let duration = setup.arrivals.durationSeconds
        let horizon = max(duration, jobs.compactMap(\.finished).max() ?? 0)
        var activity: [EngineActivity: Double] = [:]
        for engine in engines { activity.merge(engine.device.seconds, uniquingKeysWith: +) }
        let gpuSeconds = engines.reduce(0.0) { $0 + max(0, min($1.stopped ?? horizon, horizon) - $1.created) }
        return FleetResult(
            policy: name, jobs: jobs, activitySeconds: activity, gpuSeconds: gpuSeconds, enginesCreated: engines.count,
            peakEngines: samples.map(\.replicas).max() ?? engines.count, claimTimes: claims,
            modelLoads: engines.reduce(0) { $0 + $1.device.loads }, samples: samples, durationSeconds: duration,
            horizonSeconds: horizon, wallSeconds: wallSeconds)
    }
}
