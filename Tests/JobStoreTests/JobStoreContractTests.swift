import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// One contract, every backend: the rules in `JobStore`'s documentation, checked the same way for each.
@Suite struct JobStoreContractTests {
    let time = TestTime()
    /// The SQLite cases' database files.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-store") }

    @Test(arguments: StoreBackend.available)
    func createThenReadBack(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        let (record, created) = try await store.create(NewJob(id: "v1", tenant: "acme", spec: Fixtures.spec()))
        #expect(created && record.phase == .queued && record.attempts == 0)
        let read = try #require(try await store.get("v1"))
        #expect(read == record)
        #expect(try await store.get("missing") == nil)
        #expect(await #expect(throws: TurboServeError.self) { try await store.create(NewJob(id: "v1", spec: Fixtures.spec())) }?.code == .conflict)
    }

    @Test(arguments: StoreBackend.available)
    func idempotencyKeyReplaysOrConflicts(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        let first = try await store.create(NewJob(id: "a", spec: Fixtures.spec(), idempotencyKey: "k1"))
        let replay = try await store.create(NewJob(id: "b", spec: Fixtures.spec(), idempotencyKey: "k1"))
        #expect(!replay.created && replay.record.id == first.record.id)
        let otherTenant = try await store.create(NewJob(id: "c", tenant: "other", spec: Fixtures.spec(), idempotencyKey: "k1"))
        #expect(otherTenant.created)
        do {
            _ = try await store.create(NewJob(id: "d", spec: Fixtures.spec("a different prompt"), idempotencyKey: "k1"))
            Issue.record("a different request under the same key must conflict")
        } catch let error as TurboServeError {
            #expect(error.code == .conflict && error.field == "Idempotency-Key")
        }
        #expect(try await store.get("b") == nil)
        #expect(try await store.get("d") == nil)
    }

    @Test(arguments: StoreBackend.available)
    func listPagesNewestFirstWithTenantIsolation(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        for i in 0..<7 {
            _ = try await store.create(NewJob(id: JobID("j\(i)"), tenant: i % 2 == 0 ? "even" : "odd", spec: Fixtures.spec()))
        }
        let page1 = try await store.list(tenant: "even", after: nil, limit: 3, order: .newestFirst)
        #expect(page1.jobs.map(\.id) == ["j6", "j4", "j2"] && page1.hasMore)
        let page2 = try await store.list(tenant: "even", after: page1.nextCursor, limit: 3, order: .newestFirst)
        #expect(page2.jobs.map(\.id) == ["j0"] && !page2.hasMore && page2.nextCursor == nil)
        let oldest = try await store.list(tenant: nil, after: "j1", limit: 2, order: .oldestFirst)
        #expect(oldest.jobs.map(\.id) == ["j2", "j3"])
    }

