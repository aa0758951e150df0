import TurboServeDomain

/// A state change the core made. The shell persists every event (the job's history) and publishes it (SSE,
/// metrics). Events are returned in the order they happened.
public struct JobEvent<Instant: Sendable & Hashable>: Hashable, Sendable {
    public let job: JobID
    public let from: JobState
    public let to: JobState
    public let at: Instant
    /// Set on `failed` / `cancelled` / requeue: why.
    public let reason: Reason?

    public init(job: JobID, from: JobState, to: JobState, at: Instant, reason: Reason? = nil) {
        self.job = job
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }

    public struct Reason: Hashable, Sendable {
        public let code: TurboServeError.Code
        public let message: String
        public init(code: TurboServeError.Code, message: String) {
            self.code = code
            self.message = message
        }
    }
}
