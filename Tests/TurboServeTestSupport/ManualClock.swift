import SchedulingCore
import Synchronization

/// A clock for testing services that sleep: time moves only on `advance`, which wakes the sleepers that are due.
/// `sleepStarted(count:)` suspends until the service under test has armed that many sleeps in total, so a test
/// knows the service finished its work and is waiting, without sleeping on wall time.
///
/// Thread-safety: a `Mutex` guards the time, the sleepers and the waiters; every method may be called from any task.
public final class ManualClock: Clock, Sendable {
    public typealias Duration = Swift.Duration
    public typealias Instant = VirtualClock.Instant

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant.zero
        var sleepers: [Sleeper] = []
        var sleepsStarted = 0
        var nextID = 0
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready: [CheckedContinuation<Void, Never>] = state.withLock { s in
                    s.sleepsStarted += 1
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else if deadline <= s.now {
                        continuation.resume()
                    } else {
                        s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    }
                    let due = s.waiters.filter { $0.count <= s.sleepsStarted }
                    s.waiters.removeAll { $0.count <= s.sleepsStarted }
                    return due.map(\.continuation)
                }
                for waiter in ready { waiter.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { s in
                let match = s.sleepers.filter { $0.id == id }
                s.sleepers.removeAll { $0.id == id }
                return match
            }
            for sleeper in cancelled { sleeper.continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { s in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once `count` sleeps have been started since the clock was made.
    public func sleepStarted(count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s in
                guard s.sleepsStarted < count else { return true }
                s.waiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}
