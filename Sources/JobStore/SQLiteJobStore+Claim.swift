import Foundation
import GRDB
import TurboServeDomain

/// The reads behind `SQLiteJobStore.claim`: what `ClaimOrder` needs, inside the claim's write transaction.
extension SQLiteJobStore {
    /// How many jobs of each tenant are held by any worker now (a held job is unfinished: finishing drops the holder).
    /// Read through the `jobs_holder` index, which holds only the held rows: left to itself the planner walks
    /// `jobs_tenant_seq` (every job ever stored, finished ones included) to save the GROUP BY's sort, which made
    /// each claim cost a scan of the whole table.
    static func heldPerTenant(_ db: Database) throws -> [TenantID: Int] {
        let sql = "SELECT tenant, COUNT(*) FROM jobs INDEXED BY jobs_holder WHERE worker_id IS NOT NULL GROUP BY tenant"
        var held: [TenantID: Int] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: sql)) { held[TenantID(row[0])] = row[1] }
        return held
    }

    /// Queued, unheld jobs: each tenant's first `depth` by priority class, then age (`ClaimOrder` rule 1). Read
    /// through the `jobs_claim_tenant` index only: the tenants with such jobs by a skip scan (one index seek per
    /// tenant), then each tenant's first `depth` entries — a claim reads tenants × depth rows, not the whole queue.
    static func claimCandidates(_ db: Database, depth: Int) throws -> [ClaimOrder.Candidate] {
        let tenants = """
            WITH RECURSIVE queued(tenant) AS (
                SELECT MIN(tenant) FROM jobs WHERE phase = 'queued' AND worker_id IS NULL
                UNION ALL
                SELECT (SELECT MIN(tenant) FROM jobs WHERE phase = 'queued' AND worker_id IS NULL AND tenant > queued.tenant)
                FROM queued WHERE queued.tenant IS NOT NULL
            )
            SELECT tenant FROM queued WHERE tenant IS NOT NULL
            """
        let firstOfTenant = """
            SELECT id, tenant, priority_rank, seq, model, created_at FROM jobs
            WHERE phase = 'queued' AND worker_id IS NULL AND tenant = ? ORDER BY priority_rank, seq LIMIT ?
            """
        var candidates: [ClaimOrder.Candidate] = []
        for tenant in try String.fetchAll(db.cachedStatement(sql: tenants)) {
            for row in try Row.fetchAll(db.cachedStatement(sql: firstOfTenant), arguments: [tenant, depth]) {
                candidates.append(ClaimOrder.Candidate(id: JobID(row[0]), tenant: TenantID(row[1]), priorityRank: row[2], sequence: row[3],
                                                       model: row[4], createdAt: Date(timeIntervalSince1970: row[5])))
            }
        }
        return candidates
    }
}
