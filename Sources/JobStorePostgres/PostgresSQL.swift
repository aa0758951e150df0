import Foundation
import JobStore
import PostgresNIO
import TurboServeDomain

/// A statement under construction: SQL text with `$n` placeholders and their values, built in order.
struct SQLStatement {
    private(set) var sql = ""
    private(set) var binds = PostgresBindings()

    init(_ sql: String = "") { self.sql = sql }

    /// Appends literal SQL.
    mutating func append(_ text: String) { sql += text }

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresNonThrowingEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// A `timestamptz` parameter that survives the round trip exactly: PostgreSQL keeps microseconds, and a `Date`
/// read back and written again must land on the same microsecond (the library's own encoding truncates, which can
/// move an unchanged timestamp back by 1 µs on every rewrite).
struct PostgresTimestamp: PostgresNonThrowingEncodable, Sendable {
    let date: Date

    init(_ date: Date) { self.date = date }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        let sincePostgresEpoch = date.timeIntervalSince1970 - 946_684_800
        byteBuffer.writeInteger(Int64((sincePostgresEpoch * 1_000_000).rounded()))
    }
}

/// Where the store's "now" comes from: the single source of every lease and timestamp it writes.
///
/// In production it is the database's `now()` (the start of the writing transaction), so every process sharing the
/// database agrees on lease times whatever its own clock says. Tests pin it instead (`pinned`): each statement
/// then uses the test's instant, passed as a parameter into the same SQL expression (`COALESCE($n, now())`), so
/// a test moves time by advancing its own clock and the SQL is the production SQL. Only `@testable` code can pick
/// `pinned`: the initialiser taking a clock is internal.
enum StoreClock: Sendable {
    case database
    case pinned(@Sendable () -> Date)

    /// The SQL expression for "now", binding the pinned instant if any.
    func now(in statement: inout SQLStatement) -> String {
        switch self {
        case .database: "now()"
        case .pinned(let read): "COALESCE(\(statement.bind(PostgresTimestamp(read()))), now())"
        }
    }

    /// The pinned instant now, nil for the database's clock (a prepared statement binds it into `COALESCE($n, now())`).
    var pinnedNow: Date? {
        switch self {
        case .database: nil
        case .pinned(let read): read()
        }
    }
}

extension PostgresJobStore {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
    static let decoder = JSONDecoder()

    static let terminalPhases = "('succeeded', 'failed', 'cancelled')"

    static func record(from row: PostgresRow) throws -> JobRecord {
        let columns = row.makeRandomAccess()
        func text(_ name: String) throws -> String { try columns[name].decode(String.self) }
        func optionalText(_ name: String) throws -> String? { try columns[name].decode(String?.self) }
        func date(_ name: String) throws -> Date? { try columns[name].decode(Date?.self) }
        return JobRecord.stored(
            id: JobID(try text("id")), tenant: TenantID(try text("tenant")),
            spec: try decoder.decode(ValidatedJob.self, from: Data(try text("spec_json").utf8)),
            phase: JobState.Phase(rawValue: try text("phase")) ?? .failed,
            stepsCompleted: try columns["steps_completed"].decode(Int.self), attempts: try columns["attempts"].decode(Int.self),
            workerID: try optionalText("worker_id"), leaseExpiresAt: try date("lease_expires_at"),
            createdAt: try date("created_at") ?? .distantPast, updatedAt: try date("updated_at") ?? .distantPast,
            startedAt: try date("started_at"), completedAt: try date("completed_at"),
            errorCode: try optionalText("error_code"), errorMessage: try optionalText("error_message"),
            videoPath: try optionalText("video_path"), thumbnailPath: try optionalText("thumbnail_path"),
            idempotencyKey: try optionalText("idempotency_key"), sequence: try columns["seq"].decode(Int64.self),
            expiredAt: try date("expired_at"), deletedAt: try date("deleted_at"))
    }

