/// A store call that could not reach its database (connection refused or lost, the database restarting, no
/// connection within the call's deadline). Nothing was decided: a create may or may not have been stored only if
/// the connection dropped after the commit was sent, and the caller retries with the same Idempotency-Key.
///
/// Deliberately not a `TurboServeError`: the HTTP layer answers every store failure that is not a decided
/// `TurboServeError` with 503 `not_ready` and a retry hint (`VideoAPI.storeAnswering`); workers treat it as an
/// outage and keep trying.
public struct JobStoreUnavailable: Error, CustomStringConvertible, Sendable {
    /// The backend that failed (`postgresql`, `sqlite`).
    public var backend: String
    /// What went wrong, for logs.
    public var reason: String

    public init(backend: String, reason: String) {
        self.backend = backend
        self.reason = reason
    }

    public var description: String { "the \(backend) job store is unavailable: \(reason)" }
}
