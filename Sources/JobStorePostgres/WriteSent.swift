import Synchronization

/// Whether a store call's write has gone out to the database: marked once its last statement (an autocommit
/// statement, or a transaction's COMMIT) is handed to a connection. A call that fails after that cannot tell whether
/// the database will commit it, so its `JobStoreUnavailable` says `mayHaveApplied`. Thread-safety: a mutex; marked
/// from the call's task, read from the deadline's.
final class WriteSent: Sendable {
    private let sent = Mutex(false)

    func mark() { sent.withLock { $0 = true } }

    var happened: Bool { sent.withLock { $0 } }
}
