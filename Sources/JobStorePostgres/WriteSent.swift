import Synchronization

/// Whether a store call's write has gone out to the database, decided once between the call and its deadline. The
/// call asks `send()` just before its last statement (an autocommit statement, or a transaction's COMMIT) goes out;
/// the deadline, or an error, asks `abandon()`. Whichever comes first decides: a write abandoned first is never sent
/// (`send()` answers false and the call rolls back), so "not sent" is a fact; a write sent first may still be
/// committed by a database that wakes, so the failure says `mayHaveApplied`. Thread-safety: a mutex; the call's
/// task and the deadline's may ask at once.
final class WriteSent: Sendable {
    private enum State { case unsent, sent, abandoned }
    private let state = Mutex(State.unsent)

    /// True when the write may go out now; false once the call was abandoned (then it must not be sent).
    func send() -> Bool {
        state.withLock { state in
            guard state != .abandoned else { return false }
            state = .sent
            return true
        }
    }

    /// Gives the call up; returns whether its write had already gone out. Every later `send()` answers false.
    func abandon() -> Bool {
        state.withLock { state in
            if state == .sent { return true }
            state = .abandoned
            return false
        }
    }
}
