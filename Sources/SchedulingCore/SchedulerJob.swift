import TurboServeDomain

/// A job as the scheduler sees it: identity, tenant, the validated request, and when it arrived (on the core's
/// clock). Deadlines are derived by the core (`deadlineSeconds` if the request set one, else the class's SLO
/// factor × the estimated isolated latency of its shape).
public struct SchedulerJob<Instant: Sendable & Hashable>: Sendable, Hashable {
    public let id: JobID
    public let tenant: TenantID
    public let spec: ValidatedJob
    public let arrival: Instant
    /// Engine attempts already used, as the store counted them; a job that arrives with attempts used runs alone.
    public var attempts: Int

    public init(id: JobID, tenant: TenantID = .default, spec: ValidatedJob, arrival: Instant, attempts: Int = 0) {
        self.id = id
        self.tenant = tenant
        self.spec = spec
        self.arrival = arrival
        self.attempts = attempts
    }
}
