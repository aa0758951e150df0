import Foundation
import JobStore
import PostgresNIO
import TurboServeDomain

/// One group commit of creates as the prepared statement of `create_jobs` (migration `2026-12-03-create-jobs`):
/// parsed and planned once per connection, then only bound and executed, so a batch costs one round trip and no
/// parse. Parameters travel as one array per column, in `create_jobs`' order and types (the function is found by
/// its exact signature); NULL is spelled '' for a key and -1 for a bound (arrays of optionals do not encode). The
/// time is the database's `now()` unless the store's clock is pinned (tests).
///
/// Rows come back in the jobs' order, one per job: `outcome`, the counts, `created_seq` and `created_time` for a
/// created job, and the stored job's columns for an `existing` one.
struct CreateJobsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT r.outcome, r.queued_count, r.tenant_queued_count, r.created_seq, r.created_time, (r.stored).* \
        FROM create_jobs($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::integer[], \
        $8::integer[], $9::text[], COALESCE($10::timestamptz, now()), $11::text, $12::text, $13::bigint[], $14::bigint[], \
        $15::text, $16::text[]) AS r ORDER BY r.job_position
        """
    typealias Row = PostgresRow

    private var ids: [String] = [], tenants: [String] = [], specs: [String] = [], models: [String] = [], phases: [String] = []
    private var keys: [String] = [], tenantLocks: [String] = []
    private var ranks: [Int32] = [], steps: [Int32] = [], attempts: [Int32] = [], bounds: [Int64] = [], tenantBounds: [Int64] = []
    private let pinnedNow: Date?
    private let queueLock: String

    /// `schema` names the queue bounds' advisory locks (one store's bounds are independent of another's).
    init(jobs: [NewJob], schema: String, pinnedNow: Date?, encoder: JSONEncoder) throws {
        self.pinnedNow = pinnedNow
        queueLock = "turboserve.queue:\(schema)"
        for job in jobs {
            let new = JobRecord.new(job, sequence: 0, at: .distantPast)
            ids.append(new.id.rawValue)
            tenants.append(new.tenant.rawValue)
            specs.append(String(decoding: try encoder.encode(new.spec), as: UTF8.self))
            models.append(new.spec.model)
            phases.append(new.phase.rawValue)
            keys.append(new.idempotencyKey ?? "")
            tenantLocks.append("\(queueLock):\(job.tenant.rawValue)")
            ranks.append(Int32(new.spec.priority.rank))
            steps.append(Int32(new.stepsCompleted))
            attempts.append(Int32(new.attempts))
            bounds.append(job.maxQueued.map(Int64.init) ?? -1)
            tenantBounds.append(job.maxQueuedPerTenant.map(Int64.init) ?? -1)
        }
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 16)
        bindings.append(ids)
        bindings.append(tenants)
        bindings.append(specs)
        bindings.append(models)
        bindings.append(ranks)
        bindings.append(phases)
        bindings.append(steps)
        bindings.append(attempts)
        bindings.append(keys)
        if let pinnedNow { bindings.append(PostgresTimestamp(pinnedNow)) } else { bindings.appendNull() }
        bindings.append("")
        bindings.append(JobState.queued.description)
        bindings.append(bounds)
        bindings.append(tenantBounds)
        bindings.append(queueLock)
        bindings.append(tenantLocks)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
