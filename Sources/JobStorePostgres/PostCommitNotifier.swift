import Synchronization

/// Sends the notifications of committed writes, many per transaction. PostgreSQL takes one database-wide lock
/// for every committing transaction that issued a `NOTIFY` and holds it until the commit is flushed, so a NOTIFY
/// inside each create made 16 concurrent creates commit one at a time (no group commit). Creates therefore commit
/// without notifying and hand their payload here; one sender at a time takes everything pending and sends it in a
/// single statement (one transaction, one lock), while the next batch gathers behind it.
///
/// Guarantees: a payload is sent after the write it announces has committed, never before; payloads are sent in
/// the order they were handed over. Delivery is best effort, as every wake-up is (`JobSignals`): a process that
/// dies between a commit and its batch, or a batch the database refuses or does not answer within the store call
/// deadline (which then closes its connection, as for every call), loses those signals, and the listeners'
/// polling fallback finds the jobs a little later. At most `capacity` payloads wait; beyond that the newest are
/// dropped (a listener needs one wake-up, not thousands).
///
/// Thread-safety: a `Mutex` guards the pending list and the sender flag; `notify` may be called from any task.
final class PostCommitNotifier: Sendable {
    private struct State {
        var pending: [String] = []
        var sending = false
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let send: @Sendable ([String]) async -> Void

    /// `send` delivers one batch (and reports its own failures); it is never called concurrently with itself.
    init(capacity: Int = 10_000, send: @escaping @Sendable ([String]) async -> Void) {
        self.capacity = capacity
        self.send = send
    }

    /// Queues `payload` and starts a sender unless one is running.
    func notify(_ payload: String) {
        let start = state.withLock { state -> Bool in
            if state.pending.count < capacity { state.pending.append(payload) }
            guard !state.sending else { return false }
            state.sending = true
            return true
        }
        if start { Task { await drain() } }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [String] in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.sending = false }
                return state.pending
            }
            if batch.isEmpty { return }
            await send(batch)
        }
    }
}
