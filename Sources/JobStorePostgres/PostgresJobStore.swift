import Foundation
import JobStore
import Logging
import PostgresNIO
import Synchronization
import TurboServeDomain

/// The fleet's store: one PostgreSQL database shared by every api and worker process. The rules are the shared
/// pure mutations of `JobRecord+Transitions`; this type only reads and writes rows, each verb in one transaction
/// (`claim` in one statement), and notifies (`pg_notify`, delivered at commit) for `PostgresJobSignals`.
///
/// Guarantees beyond the `JobStore` contract:
/// - Durability: every session runs with `synchronous_commit = on`, so a returned write is on disk.
/// - Time: leases and timestamps come from the database clock (`now()`), never this process's (see `StoreClock`).
/// - `claim`: one statement: CTEs order a bounded set of candidates by `ClaimOrder`'s rule (each tenant's oldest
///   `ClaimOrder.scanDepth` queued jobs, found through an index, so a claim reads the same few rows at 10,000
///   queued as at 10), lock them in that order `FOR UPDATE SKIP LOCKED`, and the update leases them; concurrent
///   claimers (any process) never block each other nor share a job.
/// - `create`: concurrent creates group-commit (`GroupCommitter`): one statement (`create_jobs`: the idempotency
///   lookups and the bounds judged job by job, then one INSERT of the accepted rows and one of their events), one
///   round trip and one commit for a batch; the `queued` signals follow the commit, batched too
///   (`PostCommitNotifier`: a NOTIFY inside the transaction would serialise commits on NOTIFY's lock).
/// - Queue bounds: checked in the creating transaction under the bounds' advisory locks taken exclusively and held
///   to the commit, so counts are exact (a batch's earlier jobs included) and concurrent creates never overshoot.
///   The counters they read are kept by triggers: one per statement for inserts, one per row for updates and deletes.
/// - `rescueExpired`: any process may call it; one runs at a time (a transaction-scoped advisory lock, tried, not
///   waited for: a call finding another rescuer at work returns nothing). It skips rows another transaction has
///   locked; the next sweep takes them.
/// - A process stopped inside a transaction (SIGSTOP, a frozen VM) holds its locks only until the session has idled
///   `callTimeout` in it; the server then ends the session (`PostgresStoreConfiguration.sessionParameters`).
/// - Outages: a call that cannot reach the database within `callTimeout` (refused, lost, restarting) throws
///   `JobStoreUnavailable`; the connection pool reconnects with backoff by itself. `health()` is the readiness
///   probe's check, naming the cause when the database does not answer.
///
/// Lifetime: the store runs its connection pool in a task it owns, from `init` until `shutdown()` (or deinit).
/// Thread-safety: immutable after init; the pool is safe from any task.
public final class PostgresJobStore: FencedTransitionStore {
    let configuration: PostgresStoreConfiguration
    /// The pool; internal so tests can hold its connections.
    let client: PostgresClient
    private let clock: StoreClock
    private let logger: Logger
    private let poolTask: Task<Void, Never>
    /// Announces created jobs after their commit, batched (`PostCommitNotifier`: a NOTIFY in each create serialised
    /// the commits).
    private let createdSignals: PostCommitNotifier
    /// Concurrent creates, committed together (`GroupCommitter`).
    private let creates: GroupCommitter<NewJob, (record: JobRecord, created: Bool)>

    /// Connects lazily (the first call opens connections). Call `migrate()` (or the `turboserve migrate` role)
    /// before the first use of a fresh database.
    public convenience init(configuration: PostgresStoreConfiguration, logger: Logger = Logger(label: "turboserve.store.postgres")) {
        self.init(configuration: configuration, clock: .database, logger: logger)
    }

    /// The test seam: `clock` picks where "now" comes from (see `StoreClock`).
    init(configuration: PostgresStoreConfiguration, clock: StoreClock, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        self.client = client
        poolTask = Task { await client.run() }
        creates = GroupCommitter(maxBatch: configuration.createBatch, maxInFlight: configuration.createsInFlight)
        let (channel, limit) = (configuration.channel, configuration.callTimeout)
        createdSignals = PostCommitNotifier { payloads in
            var statement = SQLStatement()
            statement.append("SELECT pg_notify(\(statement.bind(channel)), payload) FROM unnest(\(statement.bind(payloads))::text[]) AS payload")
            let query = statement.query
            let sent = await CallConnection.answer(on: client, within: limit) {
                for try await _ in try await $0.queryIfOpen(query, logger: logger) {}
            }
            if case .failure(let error) = sent {
                logger.warning("could not send job signals; listeners will find the jobs by polling", metadata: ["signals": "\(payloads.count)", "error": "\(String(reflecting: error))"])
            }
        }
    }

