import SchedulingCore
import TurboServeDomain

/// A discrete-event simulation of a workload: timed events in an `EventQueue`, a `VirtualClock` that jumps from one
/// event's time to the next, a step that starts whatever can start after each event, and the outcome of every job
/// that arrived (`jobs`, in arrival order; `index` finds a job's row, `specs` its request). The single-engine loop
/// (`SimulationLoop`) and the fleet's (`FleetLoop`) supply the events and what they do; `runEvents` is the one loop
/// both run, `recordArrival` the one way a job enters either, `parse(_:_:)` and `parsed(_:)` the one way a request
/// passes the gateway, and `record(_:)` and `recordEnd` the one way a job's outcome row follows what its policy
/// reports.
protocol EventLoop {
    associatedtype Event
    var events: EventQueue<Event> { get set }
    var clock: VirtualClock { get }
    var setup: SimulationSetup { get }
    var jobs: [JobOutcome] { get set }
    var index: [JobID: Int] { get set }
    var specs: [JobID: ValidatedJob] { get set }
    /// The CPU workers that parse requests off the engine's path.
    var gateway: CPUPool { get set }
    /// The event that a request `id` is parsed.
    static func parsedEvent(_ id: JobID) -> Event
    /// Hands a parsed request on to be scheduled (to the policy, or to the fleet's queue).
    mutating func accept(_ id: JobID)
    /// Applies one event at the clock's current time (it may push later events).
    mutating func handle(_ event: Event)
    /// Starts what can start now: plans on idle engines, CPU work, wake-up timers.
    mutating func drive()
}

/// What a job's recorded move asks of the loop that reported it.
enum JobFollowUp {
    /// The job reached muxing and its output runs off the engine's path: start `seconds` of output work.
    case startOutput(seconds: Double)
    /// The job ended (its outcome row now has its status and time).
    case ended
}

extension EventLoop {
    /// Seconds since the run began.
    var now: Double { clock.now.seconds }

    /// The simulated clock's instant `seconds` after the run began.
    func instant(_ seconds: Double) -> VirtualClock.Instant { VirtualClock.Instant(offset: .seconds(seconds)) }

    /// Records one move a policy reported in the job's outcome row: the first time the engine served it, and its
    /// end (once; a later end of the same job is ignored). Returns what the loop has to do next, or nil when there is
    /// nothing (an unknown job, a move back to the queue, a step, muxing on the engine's path, a repeated end).
    mutating func record(_ change: JobEvent<VirtualClock.Instant>) -> JobFollowUp? {
        guard let position = index[change.job] else { return nil }
        let ended: JobOutcome.Status
        switch change.to.phase {
        case .admitted, .denoising, .decoding:
            if jobs[position].firstService == nil { jobs[position].firstService = now }
            return nil
        case .muxing:
            if jobs[position].firstService == nil { jobs[position].firstService = now }
            guard !setup.stagesOnEnginePath.contains(.mux), let spec = specs[change.job] else { return nil }
            return .startOutput(seconds: setup.cost.muxSeconds(spec.shapeKey))
        case .queued: return nil
        case .succeeded: ended = .succeeded
        case .failed: ended = .failed
        case .cancelled: ended = .cancelled
        }
        return recordEnd(of: change.job, ended) ? .ended : nil
    }

    /// Ends an unfinished job's outcome row now with `status`. Returns false (and changes nothing) when the job is
    /// unknown or already ended.
    mutating func recordEnd(of id: JobID, _ status: JobOutcome.Status) -> Bool {
        guard let position = index[id], jobs[position].status == .unfinished else { return false }
        jobs[position].status = status
        jobs[position].finished = now
        return true
    }

    /// Sends the request `id` that just arrived through the gateway: it is accepted now when parsing is on the engine's
    /// path, otherwise once a gateway worker has parsed it (`parsed(_:)` then follows its event).
    mutating func parse(_ id: JobID, _ spec: ValidatedJob) {
        if setup.stagesOnEnginePath.contains(.parse) {
            accept(id)
        } else if let seconds = gateway.enqueue(id, seconds: setup.cost.parseSeconds(spec.shapeKey)) {
            events.push(Self.parsedEvent(id), at: instant(now + seconds))
        }
    }

    /// The gateway finished parsing `id`: its worker takes the next waiting request, and `id` is accepted.
    mutating func parsed(_ id: JobID) {
        if let next = gateway.finish() { events.push(Self.parsedEvent(next.job), at: instant(now + next.seconds)) }
        accept(id)
    }

    /// Drives once, then runs the events in time order (equal times first-in first-out), driving after each, until
    /// none is left or the next lies past `setup.maxSimulatedSeconds`.
    mutating func runEvents() {
        drive()
        while let (time, event) = events.pop() {
            guard time.seconds <= setup.maxSimulatedSeconds else { break }
            clock.advance(to: time)
            handle(event)
            drive()
        }
    }

    /// A job of workload class `classIndex` arrives now: the next id (`job-1`, `job-2`, …), its request with the
    /// class's deadline, and an unfinished outcome row.
    mutating func recordArrival(of classIndex: Int) -> (id: JobID, spec: ValidatedJob) {
        let workloadClass = setup.classes[classIndex]
        let id = JobID("job-\(jobs.count + 1)")
        let deadline = setup.deadlines[classIndex]
        guard let spec = try? workloadClass.validatedJob(seed: Int64(jobs.count), deadlineSeconds: deadline) else {
            preconditionFailure("workload class \(workloadClass.name) is not a valid request")
        }
        index[id] = jobs.count
        jobs.append(JobOutcome(id: id.rawValue, classIndex: classIndex, className: workloadClass.name, arrival: clock.now.seconds, deadline: deadline, status: .unfinished))
        specs[id] = spec
        return (id, spec)
    }
}
