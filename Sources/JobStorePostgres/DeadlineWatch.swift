import Synchronization

/// The deadlines of the calls in flight, watched by one ticking task instead of a sleeping task per call (a timer
/// task per store call was 3% of a create's CPU). A deadline fires at most `tick` after it falls due.
///
/// Guarantees: each watched action runs at most once, and not at all if `unwatch` came before it fell due (one
/// already due may still run as `unwatch` returns: actions must tolerate that, as `OneAnswer.give` does); the
/// ticker runs only while something is watched and stops by itself when nothing is.
/// Thread-safety: a `Mutex` guards the watched set; actions run outside the lock, on the ticker's task.
final class DeadlineWatch: Sendable {
    static let shared = DeadlineWatch(tick: .milliseconds(50))

    private struct Watched {
        let due: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }
    private struct State {
        var watched: [UInt64: Watched] = [:]
        var nextID: UInt64 = 0
        var ticking = false
    }
    private let state = Mutex(State())
    let tick: Duration

    init(tick: Duration) { self.tick = tick }

    /// Runs `expire` once `due` has passed, unless `unwatch` came first. Returns the handle for `unwatch`.
    func watch(until due: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startTicker) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            state.watched[state.nextID] = Watched(due: due, expire: expire)
            let wasTicking = state.ticking
            state.ticking = true
            return (state.nextID, !wasTicking)
        }
        if startTicker { Task { await ticker() } }
        return id
    }

    func unwatch(_ id: UInt64) { _ = state.withLock { $0.watched.removeValue(forKey: id) } }

    /// Deadlines being watched, and whether the ticker runs (a test's view).
    var count: Int { state.withLock { $0.watched.count } }
    var isTicking: Bool { state.withLock { $0.ticking } }

    private func ticker() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, keepTicking) = state.withLock { state -> ([Watched], Bool) in
                let due = state.watched.filter { $0.value.due <= now }
                for id in due.keys { state.watched.removeValue(forKey: id) }
                state.ticking = !state.watched.isEmpty
                return (Array(due.values), state.ticking)
            }
            for watched in expired { watched.expire() }
            if !keepTicking { return }
        }
    }
}