    static func event(from row: PostgresRow) throws -> StoredJobEvent {
        let columns = row.makeRandomAccess()
        return StoredJobEvent(
            job: JobID(try columns["job_id"].decode(String.self)), at: try columns["at"].decode(Date.self),
            from: try columns["from_state"].decode(String.self), to: try columns["to_state"].decode(String.self),
            reasonCode: try columns["reason_code"].decode(String?.self), message: try columns["message"].decode(String?.self))
    }

    /// Every column of `jobs` but the store-assigned `seq`, bound into `statement`.
    static func columns(of job: JobRecord, into statement: inout SQLStatement) throws -> [(name: String, placeholder: String)] {
        let spec = String(decoding: try encoder.encode(job.spec), as: UTF8.self)
        func timestamp(_ date: Date?) -> PostgresTimestamp? { date.map(PostgresTimestamp.init) }
        return [
            ("id", statement.bind(job.id.rawValue)), ("tenant", statement.bind(job.tenant.rawValue)),
            ("spec_json", statement.bind(spec)), ("model", statement.bind(job.spec.model)),
            ("priority_rank", statement.bind(job.spec.priority.rank)), ("phase", statement.bind(job.phase.rawValue)),
            ("steps_completed", statement.bind(job.stepsCompleted)), ("attempts", statement.bind(job.attempts)),
            ("worker_id", statement.bind(job.workerID)), ("lease_expires_at", statement.bind(timestamp(job.leaseExpiresAt))),
            ("created_at", statement.bind(timestamp(job.createdAt))), ("updated_at", statement.bind(timestamp(job.updatedAt))),
            ("started_at", statement.bind(timestamp(job.startedAt))), ("completed_at", statement.bind(timestamp(job.completedAt))),
            ("error_code", statement.bind(job.errorCode)), ("error_message", statement.bind(job.errorMessage)),
            ("video_path", statement.bind(job.videoPath)), ("thumbnail_path", statement.bind(job.thumbnailPath)),
            ("idempotency_key", statement.bind(job.idempotencyKey)), ("expired_at", statement.bind(timestamp(job.expiredAt))),
            ("deleted_at", statement.bind(timestamp(job.deletedAt))),
        ]
    }

    /// One statement writing an existing job row (by id), its event (if any) and the notification of `signal`
    /// (if any), returning the row as stored. The notification is delivered when the surrounding transaction
    /// commits, never before and never for a rolled-back write. (New rows are written by `create_jobs`.)
    func write(_ job: JobRecord, event: StoredJobEvent?, signal: JobSignal?) throws -> SQLStatement {
        var statement = SQLStatement()
        let columns = try Self.columns(of: job, into: &statement)
        let rowSQL = "UPDATE jobs SET \(columns.filter { $0.name != "id" }.map { "\($0.name) = \($0.placeholder)" }.joined(separator: ", ")) WHERE id = \(columns[0].placeholder) RETURNING *"
        statement.append("WITH written AS (\(rowSQL))")
        if let event {
            statement.append("""
                , event AS (INSERT INTO job_events (job_id, at, from_state, to_state, reason_code, message) \
                SELECT id, \(statement.bind(PostgresTimestamp(event.at))), \(statement.bind(event.from)), \(statement.bind(event.to)), \
                \(statement.bind(event.reasonCode)), \(statement.bind(event.message)) FROM written)
                """)
        }
        if let signal {
            statement.append(", notified AS (SELECT pg_notify(\(statement.bind(configuration.channel)), \(statement.bind(signal.payload))))")
            statement.append(" SELECT written.* FROM written, notified")
        } else {
            statement.append(" SELECT * FROM written")
        }
        return statement
    }
}

extension PostgresConnection {
    /// `query`, refused at once on a connection already closed (the server ended the session: a transaction left
    /// idle past its timeout, a restart). postgres-nio 1.33 leaves a query sent on a closed connection waiting for
    /// ever (its fix, vapor/postgres-nio#487, was reverted in #501); the store's call would still answer by its
    /// deadline, but the hung query would keep its pool lease. A close racing the send can still hang; the call's
    /// deadline covers that.
    @discardableResult
    func queryIfOpen(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else {
            throw JobStoreUnavailable(backend: "postgresql", reason: "the connection was closed (the server ended its session)")
        }
        return try await self.query(query, logger: logger)
    }
}