    deinit { poolTask.cancel() }

    /// Closes the pool; calls made afterwards throw `JobStoreUnavailable`.
    public func shutdown() { poolTask.cancel() }

    /// Applies pending migrations (see `PostgresMigrations`); safe to run from several processes at once.
    /// Returns the names applied.
    ///
    /// The database must answer within `callTimeout` first, so an unreachable one fails as fast as any call; the
    /// migration itself may then take up to `migrationDeadline` (DDL on a large table is slow). An attempt that
    /// finds a table locked by running transactions for `migrationLockTimeout` rolls back and is tried again after
    /// a pause (250 ms, doubling to 5 s), so the fleet's queries never queue behind it for longer than that.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await migrate(PostgresMigrations.all)
    }

    /// `migrate()` with the list of migrations as a parameter: tests append a release's to the shipped ones.
    func migrate(_ migrations: [PostgresMigrations.Migration]) async throws -> [String] {
        _ = try await call { [logger] in try await $0.queryIfOpen("SELECT 1", logger: logger).decode(Int.self).reduce(0, +) }
        let (schema, logger, lockTimeout) = (configuration.schema, logger, configuration.migrationLockTimeout)
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.migrationDeadline
        var pause: Duration = .milliseconds(250)
        while true {
            do {
                return try await call(timeout: deadline - clock.now) { connection in
                    try await PostgresMigrations.apply(migrations, on: connection, schema: schema, lockTimeout: lockTimeout, logger: logger)
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" && clock.now + pause < deadline {
                logger.warning("a migration found a table locked by running transactions and gave way; trying again", metadata: [
                    "waited": "\(lockTimeout)", "retry_in": "\(pause)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    /// The one call of `turboserve migrate`: connects, applies pending migrations, closes. Returns their names.
    @discardableResult
    public static func migrate(configuration: PostgresStoreConfiguration, logger: Logger = Logger(label: "turboserve.migrate")) async throws -> [String] {
        let store = PostgresJobStore(configuration: configuration, logger: logger)
        defer { store.shutdown() }
        return try await store.migrate()
    }

    /// The readiness probe: healthy when the database answers a trivial query within one second; otherwise one
    /// fresh session tells why not within another second (`SessionProbe`), so a probe answers within two.
    public func health() async -> StoreHealth {
        do {
            let answered = try await call(timeout: .seconds(1)) { [logger] in
                try await $0.queryIfOpen("SELECT 1", logger: logger).decode(Int.self).reduce(0, +) == 1
            }
            if answered { return .healthy }
        } catch {}
        return .unhealthy(await SessionProbe(configuration: configuration, logger: logger).diagnose(within: .seconds(1)))
    }

    // MARK: - Create and read

    public func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) {
        try await creates.submit(job) { [self] jobs in await createBatch(jobs) }
    }

    /// What `create_job` answered for one job.
    private enum CreateOutcome {
        case created(JobRecord)
        /// The job stored under the same tenant and idempotency key.
        case existing(JobRecord)
        /// A queue bound is full: the exact counts.
        case full(queued: Int, tenantQueued: Int)
    }

    /// One group commit of creates. A statement the database refused rolled back as a whole (say a concurrent
    /// create of another process took a job's idempotency key first), so its jobs are then created one by one and
    /// only the offending one fails; a lost connection fails them all (`JobStoreUnavailable`, as for one create).
    private func createBatch(_ jobs: [NewJob]) async -> [Result<(record: JobRecord, created: Bool), any Error>] {
        do {
            let outcomes = try await insert(jobs)
            return zip(jobs, outcomes).map { job, outcome in Result { try judge(job, outcome) } }
        } catch let error as PSQLError where error.code == .server && !Self.isOutage(sqlState: error.serverInfo?[.sqlState]) {
            var answers: [Result<(record: JobRecord, created: Bool), any Error>] = []
            for job in jobs {
                do { answers.append(.success(try await createAlone(job))) } catch { answers.append(.failure(error)) }
            }
            return answers
        } catch {
            return jobs.map { _ in .failure(error) }
        }
    }

    /// One job in its own statement, the unique-key conflicts of a concurrent create answered: the same id is a
    /// 409; the same idempotency key committed by another process first is found by the next attempt (a replay).
    private func createAlone(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) {
        for _ in 0..<3 {
            do {
                return try judge(job, try await insert([job])[0])
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                let constraint = error.serverInfo?[.constraintName]
                if constraint == "jobs_pkey" { throw TurboServeError(.conflict, "job \(job.id) already exists") }
                guard constraint == "jobs_idempotency" else { throw error }
            }
        }
        throw JobStoreUnavailable(backend: "postgresql", reason: "create of \(job.id) kept conflicting with concurrent creates")
    }

    /// The store's rules on what `create_job` found: a replay must be the same request; a full bound is its typed
    /// error; a created job is announced after its commit.
    private func judge(_ job: NewJob, _ outcome: CreateOutcome) throws -> (record: JobRecord, created: Bool) {
        switch outcome {
        case .created(let record):
            createdSignals.notify(JobSignal(after: record).payload)
            return (record, true)
        case .existing(let existing):
            guard existing.isSameRequest(as: job) else { throw Self.idempotencyConflict(job.idempotencyKey ?? "") }
            return (existing, false)
        case .full(let queued, let tenantQueued):
            try job.checkRoom(queued: queued)
            try job.checkTenantRoom(queued: tenantQueued)
            throw TurboServeError(.internalError, "create_job found a bound full for \(job.id) although the counts leave room")
        }
    }

    /// `jobs` in one statement, so one round trip and one transaction (autocommit): `create_jobs` (migration
    /// `2026-12-03-create-jobs`, prepared: `CreateJobsStatement`) judges them in order under the exclusive queue
    /// locks (held to the commit, so the bounds are counted exactly, this batch's earlier jobs included) and inserts
    /// the accepted ones together.
    private func insert(_ jobs: [NewJob]) async throws -> [CreateOutcome] {
        let statement = try CreateJobsStatement(jobs: jobs, schema: configuration.schema, pinnedNow: clock.pinnedNow, encoder: Self.encoder)
        let rows = try await withoutTransaction(writes: true) { [logger] connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
        guard rows.count == jobs.count else {
            throw TurboServeError(.internalError, "create_jobs answered \(rows.count) rows for \(jobs.count) jobs")
        }
        return try zip(jobs, rows).map { job, row in
            let columns = row.makeRandomAccess()
            switch try columns["outcome"].decode(String.self) {
            case "created":
                // The row holds what was sent; only the sequence and the database's time are new (decoding the
                // spec back was a tenth of a create's CPU).
                let createdAt = try columns["created_time"].decode(Date.self)
                return .created(JobRecord.new(job, sequence: try columns["created_seq"].decode(Int64.self), at: createdAt))
            case "existing": return .existing(try Self.record(from: row))
            default:
                return .full(queued: try columns["queued_count"].decode(Int.self), tenantQueued: try columns["tenant_queued_count"].decode(Int.self))
            }
        }
    }

    public func get(_ id: JobID) async throws -> JobRecord? {
        var statement = SQLStatement()
        statement.append("SELECT * FROM jobs WHERE id = \(statement.bind(id.rawValue))")
        return try await records(statement, writes: false).first
    }

    public func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage {
        var statement = SQLStatement()
        var conditions = ["deleted_at IS NULL"]
        if let tenant { conditions.append("tenant = \(statement.bind(tenant.rawValue))") }
        if let cursor {
            conditions.append("seq \(order == .newestFirst ? "<" : ">") (SELECT seq FROM jobs WHERE id = \(statement.bind(cursor.rawValue)))")
        }
        let filter = conditions.joined(separator: " AND ")
        statement.append("SELECT * FROM jobs WHERE \(filter) ORDER BY seq \(order == .newestFirst ? "DESC" : "ASC") LIMIT \(statement.bind(limit + 1))")
        let rows = try await records(statement, writes: false)
        return JobPage(jobs: Array(rows.prefix(limit)), hasMore: rows.count > limit)
    }

    // MARK: - Workers

    public func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord] {
        guard limit > 0 else { return [] }
        var statement = SQLStatement()
        let now = clock.now(in: &statement)
        let weights = preferences.tenantWeights.sorted { $0.key < $1.key }
        // `ClaimOrder`'s rule in SQL. Window functions cannot share a SELECT with FOR UPDATE, so the order is computed
        // first (`ordered`) and `picked` locks the rows in that order, skipping those another claimer is taking. Its
        // `id = ANY(ARRAY(...))` makes the planner fetch the few candidates by primary key instead of hash-joining
        // every queued row; only the first `lockWindow` of the order are fetched and tried (`picked` re-reads each
        // row it locks, and reading all tenants × scanDepth candidates cost most of the claim).
        statement.append("""
            WITH RECURSIVE clock AS (SELECT \(now) AS at),
            tenants AS (
                (SELECT tenant FROM jobs WHERE phase = 'queued' AND worker_id IS NULL ORDER BY tenant LIMIT 1)
                UNION ALL
                SELECT (SELECT j.tenant FROM jobs j WHERE j.phase = 'queued' AND j.worker_id IS NULL AND j.tenant > tenants.tenant
                        ORDER BY j.tenant LIMIT 1)
                FROM tenants WHERE tenants.tenant IS NOT NULL
            ),
            held AS (SELECT tenant, count(*) AS n FROM jobs WHERE worker_id IS NOT NULL GROUP BY tenant),
            weights AS (
                SELECT * FROM unnest(\(statement.bind(weights.map(\.key.rawValue)))::text[], \(statement.bind(weights.map(\.value)))::float8[])
                    AS w(tenant, weight)
            ),
            candidates AS (
                SELECT c.id, c.tenant, c.priority_rank, c.seq,
                    (c.model = ANY(\(statement.bind(preferences.residentModels.sorted()))::text[])
                        OR c.created_at <= clock.at - \(statement.bind(preferences.affinityWait.seconds)) * interval '1 second') AS preferred
                FROM tenants CROSS JOIN clock CROSS JOIN LATERAL (
                    SELECT id, tenant, priority_rank, seq, model, created_at FROM jobs
                    WHERE jobs.tenant = tenants.tenant AND phase = 'queued' AND worker_id IS NULL
                        AND NOT (id = ANY(\(statement.bind(preferences.excluded.map(\.rawValue).sorted()))::text[]))
                    ORDER BY priority_rank, seq LIMIT \(statement.bind(ClaimOrder.scanDepth(limit: limit)))
                ) c
            ),
            shared AS (
                SELECT candidates.id, candidates.priority_rank, candidates.preferred, candidates.seq,
                    (coalesce(held.n, 0) + row_number() OVER (
                        PARTITION BY candidates.tenant, candidates.priority_rank, candidates.preferred ORDER BY candidates.seq))::float8
                        / greatest(coalesce(weights.weight, 1), \(ClaimPreferences.minimumWeight)::float8) AS share
                FROM candidates LEFT JOIN held ON held.tenant = candidates.tenant LEFT JOIN weights ON weights.tenant = candidates.tenant
            ),
            ordered AS (
                SELECT id, ord FROM (
                    SELECT id, row_number() OVER (ORDER BY priority_rank, NOT preferred, share, seq) AS ord FROM shared
                ) numbered WHERE ord <= \(statement.bind(Self.lockWindow(limit: limit)))
            ),
            picked AS (
                SELECT jobs.id, ordered.ord FROM ordered JOIN jobs ON jobs.id = ordered.id
                WHERE jobs.id = ANY(ARRAY(SELECT id FROM ordered)) AND jobs.phase = 'queued' AND jobs.worker_id IS NULL
                ORDER BY ordered.ord LIMIT \(statement.bind(limit)) FOR UPDATE OF jobs SKIP LOCKED
            ),
            claimed AS (
                UPDATE jobs SET worker_id = \(statement.bind(worker)),
                    lease_expires_at = clock.at + \(statement.bind(lease.seconds)) * interval '1 second', updated_at = clock.at
                FROM picked, clock WHERE jobs.id = picked.id RETURNING jobs.*, picked.ord AS claim_order
            )
            SELECT * FROM claimed ORDER BY claim_order
            """)
        return try await records(statement, writes: true)
    }

    /// How many jobs at the head of the claim order a claim of `limit` tries to lock. Only claims in flight at the
    /// same moment hold rows of that head (a committed claim's rows are no longer candidates), so the window is
    /// the claim's own `limit` plus room for 15 concurrent claimers of the same size; when even more race, a claim
    /// may come back short and its worker claims again on its next wake-up (never a wrong or a shared job).
    static func lockWindow(limit: Int) -> Int { 16 * limit }

    public func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat {
        let activityJSON = try activity.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
        return try await transaction { [self] connection in
            var renew = SQLStatement()
            let now = clock.now(in: &renew)
            let workerID = renew.bind(worker)
            renew.append("""
                WITH clock AS (SELECT \(now) AS at),
                previous AS (SELECT activity_json::jsonb ->> 'incarnation' AS incarnation FROM workers WHERE id = \(workerID)),
                renewed AS (
                    UPDATE jobs SET lease_expires_at = clock.at + \(renew.bind(lease.seconds)) * interval '1 second' FROM clock
                    WHERE worker_id = \(workerID) AND id = ANY(\(renew.bind(holding.map(\.rawValue)))) AND phase NOT IN \(Self.terminalPhases)
                    RETURNING 1
                ), seen AS (
                    INSERT INTO workers (id, heartbeat_at, activity_json) SELECT \(workerID), clock.at, \(renew.bind(activityJSON)) FROM clock
                    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, activity_json = excluded.activity_json
                )
                SELECT (SELECT count(*) FROM renewed), (SELECT incarnation FROM previous)
                """)
            let (renewed, previous) = try await self.rows(renew, on: connection)[0].decode((Int, String?).self)
            var lost: [JobID: JobRecord?] = [:]
            if !holding.isEmpty {
                var read = SQLStatement()
                read.append("SELECT * FROM jobs WHERE id = ANY(\(read.bind(holding.map(\.rawValue))))")
                let records = try await self.rows(read, on: connection).map(Self.record(from:))
                let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for id in holding where byID[id]?.lostBy(worker) ?? true { lost[id] = byID[id] }
            }
            return Heartbeat(renewed: renewed, lost: lost, previousIncarnation: previous)
        }
    }

    public func cancel(_ id: JobID) async throws -> JobRecord? {
        do {
            return try await mutateRecord(id) { job, at in try job.cancel(at: at) }
        } catch let error as TurboServeError where error.code == .notFound {
            return nil
        }
    }

    public func rescueExpired(maxAttempts: Int) async throws -> [JobID] {
        try await recover(.expiredLeases, maxAttempts: maxAttempts)
    }

    public func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID] {
        try await recover(Recovery(releasing: worker), maxAttempts: maxAttempts)
    }

    /// Returns the held jobs `which` selects to the shared queue, each with its event and notification, in one
    /// transaction. The rescuer (`expiredLeases`) first tries the rescue lock and does nothing if another process
    /// holds it.
    private func recover(_ which: Recovery, maxAttempts: Int) async throws -> [JobID] {
        try await transaction { [self] connection in
            var select = SQLStatement()
            let now = clock.now(in: &select)
            var filter = "worker_id IS NOT NULL AND phase NOT IN \(Self.terminalPhases)"
            switch which {
            case .expiredLeases:
                var lock = SQLStatement()
                lock.append("SELECT pg_try_advisory_xact_lock(hashtext(\(lock.bind(configuration.rescueLock))))")
                guard try await self.rows(lock, on: connection)[0].decode(Bool.self) else { return [] }
                filter += " AND lease_expires_at < \(now)"
            case .heldBy(let worker):
                filter += " AND worker_id = \(select.bind(worker))"
            case .everyHolder:
                break
            }
            // A sweep skips the rows another transaction holds (a worker writing its job's step, or stopped inside
            // that write until its session times out): one locked job must not stall the rescue of the rest.
            let skipping = if case .expiredLeases = which { " SKIP LOCKED" } else { "" }
            select.append("SELECT \(now) AS store_now, jobs.* FROM jobs WHERE \(filter) ORDER BY seq FOR UPDATE\(skipping)")
            let held = try await self.rows(select, on: connection)
            var recovered: [JobID] = []
            for row in held {
                let at = try row.makeRandomAccess()["store_now"].decode(Date.self)
                var job = try Self.record(from: row)
                guard let outcome = try job.recover(now: at, which, maxAttempts: maxAttempts) else { continue }
                _ = try await self.rows(try write(job, event: outcome, signal: JobSignal(after: job)), on: connection)
                recovered.append(job.id)
            }
            return recovered
        }
    }

    public func workers() async throws -> [WorkerHeartbeat] {
        let rows = try await withoutTransaction(writes: false) { [logger] connection in
            var found: [(String, Date, String?)] = []
            for try await row in try await connection.queryIfOpen("SELECT id, heartbeat_at, activity_json FROM workers ORDER BY heartbeat_at DESC, id DESC", logger: logger)
                .decode((String, Date, String?).self) { found.append(row) }
            return found
        }
        return try rows.map { id, at, json in
            WorkerHeartbeat(worker: id, at: at, activity: try json.map { try Self.decoder.decode(EngineActivity.self, from: Data($0.utf8)) })
        }
    }

    // MARK: - Retention and reads

    public func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord] {
        var statement = SQLStatement()
        statement.append("""
            SELECT * FROM jobs WHERE expired_at IS NULL AND deleted_at IS NULL AND completed_at < \(statement.bind(PostgresTimestamp(cutoff)))
            AND phase IN \(Self.terminalPhases) ORDER BY completed_at, seq LIMIT \(statement.bind(limit))
            """)
        return try await records(statement, writes: false)
    }

    public func markExpired(_ id: JobID) async throws -> JobRecord {
        try await transaction { [self] connection in
            var (job, at) = try await self.lockedJob(id, on: connection)
            try job.expire(at: at)
            return try Self.record(from: try await self.rows(try write(job, event: nil, signal: nil), on: connection)[0])
        }
    }

    public func markDeleted(_ id: JobID) async throws -> JobRecord {
        try await transaction { [self] connection in
            var (job, at) = try await self.lockedJob(id, on: connection)
            try job.delete(at: at)
            return try Self.record(from: try await self.rows(try write(job, event: nil, signal: nil), on: connection)[0])
        }
    }

    public func events(of id: JobID) async throws -> [StoredJobEvent] {
        var statement = SQLStatement()
        statement.append("SELECT * FROM job_events WHERE job_id = \(statement.bind(id.rawValue)) ORDER BY id")
        let query = statement
        return try await withoutTransaction(writes: false) { [self] connection in try await self.rows(query, on: connection).map(Self.event(from:)) }
    }

    public func countQueued() async throws -> [QueuedKey: Int] {
        var statement = SQLStatement()
        statement.append("SELECT priority_rank::bigint, model, count(*) FROM jobs WHERE phase = 'queued' GROUP BY priority_rank, model")
        let query = statement
        return try await withoutTransaction(writes: false) { [self] connection in
            try await self.rows(query, on: connection).reduce(into: [:]) { counts, row in
                let (rank, model, count) = try row.decode((Int, String, Int).self)
                if let priority = PriorityClass.allCases.first(where: { $0.rank == rank }) { counts[QueuedKey(priority: priority, model: model)] = count }
            }
        }
    }

    public func countByPhase() async throws -> [JobState.Phase: Int] {
        let counts = try await grouped("SELECT phase, count(*) FROM jobs GROUP BY phase", as: String.self)
        return counts.reduce(into: [:]) { result, entry in
            if let phase = JobState.Phase(rawValue: entry.key) { result[phase] = entry.count }
        }
    }

    // MARK: - Rows

    /// Reads, mutates and writes one job in one transaction (row locked); `body` returns the event to record (nil:
    /// no change, nothing written, no notification).
    package func mutateRecord(_ id: JobID, _ body: @escaping @Sendable (inout JobRecord, Date) throws -> StoredJobEvent?) async throws -> JobRecord {
        try await transaction { [self] connection in
            var (job, at) = try await self.lockedJob(id, on: connection)
            guard let event = try body(&job, at) else { return job }
            let stored = try await self.rows(try write(job, event: event, signal: JobSignal(after: job)), on: connection)
            return try Self.record(from: stored[0])
        }
    }

    /// The job row, locked for this transaction, and the store's now; `not_found` for an unknown id.
    private func lockedJob(_ id: JobID, on connection: PostgresConnection) async throws -> (JobRecord, Date) {
        var statement = SQLStatement()
        let now = clock.now(in: &statement)
        statement.append("SELECT \(now) AS store_now, jobs.* FROM jobs WHERE id = \(statement.bind(id.rawValue)) FOR UPDATE")
        guard let row = try await rows(statement, on: connection).first else {
            throw TurboServeError.noSuchVideo(id.rawValue)
        }
        return (try Self.record(from: row), try row.makeRandomAccess()["store_now"].decode(Date.self))
    }

    /// The rows `statement` answers, as records; `writes` as for `withoutTransaction` (a claim writes, a lookup reads).
    private func records(_ statement: SQLStatement, writes: Bool) async throws -> [JobRecord] {
        try await withoutTransaction(writes: writes) { [self] connection in try await self.rows(statement, on: connection).map(Self.record(from:)) }
    }

    private func grouped<Key: PostgresDecodable & Sendable>(_ sql: PostgresQuery, as key: Key.Type) async throws -> [(key: Key, count: Int)] {
        try await withoutTransaction(writes: false) { [logger] connection in
            var found: [(key: Key, count: Int)] = []
            for try await (key, count) in try await connection.queryIfOpen(sql, logger: logger).decode((Key, Int).self) { found.append((key, count)) }
            return found
        }
    }

    func rows(_ statement: SQLStatement, on connection: PostgresConnection) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await connection.queryIfOpen(statement.query, logger: logger) { rows.append(row) }
        return rows
    }

    // MARK: - Calls

    /// One call on a pooled connection, outside a transaction (autocommit). A write (`writes`) counts as sent once
    /// it has its connection (`WriteSent`), and abandoned before that it sends nothing; a read's failure never says
    /// `mayHaveApplied`.
    private func withoutTransaction<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let sent = writes ? WriteSent() : nil
        return try await call(sent: sent) { connection in
            if let sent, !sent.send() { throw CancellationError() }
            return try await body(connection)
        }
    }

    /// `body` in one transaction on a pooled connection: committed if it returns, rolled back if it throws.
    /// Its write counts as sent once COMMIT is (`WriteSent`); a call abandoned before that rolls back.
    private func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let sent = WriteSent()
        return try await call(sent: sent) { [logger] connection in
            try await connection.queryIfOpen("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                guard sent.send() else { throw CancellationError() }
                try await connection.queryIfOpen("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.queryIfOpen("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection with a hard deadline (`CallConnection.answer`: a call past it closes its
    /// connection) and turns an unreachable database into `JobStoreUnavailable`. Decided errors (`TurboServeError`)
    /// and SQL errors that are not about the connection pass through unchanged. A caller is answered within
    /// `callTimeout` whatever the pool is doing. `sent` says whether the call's write had gone out when it failed
    /// (`JobStoreUnavailable.mayHaveApplied`); nil for a read.
    private func call<T: Sendable>(timeout: Duration? = nil, sent: WriteSent? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let limit = timeout ?? configuration.callTimeout
        let outcome = await CallConnection.answer(on: client, within: limit, mayHaveApplied: { sent?.abandon() ?? false }, body)
        do {
            return try outcome.get()
        } catch let error as TurboServeError {
            throw error
        } catch let error as JobStoreUnavailable {
            throw error
        } catch let error as PSQLError where error.code == .server && !Self.isOutage(sqlState: error.serverInfo?[.sqlState]) {
            throw error
        } catch {
            throw JobStoreUnavailable(backend: "postgresql", reason: String(describing: error), mayHaveApplied: sent?.abandon() ?? false)
        }
    }

    /// SQL states that mean "the database could not serve this now" rather than "this statement is wrong":
    /// connection exceptions (08), insufficient resources (53), operator intervention such as a shutdown or a
    /// server still starting (57), and serialization failures or deadlocks (40).
    private static func isOutage(sqlState: String?) -> Bool {
        guard let sqlState else { return false }
        return ["08", "53", "57", "40"].contains(String(sqlState.prefix(2)))
    }
}
