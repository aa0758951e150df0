/// A store call that could not reach its database (connection refused or lost, the database restarting or hung, no
/// connection within the call's deadline). Nothing was decided by the store; whether a write took effect is known
/// only when `mayHaveApplied` is false.
///
/// Deliberately not a `TurboServeError`: the HTTP layer answers every store failure that is not a decided
/// `TurboServeError` with 503 `not_ready` and a retry hint (`VideoAPI.storeAnswering`), saying "nothing was
/// stored" only when that is known; workers treat it as an outage and keep trying.
public struct JobStoreUnavailable: Error, CustomStringConvertible, Sendable {
    /// The backend that failed (`postgresql`, `sqlite`).
    public var backend: String
    /// What went wrong, for logs.
    public var reason: String
    /// Whether the call's write may still take effect: true once its last statement (an autocommit statement, or
    /// a transaction's COMMIT) was handed to a connection and no answer came, because a hung or partitioned
    /// database may still run and commit it when it wakes. False when the call never got a connection or its
    /// transaction was rolled back (a locked SQLite file): then nothing was written.
    public var mayHaveApplied: Bool

    public init(backend: String, reason: String, mayHaveApplied: Bool = false) {
        self.backend = backend
        self.reason = reason
        self.mayHaveApplied = mayHaveApplied
    }

    public var description: String {
        "the \(backend) job store is unavailable: \(reason)" + (mayHaveApplied ? " (the write was sent; it may still take effect)" : "")
    }
}
