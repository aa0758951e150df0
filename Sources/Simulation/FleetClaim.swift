import TurboServeDomain

/// The fleet's claim rule as the simulator applies it: the rule of `ClaimOrder` (Sources/JobStore/ClaimOrder.swift,
/// docs/architecture.md "Fleet scheduling") restated over simulated seconds, because Simulation depends only on the
/// domain and the core, not on the store. `FleetClaimTests` checks that both pick the same jobs on samples; a
/// change to either must change both.
///
/// The rule, for the queued, unclaimed jobs: of each tenant's candidates only the first `scanDepth(limit:)` by
/// (priority class, age) are read; then priority class strictly; then jobs the claimer prefers (a model its engine
/// holds, or created at least `affinityWaitSeconds` ago); then tenant fair share `(held + position) / weight`;
/// then age. Pure.
public enum FleetClaim {
    /// A queued job as the claim sees it. `sequence` is its place in submission order; `createdAt` in simulated s.
    public struct Candidate: Sendable, Hashable {
        public var job: JobID
        public var tenant: TenantID
        public var priorityRank: Int
        public var sequence: Int
        public var model: String
        public var createdAt: Double

        public init(job: JobID, tenant: TenantID = .default, priorityRank: Int, sequence: Int, model: String, createdAt: Double) {
            (self.job, self.tenant, self.priorityRank, self.sequence, self.model, self.createdAt) = (job, tenant, priorityRank, sequence, model, createdAt)
        }
    }

    /// What one claimer prefers: its engine's resident models, the affinity bound (`scheduler.affinity_wait_seconds`)
    /// and the tenants' weights (absent: 1; never below `1e-6`).
    public struct Preferences: Sendable, Hashable {
        public var residentModels: Set<String>
        public var affinityWaitSeconds: Double
        public var tenantWeights: [TenantID: Double]

        public init(residentModels: Set<String> = [], affinityWaitSeconds: Double = 10, tenantWeights: [TenantID: Double] = [:]) {
            (self.residentModels, self.affinityWaitSeconds, self.tenantWeights) = (residentModels, affinityWaitSeconds, tenantWeights)
        }

        func weight(of tenant: TenantID) -> Double { max(1e-6, tenantWeights[tenant] ?? 1) }
    }

    /// Candidates of one tenant a claim of `limit` jobs reads (the store's bound).
    public static func scanDepth(limit: Int) -> Int { max(64, 4 * limit) }

    /// Up to `limit` of `candidates` in claim order; `held` is how many jobs of each tenant the fleet holds now.
    public static func pick(_ candidates: [Candidate], limit: Int, held: [TenantID: Int], preferences: Preferences, now: Double) -> [Candidate] {
        guard limit > 0 else { return [] }
        let depth = scanDepth(limit: limit)
        var perTenant: [TenantID: [Candidate]] = [:]
        for candidate in candidates { perTenant[candidate.tenant, default: []].append(candidate) }
        let read = perTenant.values.flatMap { own in
            own.sorted { ($0.priorityRank, $0.sequence) < ($1.priorityRank, $1.sequence) }.prefix(depth)
        }
        // Walking the read jobs oldest first numbers each one within its (tenant, class, preference) group.
        struct Group: Hashable { let tenant: TenantID, rank: Int, preferred: Bool }
        struct Key { let rank: Int, laterGroup: Int, share: Double, sequence: Int, candidate: Candidate }
        var counted: [Group: Int] = [:]
        var keys: [Key] = []
        for candidate in read.sorted(by: { $0.sequence < $1.sequence }) {
            let preferred = preferences.residentModels.contains(candidate.model) || now - candidate.createdAt >= preferences.affinityWaitSeconds
            let group = Group(tenant: candidate.tenant, rank: candidate.priorityRank, preferred: preferred)
            counted[group, default: 0] += 1
            let share = Double((held[candidate.tenant] ?? 0) + counted[group]!) / preferences.weight(of: candidate.tenant)
            keys.append(Key(rank: candidate.priorityRank, laterGroup: preferred ? 0 : 1, share: share, sequence: candidate.sequence, candidate: candidate))
        }
        keys.sort { ($0.rank, $0.laterGroup, $0.share, $0.sequence) < ($1.rank, $1.laterGroup, $1.share, $1.sequence) }
        return keys.prefix(limit).map(\.candidate)
    }
}
