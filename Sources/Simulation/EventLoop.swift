import SchedulingCore

/// A discrete-event simulation: timed events in an `EventQueue`, a `VirtualClock` that jumps from one event's time to
/// the next, and a step that starts whatever can start after each event. The single-engine loop (`SimulationLoop`)
/// and the fleet's (`FleetLoop`) supply the events and what they do; `runEvents` is the one loop both run.
protocol EventLoop {
    associatedtype Event
    var events: EventQueue<Event> { get set }
    var clock: VirtualClock { get }
    var setup: SimulationSetup { get }
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
}
