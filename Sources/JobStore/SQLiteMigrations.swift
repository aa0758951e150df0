import GRDB

/// The SQLite schema, as named migrations. A migration is never edited once shipped: change the schema by adding
/// a new one at the end.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-24-jobs") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL UNIQUE,
                    tenant TEXT NOT NULL,
                    spec_json TEXT NOT NULL,
                    model TEXT NOT NULL,
                    priority_rank INTEGER NOT NULL,
                    phase TEXT NOT NULL,
                    steps_completed INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    worker_id TEXT,
                    lease_expires_at REAL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    started_at REAL,
                    completed_at REAL,
                    error_code TEXT,
                    error_message TEXT,
                    video_path TEXT,
                    thumbnail_path TEXT,
                    idempotency_key TEXT
                );
                CREATE UNIQUE INDEX jobs_idempotency ON jobs(tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
                CREATE INDEX jobs_claim ON jobs(phase, priority_rank, seq) WHERE worker_id IS NULL;
                CREATE INDEX jobs_worker ON jobs(worker_id) WHERE worker_id IS NOT NULL;
                CREATE INDEX jobs_tenant_seq ON jobs(tenant, seq);
                CREATE TABLE job_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES jobs(id),
                    at REAL NOT NULL,
                    from_state TEXT NOT NULL,
                    to_state TEXT NOT NULL,
                    reason_code TEXT,
                    message TEXT
                );
                CREATE INDEX job_events_job ON job_events(job_id, id);
                """)
        }
        migrator.registerMigration("2026-12-01-retention") { db in
            // When retention deleted a finished job's files; the sweep looks for finished, unexpired jobs by age.
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN expired_at REAL;
                CREATE INDEX jobs_retention ON jobs(completed_at) WHERE expired_at IS NULL AND completed_at IS NOT NULL;
                """)
        }
        migrator.registerMigration("2026-12-01-queued-count") { db in
            // The bounded queue counts queued jobs on every create.
            try db.execute(sql: "CREATE INDEX jobs_phase ON jobs(phase)")
        }
        migrator.registerMigration("2026-12-01-queued-counter") { db in
            // The bounded queue reads one row instead of counting queued jobs on every create; triggers keep it
            // equal to COUNT(*) WHERE phase = 'queued' in the same transaction as every change.
            try db.execute(sql: """
                CREATE TABLE queue_counter (id INTEGER PRIMARY KEY CHECK (id = 0), queued INTEGER NOT NULL);
                INSERT INTO queue_counter (id, queued) SELECT 0, COUNT(*) FROM jobs WHERE phase = 'queued';
                CREATE TRIGGER jobs_queued_insert AFTER INSERT ON jobs WHEN NEW.phase = 'queued'
                    BEGIN UPDATE queue_counter SET queued = queued + 1 WHERE id = 0; END;
                CREATE TRIGGER jobs_queued_delete AFTER DELETE ON jobs WHEN OLD.phase = 'queued'
                    BEGIN UPDATE queue_counter SET queued = queued - 1 WHERE id = 0; END;
                CREATE TRIGGER jobs_queued_update AFTER UPDATE OF phase ON jobs WHEN (OLD.phase = 'queued') != (NEW.phase = 'queued')
                    BEGIN UPDATE queue_counter SET queued = queued + (CASE WHEN NEW.phase = 'queued' THEN 1 ELSE -1 END) WHERE id = 0; END;
                """)
        }
        migrator.registerMigration("2026-12-02-workers") { db in
            // Each worker's last heartbeat (store clock) and what it reported: the fleet's operations view.
            try db.execute(sql: """
                CREATE TABLE workers (id TEXT PRIMARY KEY, heartbeat_at REAL NOT NULL, activity_json TEXT);
                CREATE INDEX jobs_holder ON jobs(worker_id) WHERE worker_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("2026-12-02-tenant-queued") { db in
            // The per-tenant queue bound counts one tenant's queued jobs on every create.
            try db.execute(sql: "CREATE INDEX jobs_tenant_phase ON jobs(tenant, phase)")
        }
        migrator.registerMigration("2026-12-02-deleted") { db in
            // A client's DELETE of a finished job: files removed, the record kept but hidden from list and retention.
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN deleted_at REAL")
        }
        migrator.registerMigration("2026-12-03-claim-order") { db in
            // The claim reads each tenant's queued, unheld jobs in priority then age order (`ClaimOrder`).
            try db.execute(sql: "CREATE INDEX jobs_claim_tenant ON jobs(tenant, priority_rank, seq) WHERE phase = 'queued' AND worker_id IS NULL")
        }
        return migrator
    }
}
