import Foundation

/// What a claiming worker tells the store about itself and the fleet's policy, so the one global queue hands it
/// the jobs it should start next (`JobStore.claim(worker:limit:lease:preferences:)`, ordered by `ClaimOrder`).
///
/// - `residentModels`: the models whose weights the worker's engine holds now. Within a priority class their jobs
///   come first (model affinity): another worker would have to load to run them.
/// - `affinityWait`: no job waits longer than this for a worker holding its model. A job queued at least this long
///   (store clock, since its creation) counts as preferred for every worker, so the next claim of any worker in
///   its class takes it even if that worker has to load. Zero turns affinity off.
/// - `tenantWeights`: fair-share weights by tenant; absent tenants weigh 1 (`scheduler.tenant_weights`).
/// - `excluded`: jobs the claim never hands this claimer, though they are queued and unheld: the ones it still runs
///   or still has writes in flight for. A worker paused or cut off past its lease finds its jobs rescued and queued
///   for anyone while its core still runs them; were its next claim to take one back, the stale run's late writes
///   would pass the holder check (the holder is the worker id). Excluded, the job goes to another worker or waits
///   until this one has let go, so every write of the stale run is refused as not held. Other claimers are unaffected.
public struct ClaimPreferences: Sendable, Hashable {
    public var residentModels: Set<String>
    public var affinityWait: Duration
    public var tenantWeights: [TenantID: Double]
    public var excluded: Set<JobID>

    public init(residentModels: Set<String> = [], affinityWait: Duration = .zero, tenantWeights: [TenantID: Double] = [:],
                excluded: Set<JobID> = []) {
        self.residentModels = residentModels
        self.affinityWait = affinityWait
        self.tenantWeights = tenantWeights
        self.excluded = excluded
    }

    /// The tenant's fair-share weight: its configured weight, 1 when absent, never 0 or less.
    public func weight(of tenant: TenantID) -> Double { max(Self.minimumWeight, tenantWeights[tenant] ?? 1) }

    /// The smallest weight used (a 0 or negative weight is refused by configuration check; this keeps division safe).
    public static let minimumWeight = 1e-6
}
