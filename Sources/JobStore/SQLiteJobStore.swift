import Foundation
import GRDB
import TurboServeDomain

/// The embedded default store: one SQLite file in WAL mode (GRDB `DatabasePool`), `synchronous=FULL` so a
/// returned `create` survives power loss. Rules are the shared pure mutations of `JobRecord+Transitions`; this
/// type only reads and writes rows, each verb in one transaction.
///
/// Thread-safety: GRDB serialises writes and lets reads run concurrently; the type holds no other mutable state.
/// Signals (when given) are published after each writing transaction commits; this process is their only audience
/// (SQLite serves one node).
public final class SQLiteJobStore: FencedTransitionStore {
    private let pool: DatabasePool
    private let now: @Sendable () -> Date
    private let signals: LocalJobSignals?
    /// How long a transaction waits for a file another process holds locked before the call fails as an outage.
    private let busyTimeout: Duration

    /// Opens (creating if needed) the database at `path` and runs pending migrations. `signals`: where each change
    /// is published (`JobSignal(after:)`), nil for none.
    public init(path: String, now: @escaping @Sendable () -> Date = Date.init, signals: LocalJobSignals? = nil, busyTimeout: Duration = .seconds(10)) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(busyTimeout.seconds)
        self.busyTimeout = busyTimeout
        pool = try DatabasePool(path: path, configuration: configuration)
        self.now = now
        self.signals = signals
        try SQLiteMigrations.migrator.migrate(pool)
    }

    // MARK: - Transactions

    /// `updates` in one writing transaction. A file another process holds locked past the busy timeout is an
    /// outage (`JobStoreUnavailable`, as PostgreSQL's lost connection is), so every caller logs and retries it in
    /// the same words, whatever the backend.
    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(updates) } catch { throw outage(error) }
    }

    /// `value` in one reading transaction; a locked file is an outage, as for `write`.
    private func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(value) } catch { throw outage(error) }
    }

    /// SQLITE_BUSY and SQLITE_LOCKED (the busy timeout ran out) as `JobStoreUnavailable`; every other error as it was.
    private func outage(_ error: any Error) -> any Error {
        guard let database = error as? DatabaseError, [.SQLITE_BUSY, .SQLITE_LOCKED].contains(database.resultCode) else { return error }
        return JobStoreUnavailable(backend: "sqlite", reason: "the database file stayed locked past the \(busyTimeout) busy timeout (\(database.message ?? "locked"))")
    }

    // MARK: - Create and read

    public func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) {
        let at = now()
        let outcome: (record: JobRecord, created: Bool) = try await write { db in
            if let key = job.idempotencyKey,
               let existing = try Self.fetch(db, "tenant = ? AND idempotency_key = ?", [job.tenant.rawValue, key]).first {
                guard existing.isSameRequest(as: job) else { throw Self.idempotencyConflict(key) }
                return (existing, false)
            }
            guard try Self.fetch(db, "id = ?", [job.id.rawValue]).isEmpty else {
                throw TurboServeError(.conflict, "job \(job.id) already exists")
            }
            if job.maxQueued != nil {
                try job.checkRoom(queued: try Int.fetchOne(db.cachedStatement(sql: "SELECT queued FROM queue_counter WHERE id = 0")) ?? 0)
            }
            if job.maxQueuedPerTenant != nil {
                let sql = "SELECT COUNT(*) FROM jobs WHERE tenant = ? AND phase = 'queued'"
                try job.checkTenantRoom(queued: try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [job.tenant.rawValue]) ?? 0)
            }
            let sequence = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs"))) ?? 1
            let record = JobRecord.new(job, sequence: sequence, at: at)
            try Self.insert(db, record)
            try Self.insert(db, StoredJobEvent(job: job.id, at: at, from: "", to: JobState.queued.description))
            return (record, true)
        }
        if outcome.created { signals?.publish(JobSignal(after: outcome.record)) }
        return outcome
    }

    public func get(_ id: JobID) async throws -> JobRecord? {
        try await read { db in try Self.fetch(db, "id = ?", [id.rawValue]).first }
    }

    public func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage {
        try await read { db in
            var conditions = ["deleted_at IS NULL"]
            var arguments: [any DatabaseValueConvertible] = []
            if let tenant { conditions.append("tenant = ?"); arguments.append(tenant.rawValue) }
            if let cursor {
                conditions.append("seq \(order == .newestFirst ? "<" : ">") (SELECT seq FROM jobs WHERE id = ?)")
                arguments.append(cursor.rawValue)
            }
            let filter = conditions.joined(separator: " AND ")
            arguments.append(limit + 1)
            let rows = try Self.fetch(db, "\(filter) ORDER BY seq \(order == .newestFirst ? "DESC" : "ASC") LIMIT ?", StatementArguments(arguments))
            return JobPage(jobs: Array(rows.prefix(limit)), hasMore: rows.count > limit)
        }
    }

    public func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord] {
        guard limit > 0 else { return [] }
        let at = now()
        let until = at.addingTimeInterval(lease.seconds)
        return try await write { db in
            let held = try Self.heldPerTenant(db)
            // Each tenant's excluded jobs may sit among its first candidates: read that many more, `pick` drops them.
            let candidates = try Self.claimCandidates(db, depth: ClaimOrder.scanDepth(limit: limit) + preferences.excluded.count)
            let chosen = ClaimOrder.pick(candidates, limit: limit, held: held, preferences: preferences, now: at)
            return try chosen.compactMap { try Self.fetch(db, "id = ?", [$0.id.rawValue]).first }.map { job in
                var job = job
                job.claim(by: worker, leaseUntil: until, at: at)
                try Self.update(db, job)
                return job
            }
        }
    }

    public func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat {
        let at = now()
        let until = at.addingTimeInterval(lease.seconds)
        let activityJSON = try activity.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
        return try await write { db in
            var renewed = 0
            for id in holding {
                try db.execute(
                    sql: "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND worker_id = ? AND phase NOT IN ('succeeded', 'failed', 'cancelled')",
                    arguments: [until.timeIntervalSince1970, id.rawValue, worker])
                renewed += db.changesCount
            }
            let previous = try String.fetchOne(db, sql: "SELECT json_extract(activity_json, '$.incarnation') FROM workers WHERE id = ?", arguments: [worker])
            try db.execute(
                sql: "INSERT INTO workers (id, heartbeat_at, activity_json) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, activity_json = excluded.activity_json",
                arguments: [worker, at.timeIntervalSince1970, activityJSON])
            var lost: [JobID: JobRecord?] = [:]
            for id in holding {
                let record = try Self.fetch(db, "id = ?", [id.rawValue]).first
                if record?.lostBy(worker) ?? true { lost[id] = record }
            }
            return Heartbeat(renewed: renewed, lost: lost, previousIncarnation: previous)
        }
    }

    public func cancel(_ id: JobID) async throws -> JobRecord? {
        guard try await get(id) != nil else { return nil }
        return try await mutateRecord(id) { job, at in try job.cancel(at: at) }
    }

    public func rescueExpired(maxAttempts: Int) async throws -> [JobID] {
        try await recover(.expiredLeases, maxAttempts: maxAttempts)
    }

    public func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID] {
        try await recover(Recovery(releasing: worker), maxAttempts: maxAttempts)
    }

    private func recover(_ which: Recovery, maxAttempts: Int) async throws -> [JobID] {
        let at = now()
        let recovered = try await write { db in
            let held = try Self.fetch(db, "worker_id IS NOT NULL AND phase NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY seq", [])
            var recovered: [JobRecord] = []
            for var job in held {
                guard let outcome = try job.recover(now: at, which, maxAttempts: maxAttempts) else { continue }
                if let event = outcome { try Self.insert(db, event) }
                try Self.update(db, job)
                recovered.append(job)
            }
            return recovered
        }
        for job in recovered { signals?.publish(JobSignal(after: job)) }
        return recovered.map(\.id)
    }

    public func workers() async throws -> [WorkerHeartbeat] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM workers ORDER BY heartbeat_at DESC, id DESC").map { row in
                let json: String? = row["activity_json"]
                return WorkerHeartbeat(
                    worker: row["id"], at: Date(timeIntervalSince1970: row["heartbeat_at"]),
                    activity: try json.map { try Self.decoder.decode(EngineActivity.self, from: Data($0.utf8)) })
            }
        }
    }

    public func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord] {
        try await read { db in
            try Self.fetch(db, "expired_at IS NULL AND deleted_at IS NULL AND completed_at < ? AND phase IN ('succeeded', 'failed', 'cancelled') ORDER BY completed_at, seq LIMIT ?",
                           [cutoff.timeIntervalSince1970, limit])
        }
    }

    public func markExpired(_ id: JobID) async throws -> JobRecord {
        let at = now()
        return try await write { db in
            guard var job = try Self.fetch(db, "id = ?", [id.rawValue]).first else {
                throw TurboServeError.noSuchVideo(id.rawValue)
            }
            try job.expire(at: at)
            try Self.update(db, job)
            return job
        }
    }

    public func markDeleted(_ id: JobID) async throws -> JobRecord {
        let at = now()
        return try await write { db in
            guard var job = try Self.fetch(db, "id = ?", [id.rawValue]).first else {
                throw TurboServeError.noSuchVideo(id.rawValue)
            }
            try job.delete(at: at)
            try Self.update(db, job)
            return job
        }
    }

    public func events(of id: JobID) async throws -> [StoredJobEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job_events WHERE job_id = ? ORDER BY id", arguments: [id.rawValue]).map { row in
                StoredJobEvent(
                    job: JobID(row["job_id"]), at: Date(timeIntervalSince1970: row["at"]), from: row["from_state"],
                    to: row["to_state"], reasonCode: row["reason_code"], message: row["message"])
            }
        }
    }

    public func countQueued() async throws -> [QueuedKey: Int] {
        try await read { db in
            let sql = "SELECT priority_rank, model, COUNT(*) AS n FROM jobs WHERE phase = 'queued' GROUP BY priority_rank, model"
            return try Row.fetchAll(db, sql: sql).reduce(into: [:]) { counts, row in
                let rank: Int = row["priority_rank"]
                if let priority = PriorityClass.allCases.first(where: { $0.rank == rank }) { counts[QueuedKey(priority: priority, model: row["model"])] = row["n"] }
            }
        }
    }

    public func countByPhase() async throws -> [JobState.Phase: Int] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT phase, COUNT(*) AS n FROM jobs GROUP BY phase").reduce(into: [:]) { counts, row in
                if let phase = JobState.Phase(rawValue: row["phase"]) { counts[phase] = row["n"] }
            }
        }
    }

    // MARK: - Rows

    package func mutateRecord(_ id: JobID, _ body: @escaping @Sendable (inout JobRecord, Date) throws -> StoredJobEvent?) async throws -> JobRecord {
        let at = now()
        let (job, changed) = try await write { db in
            guard var job = try Self.fetch(db, "id = ?", [id.rawValue]).first else {
                throw TurboServeError.noSuchVideo(id.rawValue)
            }
            guard let event = try body(&job, at) else { return (job, false) }
            try Self.update(db, job)
            try Self.insert(db, event)
            return (job, true)
        }
        if changed { signals?.publish(JobSignal(after: job)) }
        return job
    }

    private static let decoder = JSONDecoder()
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    private static func fetch(_ db: Database, _ whereClause: String, _ arguments: StatementArguments) throws -> [JobRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM jobs WHERE \(whereClause)"), arguments: arguments).map(record(from:))
    }

    private static func record(from row: Row) throws -> JobRecord {
        let specJSON: String = row["spec_json"]
        func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return JobRecord(
            id: JobID(row["id"]), tenant: TenantID(row["tenant"]),
            spec: try decoder.decode(ValidatedJob.self, from: Data(specJSON.utf8)),
            phase: JobState.Phase(rawValue: row["phase"]) ?? .failed, stepsCompleted: row["steps_completed"],
            attempts: row["attempts"], workerID: row["worker_id"], leaseExpiresAt: date("lease_expires_at"),
            createdAt: date("created_at")!, updatedAt: date("updated_at")!, startedAt: date("started_at"),
            completedAt: date("completed_at"), errorCode: row["error_code"], errorMessage: row["error_message"],
            videoPath: row["video_path"], thumbnailPath: row["thumbnail_path"], idempotencyKey: row["idempotency_key"],
            sequence: row["seq"], expiredAt: date("expired_at"), deletedAt: date("deleted_at"))
    }

    private static func columns(of job: JobRecord) throws -> [String: (any DatabaseValueConvertible)?] {
        [
            "id": job.id.rawValue, "seq": job.sequence, "tenant": job.tenant.rawValue,
            "spec_json": String(decoding: try encoder.encode(job.spec), as: UTF8.self), "model": job.spec.model,
            "priority_rank": job.spec.priority.rank, "phase": job.phase.rawValue,
            "steps_completed": job.stepsCompleted, "attempts": job.attempts, "worker_id": job.workerID,
            "lease_expires_at": job.leaseExpiresAt?.timeIntervalSince1970,
            "created_at": job.createdAt.timeIntervalSince1970, "updated_at": job.updatedAt.timeIntervalSince1970,
            "started_at": job.startedAt?.timeIntervalSince1970, "completed_at": job.completedAt?.timeIntervalSince1970,
            "error_code": job.errorCode, "error_message": job.errorMessage, "video_path": job.videoPath,
            "thumbnail_path": job.thumbnailPath, "idempotency_key": job.idempotencyKey,
            "expired_at": job.expiredAt?.timeIntervalSince1970,
            "deleted_at": job.deletedAt?.timeIntervalSince1970,
        ]
    }

    private static func insert(_ db: Database, _ job: JobRecord) throws {
        let values = try columns(of: job)
        let names = values.keys.sorted()
        let statement = try db.cachedStatement(sql: "INSERT INTO jobs (\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))")
        let arguments: [(any DatabaseValueConvertible)?] = names.map { values[$0] ?? nil }
        try statement.execute(arguments: StatementArguments(arguments))
    }

    private static func update(_ db: Database, _ job: JobRecord) throws {
        let values = try columns(of: job)
        let names = values.keys.sorted().filter { $0 != "id" }
        let statement = try db.cachedStatement(sql: "UPDATE jobs SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?")
        let arguments: [(any DatabaseValueConvertible)?] = names.map { values[$0] ?? nil } + [job.id.rawValue]
        try statement.execute(arguments: StatementArguments(arguments))
    }

    private static func insert(_ db: Database, _ event: StoredJobEvent) throws {
        try db.cachedStatement(sql: "INSERT INTO job_events (job_id, at, from_state, to_state, reason_code, message) VALUES (?, ?, ?, ?, ?, ?)").execute(
            arguments: [event.job.rawValue, event.at.timeIntervalSince1970, event.from, event.to, event.reasonCode, event.message])
    }
}
