import SchedulingCore
import TurboServeDomain

/// A discrete-event simulation of a workload: timed events in an `EventQueue`, a `VirtualClock` that jumps from one
/// event's time to the next, a step that starts whatever can start after each event, and the outcome of every job
/// that arrived (`jobs`, in arrival order; `index` finds a job's row, `specs` its request). The single-engine loop
/// (`SimulationLoop`) and the fleet's (`FleetLoop`) supply the events and what they do; `runEvents` is the one loop
/// both run and `recordArrival` the one way a job enters either.
protocol EventLoop {
    associatedtype Event
    var events: EventQueue<Event> { get set }
    var clock: VirtualClock { get }
    var setup: SimulationSetup { get }
    var jobs: [JobOutcome] { get set }
    var index: [JobID: Int] { get set }
    var specs: [JobID: ValidatedJob] { get set }
    /// Applies one event at the clock's current time (it may push later events).
    mutating func handle(_ event: Event)
    /// Starts what can start now: plans on idle engines, CPU work, wake-up timers.
    mutating func drive()
}

extension EventLoop {
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