    @Test(arguments: StoreBackend.available)
    func claimsAreExclusiveAndPriorityOrdered(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "batch", spec: Fixtures.spec(priority: "batch")))
        _ = try await store.create(NewJob(id: "std", spec: Fixtures.spec()))
        _ = try await store.create(NewJob(id: "urgent", spec: Fixtures.spec(priority: "interactive")))
        let lease: Duration = .seconds(30)
        async let a = store.claim(worker: "w1", limit: 2, lease: lease)
        async let b = store.claim(worker: "w2", limit: 2, lease: lease)
        let (claimedA, claimedB) = try await (a, b)
        let all = (claimedA + claimedB).map(\.id)
        #expect(Set(all).count == all.count && all.count == 3)
        let firstBatch = claimedA.count == 2 ? claimedA : claimedB
        #expect(firstBatch.map(\.id) == ["urgent", "std"])
        #expect(try await store.claim(worker: "w3", limit: 5, lease: lease).isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func wholeLifeIsRecordedAsEvents(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec(steps: 2)))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        for state: JobState in [.admitted, .denoising(completed: 1, total: 2), .denoising(completed: 2, total: 2), .decoding, .muxing] {
            time.advance(1)
            let record = try await store.advance("v", worker: "w", to: state, reason: nil)
            #expect(record.state == state)
        }
        let done = try await store.complete("v", worker: "w", videoPath: "/out/v.mp4", thumbnailPath: "/out/v.jpg")
        #expect(done.phase == .succeeded && done.videoPath == "/out/v.mp4" && done.workerID == nil)
        #expect(done.completedAt == time.now && done.startedAt != nil)
        let events = try await store.events(of: "v").map(\.to)
        #expect(events == ["queued", "admitted", "denoising(1/2)", "denoising(2/2)", "decoding", "muxing", "succeeded"])
        #expect(try await store.countByPhase() == [.succeeded: 1])
    }

    @Test(arguments: StoreBackend.available)
    func illegalTransitionsChangeNothing(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec(steps: 2)))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        #expect(await #expect(throws: TurboServeError.self) { try await store.advance("v", worker: "w", to: .decoding, reason: nil) }?.code == .conflict)
        #expect(await #expect(throws: TurboServeError.self) { try await store.advance("v", worker: "intruder", to: .admitted, reason: nil) }?.code == .jobNotHeld)
        #expect(try await store.get("v")?.phase == .queued)
        #expect(try await store.events(of: "v").count == 1)
    }

    @Test(arguments: StoreBackend.available)
    func aRequeuedJobCannotBeDeliveredByItsFormerWorker(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec(steps: 1)))
        _ = try await store.claim(worker: "old", limit: 1, lease: .seconds(10))
        _ = try await store.advance("v", worker: "old", to: .admitted, reason: nil)
        time.advance(11)
        #expect(try await store.rescueExpired(maxAttempts: 3) == ["v"])
        let requeued = try #require(try await store.get("v"))
        #expect(requeued.phase == .queued && requeued.attempts == 1 && requeued.workerID == nil)
        #expect(await #expect(throws: TurboServeError.self) { try await store.complete("v", worker: "old", videoPath: "x", thumbnailPath: nil) }?.code == .jobNotHeld)
        #expect(try await store.claim(worker: "new", limit: 1, lease: .seconds(10)).map(\.id) == ["v"])
    }

    @Test(arguments: StoreBackend.available)
    func restartRecoveryIsBoundedByAttempts(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        for attempt in 1...2 {
            _ = try await store.claim(worker: "node", limit: 1, lease: .seconds(60))
            _ = try await store.advance("v", worker: "node", to: .admitted, reason: nil)
            #expect(try await store.releaseHeld(by: "node", maxAttempts: 2) == ["v"])
            let record = try #require(try await store.get("v"))
            #expect(record.attempts == attempt)
            #expect(record.phase == (attempt < 2 ? .queued : .failed))
        }
        #expect(try await store.get("v")?.errorCode == TurboServeError.Code.leaseExpired.rawValue)
    }

    @Test(arguments: StoreBackend.available)
    func cancelStopsUnfinishedJobsOnly(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        #expect(try await store.cancel("v")?.phase == .cancelled)
        #expect(try await store.cancel("v")?.phase == .cancelled)
        #expect(try await store.events(of: "v").map(\.to) == ["queued", "cancelled"])
        #expect(try await store.cancel("nope") == nil)
        #expect(try await store.claim(worker: "w", limit: 5, lease: .zero).isEmpty)
    }
}

/// What only a durable backend promises: the data outlives the process.
@Suite struct SQLiteDurabilityTests {
    @Test func reopeningTheFileKeepsJobsAndEvents() async throws {
        let time = TestTime()
        let folder = try ScratchFolder("turboserve-durable")
        defer { folder.remove() }
        do {
            let store = try await StoreBackend.sqlite.make(time: time, in: folder, file: "jobs.sqlite")
            _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec(), idempotencyKey: "k"))
            _ = try await store.claim(worker: "w", limit: 1, lease: .zero)
            _ = try await store.advance("v", worker: "w", to: .admitted, reason: nil)
        }
        let reopened = try await StoreBackend.sqlite.make(time: time, in: folder, file: "jobs.sqlite")
        #expect(try await reopened.get("v")?.phase == .admitted)
        #expect(try await reopened.events(of: "v").count == 2)
        #expect(try await reopened.create(NewJob(id: "v2", spec: Fixtures.spec(), idempotencyKey: "k")).record.id == "v")
    }
}

