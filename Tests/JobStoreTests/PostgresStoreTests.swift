import Foundation
@testable import JobStorePostgres
import JobStore
import PostgresNIO
import Synchronization
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// What only the PostgreSQL store promises beyond the contract: migrations that several processes may run at
/// once, typed outages, and surviving a database restart by itself.
@Suite(.enabled(if: StoreBackend.available.contains(.postgres)))
struct PostgresStoreTests {
    @Test func concurrentMigrationsApplyEachMigrationOnce() async throws {
        let configuration = try PostgresTestDatabase.unmigratedSchema()
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresJobStore.migrate(configuration: configuration, logger: PostgresTestDatabase.logger) } }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        let everything = PostgresMigrations.all.map(\.name)
        #expect(applied.filter { !$0.isEmpty } == [everything])
        #expect(try await PostgresJobStore.migrate(configuration: configuration, logger: PostgresTestDatabase.logger).isEmpty)
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        #expect(try await store.get("v")?.phase == .queued)
    }

    @Test func anUnreachableDatabaseIsATypedOutageNotACrash() async throws {
        var configuration = PostgresStoreConfiguration(host: "127.0.0.1", port: 1)
        configuration.callTimeout = .seconds(1)
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        let refused = await #expect(throws: JobStoreUnavailable.self) { try await store.create(NewJob(id: "v", spec: Fixtures.spec())) }
        #expect(refused?.mayHaveApplied == false, "a create that never had a connection was not sent")
        await #expect(throws: JobStoreUnavailable.self) { try await store.claim(worker: "w", limit: 1, lease: .seconds(10)) }
        guard case .unhealthy(let problem) = await store.health() else { Issue.record("a closed port is healthy"); return }
        #expect(problem.hasPrefix("cannot be reached at 127.0.0.1:1: "), "\(problem)")
    }

    /// `/readyz` says why the database does not answer, as one fresh session finds it, so an operator knows whether
    /// to raise `max_connections`, fix a login, look at the server or look at this process: the server's refusal in
    /// its own words and SQLSTATE (a role allowed no session answers what a full `max_connections` answers: 53300),
    /// or, when a fresh session opens fine, this process's own connections (here its only one, busy).
    @Test(.timeLimit(.minutes(1)))
    func theHealthCheckNamesWhyTheDatabaseDoesNotAnswer() async throws {
        let configuration = try await PostgresTestDatabase.freshSchema()
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        #expect(await eventually { await store.health() == .healthy })  // a loaded test run may take over 1 s to connect

        let role = "turboserve_full_\(UInt32.random(in: 0...UInt32.max))"
        try await store.client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN CONNECTION LIMIT 0"), logger: PostgresTestDatabase.logger)
        var full = configuration
        full.username = role
        let refused = PostgresJobStore(configuration: full, logger: PostgresTestDatabase.logger)
        #expect(await refused.health() == .unhealthy("refused the session: too many connections for role \"\(role)\" (SQLSTATE 53300)"))
        refused.shutdown()
        try await store.client.query(PostgresQuery(unsafeSQL: "DROP ROLE \(role)"), logger: PostgresTestDatabase.logger)

        var single = configuration
        single.maxConnections = 1
        let busy = PostgresJobStore(configuration: single, logger: PostgresTestDatabase.logger)
        defer { busy.shutdown() }
        #expect(await eventually { await busy.health() == .healthy })
        let holding = Task { try await busy.client.query("SELECT pg_sleep(3)", logger: PostgresTestDatabase.logger).decode(String.self).reduce(0) { n, _ in n + 1 } }
        #expect(await eventually { (try? await self.answer("SELECT count(*) > 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)'", on: store)) == true })
        guard case .unhealthy(let problem) = await busy.health() else { Issue.record("a pool with its only connection busy is healthy"); return }
        #expect(problem.contains("though it opens new sessions") && problem.contains("storage.max_connections is 1"), "\(problem)")
        _ = try await holding.value
    }

    /// A hung database (SIGSTOP) accepts the probe's connection and never answers the login: said as such.
    @Test(.timeLimit(.minutes(1)))
    func theHealthCheckSaysAHungDatabaseDoesNotAnswer() async throws {
        let server = try await PrivatePostgres.start()
        defer { server.stop() }
        let configuration = try await server.migratedConfiguration(callTimeout: .seconds(2))
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        #expect(await eventually { await store.health() == .healthy })
        let paused = try await server.pause()
        let health = await store.health()
        try await server.resume(paused)
        #expect(health == .unhealthy("did not answer within 1.0 seconds at \(configuration.host):\(configuration.port) (a hung server, or a network that drops packets)"))
    }

    /// Two processes asking for one duty on one schema: exactly one holds it; when the holder's session ends the
    /// other takes it on its next ask; a different schema's duty is independent.
    @Test func aDutyHasOneHolderAndPassesOnWhenTheHolderGoes() async throws {
        let configuration = try await PostgresTestDatabase.freshSchema()
        let first = PostgresDutyLock(duty: "store-gauges", configuration: configuration, logger: PostgresTestDatabase.logger)
        let second = PostgresDutyLock(duty: "store-gauges", configuration: configuration, logger: PostgresTestDatabase.logger)
        #expect(await first.holds())
        #expect(await second.holds() == false)
        #expect(await first.holds(), "the holder keeps it across asks")
        #expect(await second.holds() == false)

        let elsewhere = PostgresDutyLock(duty: "store-gauges", configuration: try await PostgresTestDatabase.freshSchema(), logger: PostgresTestDatabase.logger)
        #expect(await elsewhere.holds(), "another store's duty is a different lock")

        await first.shutdown()
        #expect(await second.holds())
        #expect(await first.holds() == false)
        await second.shutdown()
        await elsewhere.shutdown()
    }

    /// A holder stopped without its session ending (SIGSTOP, a frozen VM) kept the duty for ever, so no replica
    /// exported the queue gauges the autoscaler reads. A running holder pings its session and keeps the duty past
    /// the session's idle limit; once it stops pinging, the server ends the session and the other process takes it.
    @Test(.timeLimit(.minutes(1)))
    func aStoppedDutyHolderLosesTheDuty() async throws {
        let configuration = try await PostgresTestDatabase.freshSchema()
        let stopped = PostgresDutyLock(duty: "store-gauges", configuration: configuration, keepAlive: .milliseconds(300), logger: PostgresTestDatabase.logger)
        let other = PostgresDutyLock(duty: "store-gauges", configuration: configuration, keepAlive: .milliseconds(300), logger: PostgresTestDatabase.logger)
        #expect(await stopped.holds())
        try await Task.sleep(for: stopped.keepAlive * 6)  // twice the session's idle limit, with no holds() call
        #expect(await other.holds() == false, "a running holder keeps the duty")

        await stopped.stopPinging()
        #expect(await eventually(within: .seconds(20)) { await other.holds() }, "the stopped holder's session never ended")
        #expect(await stopped.holds() == false)
        await other.shutdown()
        await stopped.shutdown()
    }

    @Test func theDatabaseClockSetsLeases() async throws {
        var configuration = try await PostgresTestDatabase.freshSchema()
        configuration.maxConnections = 2
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        let claimed = try #require(try await store.claim(worker: "w", limit: 1, lease: .seconds(30)).first)
        let lease = try #require(claimed.leaseExpiresAt)
        #expect(abs(lease.timeIntervalSince(claimed.updatedAt) - 30) < 0.001)
        #expect(abs(claimed.updatedAt.timeIntervalSinceNow) < 60, "the lease starts at the database's now, not a test clock")
    }

    /// The queue bounds read counters that triggers keep (one run per INSERT statement, over all its rows; one per
    /// updated or deleted row). After group-committed creates of two tenants, a started job and a cancelled one, the
    /// counters equal the queued rows, in total and per tenant.
    @Test func theQueueCountersEqualTheQueuedRows() async throws {
        let configuration = try await PostgresTestDatabase.freshSchema()
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        let created = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<24 {
                group.addTask {
                    var job = NewJob(id: JobID("c\(i)"), tenant: i % 3 == 0 ? "acme" : "globex", spec: Fixtures.spec(), maxQueued: 100)
                    job.maxQueuedPerTenant = 100
                    return try await store.create(job).created
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(created == 24)
        let claimed = try #require(try await store.claim(worker: "w", limit: 1, lease: .seconds(30)).first)
        _ = try await store.advance(claimed.id, worker: "w", to: .admitted, reason: nil)
        _ = try await store.cancel(claimed.id == "c1" ? "c2" : "c1")

        let connection = try await PostgresConnection.connect(configuration: try configuration.connection(), id: 1, logger: PostgresTestDatabase.logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query("""
            SELECT q.tenant, q.rows, COALESCE((SELECT sum(c.queued) FROM queued_per_tenant c WHERE c.tenant = q.tenant), 0)::bigint
            FROM (SELECT tenant, count(*) AS rows FROM jobs WHERE phase = 'queued' GROUP BY tenant) q
            UNION ALL
            SELECT '*', (SELECT count(*) FROM jobs WHERE phase = 'queued'), (SELECT COALESCE(sum(queued), 0) FROM queued_total)::bigint
            """, logger: PostgresTestDatabase.logger)
        var counted: [String: (rows: Int64, counter: Int64)] = [:]
        for try await (tenant, queuedRows, counter) in rows.decode((String, Int64, Int64).self) { counted[tenant] = (queuedRows, counter) }
        #expect(counted["*"]?.rows == 22)
        for (tenant, count) in counted { #expect(count.rows == count.counter, "tenant \(tenant): \(count.rows) queued rows, counter \(count.counter)") }
        #expect(counted.keys.sorted() == ["*", "acme", "globex"])
    }

    /// `pg_ctl restart -m immediate` (a crash) on a private server while creates run: calls fail with
    /// `JobStoreUnavailable` meanwhile, the store and the listener reconnect by themselves, and every create that
    /// was acknowledged is there afterwards.
    @Test(.timeLimit(.minutes(2)))
    func aRestartedDatabaseIsSurvivedAndNothingAcknowledgedIsLost() async throws {
        let server = try await PrivatePostgres.start()
        defer { server.stop() }
        let configuration = try await server.migratedConfiguration(callTimeout: .seconds(2))
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        let signals = PostgresJobSignals(configuration: configuration, logger: PostgresTestDatabase.logger)
        #expect(await eventually { signals.isListening })

        let log = CreateLog()
        let writer = Task {
            var next = 0
            while !Task.isCancelled {
                let id = JobID("j\(next)")
                do {
                    _ = try await store.create(NewJob(id: id, spec: Fixtures.spec(), idempotencyKey: id.rawValue))
                    log.acknowledged(id)
                    next += 1
                } catch is JobStoreUnavailable {
                    log.refused()
                    try? await Task.sleep(for: .milliseconds(20))
                } catch {
                    log.failed("\(error)")
                    return
                }
            }
        }
        #expect(await eventually { log.count >= 20 })
        try await server.restart()
        let before = log.count
        #expect(await eventually(within: .seconds(60)) { log.count >= before + 20 }, "creates never succeeded again after the restart")
        writer.cancel()
        _ = await writer.value
        #expect(log.failures.isEmpty, "a create failed with something else than an outage: \(log.failures)")
        var patient = configuration
        patient.callTimeout = .seconds(60)
        let verifier = PostgresJobStore(configuration: patient, logger: PostgresTestDatabase.logger)
        for id in log.ids { #expect(try await verifier.get(id) != nil, "acknowledged job \(id) was lost") }
        #expect(await eventually { await store.health() == .healthy })
        #expect(await eventually(within: .seconds(30)) { signals.isListening && signals.connections >= 2 }, "the listener never reconnected")
        let heard = SignalRecorder(signals)
        _ = try await verifier.create(NewJob(id: "after", spec: Fixtures.spec()))
        #expect(await heard.reaches([.queued("after")]))
        verifier.shutdown()
        store.shutdown()
        signals.shutdown()
    }

    /// A hung database (every process SIGSTOPped: a frozen VM, a partition that drops packets) takes a create it
    /// cannot answer; the call fails within its deadline saying the write may have been applied (its connection is
    /// closed then, so the database usually drops it when it wakes, but it may have committed it first). A read on
    /// the hung database says nothing was written. What a client does with "may have": it sends the create again
    /// with the same idempotency key once the database answers, and ends up with exactly one job either way.
    @Test(.timeLimit(.minutes(2)))
    func aCreateSentToAHungDatabaseMayHaveBeenApplied() async throws {
        let server = try await PrivatePostgres.start()
        defer { server.stop() }
        let configuration = try await server.migratedConfiguration(callTimeout: .seconds(2))
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        // A read leaves one idle connection in the pool for the create to take (a create would also leave its
        // post-commit NOTIFY in flight, which may hold that connection when the database stops).
        #expect(try await store.get("during") == nil)

        let paused = try await server.pause()
        let sent = await #expect(throws: JobStoreUnavailable.self) {
            try await store.create(NewJob(id: "during", spec: Fixtures.spec(), idempotencyKey: "retried"))
        }
        #expect(sent?.mayHaveApplied == true, "\(String(describing: sent))")
        let read = await #expect(throws: JobStoreUnavailable.self) { try await store.get("during") }
        #expect(read?.mayHaveApplied == false)
        try await server.resume(paused)

        #expect(await eventually(within: .seconds(30)) {
            (try? await store.create(NewJob(id: "retry", spec: Fixtures.spec(), idempotencyKey: "retried"))) != nil
        }, "the retried create never answered")
        let jobs = try await store.list(tenant: nil, after: nil, limit: 10, order: .oldestFirst).jobs
        #expect(jobs.count == 1 && jobs.allSatisfy { $0.idempotencyKey == "retried" }, "\(jobs.map(\.id))")
    }

    /// A claim sent to a hung database commits when it wakes, though the worker that sent it heard only a timeout:
    /// the job is held by a worker that does not know it. Its heartbeats do not name the job, so the lease runs
    /// out and the rescuer gives it back (before, every heartbeat renewed it and it stayed held by nobody working).
    @Test(.timeLimit(.minutes(2)))
    func aClaimLostToAHungDatabaseIsRescuedAfterItsLease() async throws {
        let server = try await PrivatePostgres.start()
        defer { server.stop() }
        let configuration = try await server.migratedConfiguration(callTimeout: .seconds(2))
        let seeder = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        _ = try await seeder.create(NewJob(id: "orphan", spec: Fixtures.spec()))
        seeder.shutdown()
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        #expect(try await store.get("orphan")?.phase == .queued)  // leaves one idle connection for the claim

        let paused = try await server.pause()
        let lost = await #expect(throws: JobStoreUnavailable.self) { try await store.claim(worker: "w", limit: 1, lease: .seconds(3)) }
        #expect(lost?.mayHaveApplied == true)
        try await server.resume(paused)
        #expect(await eventually(within: .seconds(30)) { (try? await store.get("orphan"))?.workerID == "w" }, "the claim never committed")

        let beat = try await store.heartbeat(worker: "w", holding: [], lease: .seconds(3), activity: nil)
        #expect(beat.renewed == 0)
        #expect(await eventually(within: .seconds(30)) { (try? await store.rescueExpired(maxAttempts: 3)) == ["orphan"] })
        #expect(try await store.claim(worker: "other", limit: 1, lease: .seconds(30)).map(\.id) == ["orphan"])
    }

    /// A release's migration must not stall the running fleet. `ALTER TABLE` needs the table to itself; waiting
    /// behind a long transaction (here a 15 s report, as a backup would be), it made every later query on `jobs`
    /// queue behind it, so the store answered nothing until the report ended. Now each attempt gives way after
    /// `migrationLockTimeout`: reads go on meanwhile, and the migration is applied once the report ends.
    @Test(.timeLimit(.minutes(2)))
    func aMigrationWaitingForALongTransactionHoldsNoQueryUp() async throws {
        var configuration = try await PostgresTestDatabase.freshSchema()
        configuration.callTimeout = .seconds(5)
        configuration.migrationLockTimeout = .milliseconds(300)
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        _ = try await store.create(NewJob(id: "running", spec: Fixtures.spec()))
        let release = PostgresMigrations.Migration(name: "test-next-release", statements: ["ALTER TABLE jobs ADD COLUMN next_release_note text"])

        // The report: another session, inside a transaction reading `jobs`.
        try await inTransaction(of: configuration, holding: "LOCK TABLE jobs IN ACCESS SHARE MODE") { (connection: PostgresConnection) async throws in
            let reading = Task { try await connection.query("SELECT pg_sleep(15)", logger: PostgresTestDatabase.logger) }
            let migrating = Task { try await store.migrate(PostgresMigrations.all + [release]) }

            let waitingForTheLock = "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE jobs%'"
            #expect(await eventually(within: .seconds(10)) { (try? await self.answer(waitingForTheLock, on: store)) == true }, "the migration never waited")
            for _ in 0..<3 {
                #expect(try await store.get("running")?.phase == .queued, "a read queued behind the waiting migration")
            }
            _ = try await reading.value
            try await connection.query("COMMIT", logger: PostgresTestDatabase.logger)
            #expect(try await migrating.value == ["test-next-release"])
        }
    }

    /// A call past its deadline gives its connection back. Its query, left running (here behind another session's
    /// row lock; on a hung server or across a partition it could be minutes), kept its pooled connection leased, so
    /// a pool of one answered nothing more until that query ended, however healthy the database. Now the deadline
    /// closes the connection: the next call runs on a fresh one at once, and the abandoned write, whose COMMIT was
    /// never sent, does not apply once the lock is gone.
    @Test(.timeLimit(.minutes(1)))
    func aCallPastItsDeadlineGivesItsConnectionBack() async throws {
        var patient = try await PostgresTestDatabase.freshSchema()  // set-up, checks and the lock holder: no deadline
        patient.callTimeout = .seconds(60)
        let seeder = PostgresJobStore(configuration: patient, logger: PostgresTestDatabase.logger)
        defer { seeder.shutdown() }
        for id: JobID in ["locked", "free"] { _ = try await seeder.create(NewJob(id: id, spec: Fixtures.spec())) }
        #expect(try await seeder.claim(worker: "w", limit: 2, lease: .seconds(60)).count == 2)
        var configuration = patient
        configuration.callTimeout = .seconds(2)
        configuration.maxConnections = 1
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }

        try await inTransaction(of: patient, holding: "SELECT id FROM jobs WHERE id = 'locked' FOR UPDATE") { (connection: PostgresConnection) async throws in
            let refused = await #expect(throws: JobStoreUnavailable.self, "a write behind a row lock answered") {
                try await store.advance("locked", worker: "w", to: .admitted, reason: nil)
            }
            #expect(refused?.mayHaveApplied == false, "the write's COMMIT was never sent")
            #expect(try await store.get("free")?.workerID == "w", "the pool's only connection is still leased by the abandoned call")
            try await connection.query("COMMIT", logger: PostgresTestDatabase.logger)
        }
        #expect(try await seeder.get("locked")?.phase == .queued, "the abandoned write applied")
    }

    /// Runs `body` on a session with the store's own settings (as another process of the fleet would have one),
    /// inside a transaction that `statement` has taken its locks in; the pool ends with the call.
    private func inTransaction(of configuration: PostgresStoreConfiguration, holding statement: PostgresQuery,
                               _ body: (PostgresConnection) async throws -> Void) async throws {
        let other = PostgresClient(configuration: configuration.client, backgroundLogger: PostgresTestDatabase.logger)
        let pool = Task { await other.run() }
        defer { pool.cancel() }
        try await other.withConnection { connection in
            try await connection.query("BEGIN", logger: PostgresTestDatabase.logger)
            try await connection.query(statement, logger: PostgresTestDatabase.logger)
            try await body(connection)
        }
    }

    /// One boolean from `sql` on a fresh connection of `store`'s database.
    private func answer(_ sql: String, on store: PostgresJobStore) async throws -> Bool {
        let connection = try await PostgresConnection.connect(configuration: try store.configuration.connection(), id: 99, logger: PostgresTestDatabase.logger)
        defer { Task { try? await connection.close() } }
        return try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresTestDatabase.logger).decode(Bool.self).reduce(false) { $0 || $1 }
    }

    /// A worker stopped (SIGSTOP) between locking its job's row and committing holds that lock while it sleeps.
    /// The rescue skips that one row and returns the others at once (before, it waited on the row, holding the
    /// rescue lock, so no process rescued anything until the stopped one woke). The stopped session ends once it
    /// has idled `callTimeout` in its transaction, and the next sweep returns its job too.
    @Test(.timeLimit(.minutes(1)))
    func aWorkerStoppedInsideATransactionStallsNoRescue() async throws {
        var configuration = try await PostgresTestDatabase.freshSchema()
        configuration.callTimeout = .seconds(2)
        let store = PostgresJobStore(configuration: configuration, logger: PostgresTestDatabase.logger)
        defer { store.shutdown() }
        for id: JobID in ["locked", "free"] { _ = try await store.create(NewJob(id: id, spec: Fixtures.spec())) }
        #expect(try await store.claim(worker: "stopped", limit: 2, lease: .milliseconds(1)).count == 2)

        // The stopped worker: another session, inside a transaction holding one job's row.
        try await inTransaction(of: configuration, holding: "SELECT id FROM jobs WHERE id = 'locked' FOR UPDATE") { (connection: PostgresConnection) async throws in

            #expect(try await store.rescueExpired(maxAttempts: 3) == ["free"], "the locked row is skipped, the rest rescued")
            #expect(await eventually(within: .seconds(20)) { (try? await store.rescueExpired(maxAttempts: 3)) == ["locked"] },
                    "the stopped session still holds the row")
            #expect(await eventually(within: .seconds(10)) { connection.isClosed }, "the server ended the idle transaction's session")
            await #expect(throws: JobStoreUnavailable.self, "a query on the closed connection is refused, not left waiting") {
                try await connection.queryIfOpen("SELECT 1", logger: PostgresTestDatabase.logger)
            }
        }
        #expect(try await store.get("locked")?.phase == .queued)
    }
}

