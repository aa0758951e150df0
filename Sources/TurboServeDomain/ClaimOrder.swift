import Foundation

/// The order in which `claim` hands out queued jobs: one rule for the whole fleet, written once here as a pure
/// function. The in-memory and SQLite stores call it, the fleet simulator (`FleetSimulator`) claims with it;
/// PostgreSQL evaluates the same rule in SQL (its claim statement), and the store contract suite checks that every
/// backend agrees.
///
/// The rule, for the queued, unheld jobs the claimer does not exclude (`ClaimPreferences.excluded`), the candidates:
/// 1. **Scan bound.** Of each tenant's candidates only the first `scanDepth(limit:)` by (priority class, age) are
///    considered, so a claim reads a bounded number of rows however long the queue is.
/// 2. **Priority class first, strictly**: every `interactive` candidate comes before every `standard` one, and so
///    on. Nothing below reorders across classes.
/// 3. **Then preferred jobs**: a job for a model the worker holds (`residentModels`) or one that has waited at least
///    `affinityWait` since its creation. Jobs that would make this worker load wait for a worker that holds their
///    model, but never longer than the bound.
/// 4. **Then tenant fair share across the fleet**: a job's share is `(held + position) / weight`, where `held` is how
///    many jobs of its tenant any worker of the fleet holds now (claimed, unfinished), `position` its place (from
///    1) among its tenant's candidates of the same class and preference, oldest first, and `weight` the tenant's
///    weight. Smallest share first, so tenants of equal weight interleave job by job (a tenant already running
///    more elsewhere waits its turn), and a tenant of weight 2 gets two jobs for every one of a tenant of weight 1.
/// 5. **Then age** (the store's sequence): the oldest first; this also breaks every tie.
public enum ClaimOrder {
    /// A queued, unheld job as the claim sees it.
    public struct Candidate: Sendable, Hashable {
        public var id: JobID
        public var tenant: TenantID
        public var priorityRank: Int
        public var sequence: Int64
        public var model: String
        public var createdAt: Date

        public init(id: JobID, tenant: TenantID, priorityRank: Int, sequence: Int64, model: String, createdAt: Date) {
            (self.id, self.tenant, self.priorityRank, self.sequence, self.model, self.createdAt) = (id, tenant, priorityRank, sequence, model, createdAt)
        }
    }

    /// How many candidates of each tenant a claim of `limit` jobs looks at (rule 1).
    public static func scanDepth(limit: Int) -> Int { max(64, 4 * limit) }

    /// Up to `limit` of `candidates` in claim order, given how many jobs each tenant has held by the fleet now.
    public static func pick(_ candidates: [Candidate], limit: Int, held: [TenantID: Int], preferences: ClaimPreferences, now: Date) -> [Candidate] {
        guard limit > 0 else { return [] }
        let depth = scanDepth(limit: limit)
        let scanned = Dictionary(grouping: candidates.filter { !preferences.excluded.contains($0.id) }, by: \.tenant).values.flatMap { own in
            own.sorted { ($0.priorityRank, $0.sequence) < ($1.priorityRank, $1.sequence) }.prefix(depth)
        }
        let agedBefore = now.addingTimeInterval(-preferences.affinityWait.seconds)
        func preferred(_ job: Candidate) -> Bool { preferences.residentModels.contains(job.model) || job.createdAt <= agedBefore }

        struct Group: Hashable { let tenant: TenantID, rank: Int, preferred: Bool }
        var keyed: [(job: Candidate, preferred: Bool, share: Double)] = []
        for (group, jobs) in Dictionary(grouping: scanned, by: { Group(tenant: $0.tenant, rank: $0.priorityRank, preferred: preferred($0)) }) {
            let base = held[group.tenant] ?? 0
            let weight = preferences.weight(of: group.tenant)
            for (index, job) in jobs.sorted(by: { $0.sequence < $1.sequence }).enumerated() {
                keyed.append((job, group.preferred, Double(base + index + 1) / weight))
            }
        }
        keyed.sort { a, b in
            if a.job.priorityRank != b.job.priorityRank { return a.job.priorityRank < b.job.priorityRank }
            if a.preferred != b.preferred { return a.preferred }
            if a.share != b.share { return a.share < b.share }
            return a.job.sequence < b.job.sequence
        }
        return keyed.prefix(limit).map(\.job)
    }
}
