import JobStore
import TurboServeDomain

/// The tenant a request acts for, and whether it is confined to that tenant's jobs.
public struct Caller: Sendable, Hashable {
    public let tenant: TenantID
    /// False when auth is off: the caller sees every job.
    public let isolated: Bool

    /// The tenant filter for `list`.
    var listFilter: TenantID? { isolated ? tenant : nil }

    func sees(_ record: JobRecord) -> Bool { !isolated || record.tenant == tenant }
}
