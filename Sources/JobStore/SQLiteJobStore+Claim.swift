import Foundation
import GRDB
import TurboServeDomain

/// The reads behind `SQLiteJobStore.claim`: what `ClaimOrder` needs, inside the claim's write transaction.
extension SQLiteJobStore {
    /// How many jobs of each tenant are held by any worker now (a held job is unfinished: finishing drops the holder).
    static func heldPerTenant(_ db: Database) throws -> [TenantID: Int] {
        let sql = "SELECT tenant, COUNT(*) FROM jobs WHERE worker_id IS NOT NULL GROUP BY tenant"
        var held: [TenantID: Int] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: sql)) { held[TenantID(row[0])] = row[1] }
        return held
    }

    /// Queued, unheld jobs: each tenant's first `depth` by priority class, then age (`ClaimOrder` rule 1).
    static func claimCandidates(_ db: Database, depth: Int) throws -> [ClaimOrder.Candidate] {
        let sql = """
            SELECT id, tenant, priority_rank, seq, model, created_at FROM (
                SELECT id, tenant, priority_rank, seq, model, created_at,
                    row_number() OVER (PARTITION BY tenant ORDER BY priority_rank, seq) AS position
                FROM jobs WHERE phase = 'queued' AND worker_id IS NULL
            ) WHERE position <= ?
            """
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [depth]).map { row in
            ClaimOrder.Candidate(id: JobID(row[0]), tenant: TenantID(row[1]), priorityRank: row[2], sequence: row[3],
                                 model: row[4], createdAt: Date(timeIntervalSince1970: row[5]))
        }
    }
}