/// What the restart test's writer saw.
final class CreateLog: Sendable {
    private let state = Mutex<(ids: [JobID], refused: Int, failures: [String])>(([], 0, []))
    func acknowledged(_ id: JobID) { state.withLock { $0.ids.append(id) } }
    func refused() { state.withLock { $0.refused += 1 } }
    func failed(_ message: String) { state.withLock { $0.failures.append(message) } }
    var count: Int { state.withLock { $0.ids.count } }
    var ids: [JobID] { state.withLock { $0.ids } }
    var failures: [String] { state.withLock { $0.failures } }
}

/// A PostgreSQL server of the test's own (`scripts/start-test-postgres`), so restarting it disturbs no other test.
struct PrivatePostgres {
    let dsn: String
    let dataDirectory: String
    let pgCtl: String

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/start-test-postgres")
    }

    static func start() async throws -> PrivatePostgres {
        let output = try await run(script.path)
        var exports: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            exports[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        guard let dsn = exports["TURBOSERVE_TEST_POSTGRES"], let data = exports["TURBOSERVE_TEST_POSTGRES_DATA"], let pgCtl = exports["TURBOSERVE_TEST_PG_CTL"] else {
            throw TurboServeError(.internalError, "scripts/start-test-postgres printed no DSN: \(output)")
        }
        return PrivatePostgres(dsn: dsn, dataDirectory: data, pgCtl: pgCtl)
    }

    /// The store configuration of this server, migrated, with `callTimeout` for the calls that follow.
    func migratedConfiguration(callTimeout: Duration) async throws -> PostgresStoreConfiguration {
        var configuration = try PostgresStoreConfiguration(url: dsn)
        configuration.callTimeout = .seconds(60)
        try await PostgresJobStore.migrate(configuration: configuration, logger: PostgresTestDatabase.logger)
        configuration.callTimeout = callTimeout
        return configuration
    }

    func restart() async throws { _ = try await Self.run("\(pgCtl) restart -m immediate") }

    /// SIGSTOPs the postmaster and every process it started; returns them for `resume`.
    func pause() async throws -> String {
        let processes = try await Self.run("pm=$(head -1 '\(dataDirectory)/pgdata/postmaster.pid'); echo $pm $(pgrep -P $pm)")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        _ = try await Self.run("kill -STOP \(processes)")
        return processes
    }

    func resume(_ processes: String) async throws { _ = try await Self.run("kill -CONT \(processes)") }

    func stop() { _ = try? Self.shell("\(Self.script.path) stop '\(dataDirectory)'") }

    /// `shell` on a thread of its own. A command may take seconds (initdb): run on a thread of the test runner's
    /// cooperative pool (two on a 2-core machine), it would starve every concurrent test's tasks, whose store calls
    /// would then time out with no query behind them.
    static func run(_ command: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try shell(command) }) }.start()
        }
    }

    /// Runs `command` and returns what it printed. Spawned and reaped directly (`posix_spawn`, `waitpid`):
    /// Foundation's `Process` did not notice this shell's exit inside the test runner. The output goes through a
    /// file, not a pipe: a server the command starts inherits its descriptors.
    @discardableResult
    static func shell(_ command: String) throws -> String {
        let folder = try ScratchFolder("turboserve-shell")
        defer { folder.remove() }
        let output = folder.file("output")
        let arguments = ["/bin/sh", "-c", "\(command) > '\(output.path)' 2>&1 </dev/null"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else {
            throw TurboServeError(.internalError, "cannot start /bin/sh for `\(command)`")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw TurboServeError(.internalError, "`\(command)` ended with status \(status): \(printed)")
        }
        return printed
    }
}
