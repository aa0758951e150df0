import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The bounded queue: a full queue refuses new jobs atomically and stores nothing.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func aFullQueueRefusesNewJobsButReplaysExistingOnes(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "a", spec: Fixtures.spec(), idempotencyKey: "ka", maxQueued: 2))
        _ = try await store.create(NewJob(id: "b", spec: Fixtures.spec(), maxQueued: 2))
        do {
            _ = try await store.create(NewJob(id: "c", spec: Fixtures.spec(), maxQueued: 2))
            Issue.record("a third job must not fit a queue of 2")
        } catch let error as TurboServeError {
            #expect(error.code == .queueFull)
        }
        #expect(try await store.get("c") == nil)
        #expect(try await store.create(NewJob(id: "a2", spec: Fixtures.spec(), idempotencyKey: "ka", maxQueued: 2)).record.id == "a")
        // A started job leaves the queue and makes room.
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        _ = try await store.advance("a", worker: "w", to: .admitted, reason: nil)
        #expect(try await store.create(NewJob(id: "c", spec: Fixtures.spec(), maxQueued: 2)).created)
        // Released to the queue, it takes a place again; a cancelled queued job gives its place up.
        _ = try await store.release("a", worker: "w", reason: "worker stopping")
        #expect(await #expect(throws: TurboServeError.self) { try await store.create(NewJob(id: "d", spec: Fixtures.spec(), maxQueued: 3)) }?.code == .queueFull)
        _ = try await store.cancel("b")
        #expect(try await store.create(NewJob(id: "d", spec: Fixtures.spec(), maxQueued: 3)).created)
        #expect(try await store.countByPhase()[.queued] == 3)
    }

    @Test(arguments: StoreBackend.available)
    func concurrentCreatesNeverOvershootTheBound(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<12 {
                group.addTask {
                    do { return try await store.create(NewJob(id: JobID("j\(i)"), spec: Fixtures.spec(), maxQueued: 5)).created } catch let error as TurboServeError where error.code == .queueFull { return false }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 5)
        #expect(try await store.countByPhase() == [.queued: 5])
    }

    @Test(arguments: StoreBackend.available)
    func aTenantsQueueBoundRefusesOnlyThatTenant(backend: StoreBackend) async throws {
        func job(_ id: JobID, _ tenant: TenantID) -> NewJob {
            var job = NewJob(id: id, tenant: tenant, spec: Fixtures.spec(), maxQueued: 100)
            job.maxQueuedPerTenant = 2
            return job
        }
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(job("a1", "acme"))
        _ = try await store.create(job("a2", "acme"))
        do {
            _ = try await store.create(job("a3", "acme"))
            Issue.record("a third queued job of acme must not fit a per-tenant bound of 2")
        } catch let error as TurboServeError {
            #expect(error.code == .tenantQueueFull)
        }
        #expect(try await store.get("a3") == nil)
        #expect(try await store.create(job("g1", "globex")).created)
        // A started job leaves its tenant's queue and makes room for that tenant.
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        _ = try await store.advance("a1", worker: "w", to: .admitted, reason: nil)
        #expect(try await store.create(job("a3", "acme")).created)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    do { return try await store.create(job(JobID("g\(i + 2)"), "globex")).created } catch let error as TurboServeError where error.code == .tenantQueueFull { return false }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await store.list(tenant: "globex", after: nil, limit: 20, order: .newestFirst).jobs.count == 2)
    }
}

/// Concurrent creates (which a store may commit together): each is answered on its own.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func concurrentCreatesAreAnsweredEachOnItsOwn(backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(time: time, count: 2, in: scratch)
        _ = try await stores[0].create(NewJob(id: "taken", spec: Fixtures.spec()))
        let answers = try await withThrowingTaskGroup(of: (Int, Result<JobID, TurboServeError>).self) { group in
            for i in 0..<24 {
                group.addTask {
                    // Every 6th reuses a stored id; every 4th shares one idempotency key, from either instance.
                    let id: JobID = i % 6 == 5 ? "taken" : JobID("j\(i)")
                    let key: String? = i % 4 == 0 ? "shared-key" : nil
                    do {
                        return (i, .success(try await stores[i % 2].create(NewJob(id: id, spec: Fixtures.spec(), idempotencyKey: key)).record.id))
                    } catch let error as TurboServeError {
                        return (i, .failure(error))
                    }
                }
            }
            return try await group.reduce(into: [Int: Result<JobID, TurboServeError>]()) { $0[$1.0] = $1.1 }
        }
        let keyed = (0..<24).filter { $0 % 4 == 0 }.compactMap { try? answers[$0]?.get() }
        #expect(keyed.count == 6 && Set(keyed).count == 1, "one job for the shared key, replayed to all its creates: \(keyed)")
        for i in (0..<24).filter({ $0 % 6 == 5 }) {
            guard case .failure(let error) = answers[i] else { Issue.record("create \(i) reused a stored id and was not refused"); continue }
            #expect(error.code == .conflict)
        }
        for i in (0..<24).filter({ $0 % 4 != 0 && $0 % 6 != 5 }) {
            #expect((try? answers[i]?.get()) == JobID("j\(i)"), "create \(i) stands alone and must be created")
        }
        #expect(try await stores[1].countByPhase() == [.queued: 1 + 1 + 24 - 6 - 4])
    }
}
