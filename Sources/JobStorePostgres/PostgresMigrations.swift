import Logging
import PostgresNIO

/// The PostgreSQL schema as named migrations, applied in order and recorded in `schema_migrations`. A migration is
/// never edited once shipped: change the schema by appending a new one.
///
/// Concurrency: `apply` runs every pending migration in one transaction under a transaction-scoped advisory lock
/// keyed by the schema, so several processes migrating at once (pods starting together) serialise; the ones that
/// waited find the migrations recorded and apply nothing. DDL is transactional in PostgreSQL: a failed migration
/// leaves the schema as it was.
///
/// A migration never stalls the running fleet: DDL such as `ALTER TABLE` needs its table to itself, and while it
/// waits for a long transaction (a backup, a report) every later query on that table queues behind it. So after
/// the advisory lock each attempt sets `lock_timeout`: a statement that cannot have its lock within it fails with
/// `lock_not_available` (55P03), the attempt rolls back, and `PostgresJobStore.migrate` tries again after a pause.
enum PostgresMigrations {
    struct Migration: Sendable {
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(name: "2026-12-02-jobs", statements: [
            """
            CREATE TABLE jobs (
                id text PRIMARY KEY,
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                tenant text NOT NULL,
                spec_json text NOT NULL,
                model text NOT NULL,
                priority_rank integer NOT NULL,
                phase text NOT NULL,
                steps_completed integer NOT NULL DEFAULT 0,
                attempts integer NOT NULL DEFAULT 0,
                worker_id text,
                lease_expires_at timestamptz,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                started_at timestamptz,
                completed_at timestamptz,
                error_code text,
                error_message text,
                video_path text,
                thumbnail_path text,
                idempotency_key text,
                expired_at timestamptz
            )
            """,
            // Idempotency keys are unique per tenant: a concurrent duplicate fails here and is answered as a replay.
            "CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL",
            // The claim: queued, unheld jobs in priority then age order.
            "CREATE INDEX jobs_claim ON jobs (priority_rank, seq) WHERE phase = 'queued' AND worker_id IS NULL",
            // Heartbeats, the rescuer and releaseHeld look at held jobs only.
            "CREATE INDEX jobs_holder ON jobs (worker_id, lease_expires_at) WHERE worker_id IS NOT NULL",
            "CREATE INDEX jobs_tenant_seq ON jobs (tenant, seq)",
            "CREATE INDEX jobs_retention ON jobs (completed_at) WHERE expired_at IS NULL AND completed_at IS NOT NULL",
            """
            CREATE TABLE job_events (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                job_id text NOT NULL REFERENCES jobs (id),
                at timestamptz NOT NULL,
                from_state text NOT NULL,
                to_state text NOT NULL,
                reason_code text,
                message text
            )
            """,
            "CREATE INDEX job_events_job ON job_events (job_id, id)",
            // Each worker's last heartbeat (database clock) and what it reported: the fleet's operations view.
            "CREATE TABLE workers (id text PRIMARY KEY, heartbeat_at timestamptz NOT NULL, activity_json text)",
        ]),
        // The queue bounds read counters instead of counting queued rows on every create (a count grows with the
        // queue). A trigger keeps them equal to the queued rows in the same transaction as every change. Each
        // connection writes its own stripe (backend pid modulo 64), so concurrent creates do not queue on one
        // counter row; a count is the sum of the stripes.
        Migration(name: "2026-12-02-queue-counters", statements: [
            "CREATE TABLE queued_per_tenant (tenant text NOT NULL, stripe integer NOT NULL, queued bigint NOT NULL, PRIMARY KEY (tenant, stripe))",
            "CREATE TABLE queued_total (stripe integer PRIMARY KEY, queued bigint NOT NULL)",
            """
            CREATE FUNCTION count_queued_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                delta integer := 0;
                tenant_id text;
                my_stripe integer := pg_backend_pid() % 64;
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.phase = 'queued' THEN delta := delta - 1; tenant_id := OLD.tenant; END IF;
                IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.phase = 'queued' THEN delta := delta + 1; tenant_id := NEW.tenant; END IF;
                IF delta <> 0 THEN
                    INSERT INTO queued_per_tenant AS c (tenant, stripe, queued) VALUES (tenant_id, my_stripe, delta)
                        ON CONFLICT (tenant, stripe) DO UPDATE SET queued = c.queued + excluded.queued;
                    INSERT INTO queued_total AS c (stripe, queued) VALUES (my_stripe, delta)
                        ON CONFLICT (stripe) DO UPDATE SET queued = c.queued + excluded.queued;
                END IF;
                RETURN NULL;
            END
            $$
            """,
            "CREATE TRIGGER jobs_count_queued AFTER INSERT OR UPDATE OF phase OR DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION count_queued_jobs()",
            "INSERT INTO queued_per_tenant (tenant, stripe, queued) SELECT tenant, 0, count(*) FROM jobs WHERE phase = 'queued' GROUP BY tenant",
            "INSERT INTO queued_total (stripe, queued) SELECT 0, count(*) FROM jobs WHERE phase = 'queued'",
        ]),
        // When its client deleted a finished job (DELETE /v1/videos/{id}): list and retention skip it.
        Migration(name: "2026-12-02-deleted", statements: [
            "ALTER TABLE jobs ADD COLUMN deleted_at timestamptz",
        ]),
        // The claim (`ClaimOrder`): each tenant's queued, unheld jobs in priority then age order, and the distinct
        // tenants with such jobs (a skip scan over the same index).
        Migration(name: "2026-12-03-claim-order", statements: [
            "CREATE INDEX jobs_claim_tenant ON jobs (tenant, priority_rank, seq) WHERE phase = 'queued' AND worker_id IS NULL",
        ]),
        // `create` in one round trip: the idempotency lookup, the queue bounds (the advisory locks, then the
        // counters, each statement with a fresh snapshot so an exclusive count sees every create that held the
        // shared lock), the insert, its event and the notification, in the caller's single-statement transaction.
        // The store's rules stay in Swift: the function returns what it found (`existing`: the job of the same key,
        // for the caller to compare; `near`: the shared path could not prove room; `full`: the exclusive count
        // fills a bound, with the counts for the caller's typed error) or what it stored (`created`).
        Migration(name: "2026-12-03-create-function", statements: [
            """
            CREATE FUNCTION create_job(
                p_id text, p_tenant text, p_spec_json text, p_model text, p_priority_rank integer, p_phase text,
                p_steps_completed integer, p_attempts integer, p_idempotency_key text, p_at timestamptz,
                p_event_from text, p_event_to text, p_max_queued bigint, p_max_queued_per_tenant bigint, p_exclusive boolean,
                p_queue_lock text, p_tenant_lock text, p_channel text, p_payload text)
            RETURNS TABLE (outcome text, queued_count bigint, tenant_queued_count bigint, stored jobs)
            LANGUAGE plpgsql AS $$
            DECLARE
                row_found jobs;
                slack bigint := 0;
            BEGIN
                queued_count := 0;
                tenant_queued_count := 0;
                IF p_idempotency_key IS NOT NULL THEN
                    SELECT * INTO row_found FROM jobs j WHERE j.tenant = p_tenant AND j.idempotency_key = p_idempotency_key;
                    IF FOUND THEN
                        outcome := 'existing';
                        stored := row_found;
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                IF p_max_queued IS NOT NULL OR p_max_queued_per_tenant IS NOT NULL THEN
                    IF p_exclusive THEN
                        PERFORM pg_advisory_xact_lock(hashtext(p_queue_lock)), pg_advisory_xact_lock(hashtext(p_tenant_lock));
                    ELSE
                        PERFORM pg_advisory_xact_lock_shared(hashtext(p_queue_lock)), pg_advisory_xact_lock_shared(hashtext(p_tenant_lock));
                        slack := current_setting('max_connections')::bigint;
                    END IF;
                    IF p_max_queued IS NOT NULL THEN
                        SELECT COALESCE(sum(t.queued), 0) INTO queued_count FROM queued_total t;
                    END IF;
                    IF p_max_queued_per_tenant IS NOT NULL THEN
                        SELECT COALESCE(sum(t.queued), 0) INTO tenant_queued_count FROM queued_per_tenant t WHERE t.tenant = p_tenant;
                    END IF;
                    IF queued_count + slack >= p_max_queued OR tenant_queued_count + slack >= p_max_queued_per_tenant THEN
                        outcome := CASE WHEN p_exclusive THEN 'full' ELSE 'near' END;
                        RETURN NEXT;
                        RETURN;
                    END IF;
                END IF;
                INSERT INTO jobs (id, tenant, spec_json, model, priority_rank, phase, steps_completed, attempts,
                                  created_at, updated_at, idempotency_key)
                    VALUES (p_id, p_tenant, p_spec_json, p_model, p_priority_rank, p_phase, p_steps_completed, p_attempts,
                            p_at, p_at, p_idempotency_key)
                    RETURNING * INTO row_found;
                INSERT INTO job_events (job_id, at, from_state, to_state) VALUES (p_id, p_at, p_event_from, p_event_to);
                IF p_channel IS NOT NULL THEN
                    PERFORM pg_notify(p_channel, p_payload);
                END IF;
                outcome := 'created';
                stored := row_found;
                RETURN NEXT;
            END
            $$
            """,
        ]),
        // The claim reads each tenant's queue through `jobs_claim_tenant` (`ClaimOrder`); the class-then-age index of
        // the first claim serves no query any more and cost every create an index insert.
        Migration(name: "2026-12-03-drop-claim-index", statements: [
            "DROP INDEX IF EXISTS jobs_claim",
        ]),
        // Creates as sets: a group commit's jobs are judged in one pass (the bounds' locks taken and the counters read
        // once, this batch's earlier jobs added as they are accepted) and inserted by one INSERT with one job_events
        // INSERT, instead of a function call, two counter upserts and an event insert per job. New rows update the
        // queue counters once per statement (a statement trigger over the inserted rows, grouped by tenant); updates
        // and deletes keep the row trigger. `create_job` stays for processes of the previous release during a rolling
        // upgrade: its single-row inserts are counted by the same statement trigger.
        Migration(name: "2026-12-03-create-jobs", statements: [
            """
            CREATE FUNCTION count_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                my_stripe integer := pg_backend_pid() % 64;
            BEGIN
                INSERT INTO queued_per_tenant AS c (tenant, stripe, queued)
                    SELECT i.tenant, my_stripe, count(*) FROM inserted i WHERE i.phase = 'queued' GROUP BY i.tenant
                    ON CONFLICT (tenant, stripe) DO UPDATE SET queued = c.queued + excluded.queued;
                INSERT INTO queued_total AS c (stripe, queued)
                    SELECT my_stripe, count(*) FROM inserted i WHERE i.phase = 'queued' HAVING count(*) > 0
                    ON CONFLICT (stripe) DO UPDATE SET queued = c.queued + excluded.queued;
                RETURN NULL;
            END
            $$
            """,
            "DROP TRIGGER jobs_count_queued ON jobs",
            "CREATE TRIGGER jobs_count_queued AFTER UPDATE OF phase OR DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION count_queued_jobs()",
            "CREATE TRIGGER jobs_count_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_jobs()",
            // One row per job, by its 1-based position: `existing` (the stored job of the same tenant and key), `full`
            // (the exact counts that refused it) or `created` (its sequence and time; the row is what was sent). Arrays travel without NULLs: '' is no
            // key, -1 no bound. A statement the unique indexes refuse (a reused id, a key repeated in the batch or
            // committed meanwhile by another process) rolls back whole; the caller then creates its jobs one by one.
            """
            CREATE FUNCTION create_jobs(
                p_ids text[], p_tenants text[], p_specs text[], p_models text[], p_ranks integer[], p_phases text[],
                p_steps integer[], p_attempts integer[], p_keys text[], p_at timestamptz, p_event_from text, p_event_to text,
                p_max_queued bigint[], p_max_queued_per_tenant bigint[], p_queue_lock text, p_tenant_locks text[])
            RETURNS TABLE (job_position integer, outcome text, queued_count bigint, tenant_queued_count bigint, created_seq bigint,
                           created_time timestamptz, stored jobs)
            LANGUAGE plpgsql AS $$
            DECLARE
                n integer := coalesce(array_length(p_ids, 1), 0);
                i integer;
                row_found jobs;
                total bigint;
                accepted integer[] := '{}';
                accepted_queued bigint := 0;
                bound bigint;
                tenant_bound bigint;
            BEGIN
                IF EXISTS (SELECT 1 FROM unnest(p_max_queued, p_max_queued_per_tenant) b(m, t) WHERE m >= 0 OR t >= 0) THEN
                    PERFORM pg_advisory_xact_lock(hashtext(p_queue_lock));
                    PERFORM pg_advisory_xact_lock(hashtext(l.name)) FROM (SELECT DISTINCT u.name FROM unnest(p_tenant_locks) u(name) ORDER BY 1) l;
                END IF;
                FOR i IN 1..n LOOP
                    IF p_keys[i] <> '' THEN
                        SELECT * INTO row_found FROM jobs j WHERE j.tenant = p_tenants[i] AND j.idempotency_key = p_keys[i];
                        IF FOUND THEN
                            job_position := i; outcome := 'existing'; queued_count := 0; tenant_queued_count := 0; created_seq := NULL; created_time := NULL;
                            stored := row_found;
                            RETURN NEXT;
                            CONTINUE;
                        END IF;
                    END IF;
                    bound := NULLIF(p_max_queued[i], -1);
                    tenant_bound := NULLIF(p_max_queued_per_tenant[i], -1);
                    queued_count := 0;
                    tenant_queued_count := 0;
                    IF bound IS NOT NULL THEN
                        IF total IS NULL THEN
                            SELECT COALESCE(sum(t.queued), 0) INTO total FROM queued_total t;
                        END IF;
                        queued_count := total + accepted_queued;
                    END IF;
                    IF tenant_bound IS NOT NULL THEN
                        SELECT COALESCE(sum(t.queued), 0) INTO tenant_queued_count FROM queued_per_tenant t WHERE t.tenant = p_tenants[i];
                        tenant_queued_count := tenant_queued_count
                            + (SELECT count(*) FROM unnest(accepted) a(k) WHERE p_tenants[a.k] = p_tenants[i] AND p_phases[a.k] = 'queued');
                    END IF;
                    IF queued_count >= bound OR tenant_queued_count >= tenant_bound THEN
                        job_position := i; outcome := 'full'; created_seq := NULL; created_time := NULL; stored := NULL;
                        RETURN NEXT;
                        CONTINUE;
                    END IF;
                    accepted := accepted || i;
                    IF p_phases[i] = 'queued' THEN accepted_queued := accepted_queued + 1; END IF;
                END LOOP;
                IF cardinality(accepted) > 0 THEN
                    -- The columns are unnested side by side: subscripting a large array in a loop copies it each time.
                    RETURN QUERY
                        WITH inserted_rows AS (
                            INSERT INTO jobs (id, tenant, spec_json, model, priority_rank, phase, steps_completed, attempts,
                                              created_at, updated_at, idempotency_key)
                            SELECT u.id, u.tenant, u.spec, u.model, u.priority_rank, u.phase, u.steps_completed, u.attempts,
                                   p_at, p_at, NULLIF(u.idempotency_key, '')
                            FROM unnest(p_ids, p_tenants, p_specs, p_models, p_ranks, p_phases, p_steps, p_attempts, p_keys)
                                WITH ORDINALITY u(id, tenant, spec, model, priority_rank, phase, steps_completed, attempts, idempotency_key, k)
                            WHERE u.k = ANY(accepted) ORDER BY u.k
                            RETURNING jobs.id, jobs.seq, jobs.created_at)
                        SELECT u.k::integer, 'created'::text, 0::bigint, 0::bigint, r.seq, r.created_at, NULL::jobs
                        FROM inserted_rows r JOIN unnest(p_ids) WITH ORDINALITY u(id, k) ON u.id = r.id;
                    -- After the rows they reference (RETURN QUERY only appends to the answer; the function goes on).
                    INSERT INTO job_events (job_id, at, from_state, to_state)
                        SELECT u.id, p_at, p_event_from, p_event_to FROM unnest(p_ids) WITH ORDINALITY u(id, k)
                        WHERE u.k = ANY(accepted) ORDER BY u.k;
                END IF;
            END
            $$
            """,
        ]),
    ]

    /// Applies every pending migration of `migrations`, each statement waiting at most `lockTimeout` for a table's
    /// lock; returns the names applied (empty when the schema was current).
    static func apply(_ migrations: [Migration], on connection: PostgresConnection, schema: String, lockTimeout: Duration,
                      logger: Logger) async throws -> [String] {
        try await connection.queryIfOpen("BEGIN", logger: logger)
        do {
            // The lock comes first: even CREATE ... IF NOT EXISTS races with a concurrent creator.
            try await connection.queryIfOpen("SELECT pg_advisory_xact_lock(hashtext(\("turboserve.migrate:" + schema)))", logger: logger)
            try await connection.queryIfOpen(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            try await connection.queryIfOpen(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema)"), logger: logger)
            try await connection.queryIfOpen(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(PostgresStoreConfiguration.milliseconds(lockTimeout))"), logger: logger)
            try await connection.queryIfOpen(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.queryIfOpen("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            var done: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.queryIfOpen(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.queryIfOpen("INSERT INTO schema_migrations (name) VALUES (\(migration.name))", logger: logger)
                done.append(migration.name)
            }
            try await connection.queryIfOpen("COMMIT", logger: logger)
            return done
        } catch {
            _ = try? await connection.queryIfOpen("ROLLBACK", logger: logger)
            throw error
        }
    }
}
