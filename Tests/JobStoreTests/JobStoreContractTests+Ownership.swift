import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The ownership rules of `JobStore`: one holder, fenced writes (failures included), retry versus release,
/// attempts counted only by the store, heartbeats that renew leases and report what was lost.
extension JobStoreContractTests {
    /// The job `v`, claimed by `old`, started, then rescued after `old`'s lease ran out and claimed by `new`.
    func takenOver(_ store: any JobStore) async throws {
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec(steps: 2)))
        _ = try await store.claim(worker: "old", limit: 1, lease: .seconds(10))
        _ = try await store.advance("v", worker: "old", to: .admitted, reason: nil)
        time.advance(11)
        #expect(try await store.rescueExpired(maxAttempts: 3) == ["v"])
        #expect(try await store.claim(worker: "new", limit: 1, lease: .seconds(10)).map(\.id) == ["v"])
    }

    /// The job `v`, claimed by `w` and admitted.
    func admittedByW(_ store: any JobStore) async throws {
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        _ = try await store.advance("v", worker: "w", to: .admitted, reason: nil)
    }

    @Test(arguments: StoreBackend.available)
    func everyWriteByAFormerHolderIsRefusedFailuresIncluded(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await takenOver(store)
        let before = try #require(try await store.get("v"))
        let eventsBefore = try await store.events(of: "v").count
        let writes: [(String, @Sendable () async throws -> JobRecord)] = [
            ("advance", { try await store.advance("v", worker: "old", to: .denoising(completed: 1, total: 2), reason: nil) }),
            ("complete", { try await store.complete("v", worker: "old", videoPath: "/x.mp4", thumbnailPath: nil) }),
            ("fail", { try await store.fail("v", worker: "old", code: "engine_error", message: "late failure") }),
            ("retry", { try await store.retry("v", worker: "old", reason: TurboServeError(.engineCrashed, "x"), maxAttempts: 3) }),
            ("release", { try await store.release("v", worker: "old", reason: "x") }),
        ]
        for (name, write) in writes {
            do {
                _ = try await write()
                Issue.record("\(name) by the former holder must be refused")
            } catch let error as TurboServeError {
                #expect(error.code == .jobNotHeld, "\(name)")
            }
        }
        let after = try #require(try await store.get("v"))
        #expect(after == before && after.workerID == "new" && after.phase == .queued)
        #expect(try await store.events(of: "v").count == eventsBefore)
    }

    @Test(arguments: StoreBackend.available)
    func aCancelledJobRefusesItsWorkersFailure(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await admittedByW(store)
        _ = try await store.cancel("v")
        #expect(await #expect(throws: TurboServeError.self) { try await store.fail("v", worker: "w", code: "engine_error", message: "x") }?.code == .jobNotHeld)
        let record = try #require(try await store.get("v"))
        #expect(record.phase == .cancelled && record.errorCode == nil)
    }

    @Test(arguments: StoreBackend.available)
    func retryKeepsTheHolderAndCountsOnlyFaults(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await admittedByW(store)
        // A bystander of a restart, a preemption and a split batch use no attempt; the job stays with `w`.
        for code: TurboServeError.Code in [.engineRestarted, .preempted, .engineOutOfMemory] {
            let record = try await store.retry("v", worker: "w", reason: TurboServeError(code, "again"), maxAttempts: 2)
            #expect(record.phase == .queued && record.workerID == "w" && record.attempts == 0)
            _ = try await store.advance("v", worker: "w", to: .admitted, reason: nil)
        }
        // Nobody else can claim a job its worker retries.
        #expect(try await store.claim(worker: "other", limit: 5, lease: .seconds(30)).isEmpty)
        // A crash counts; a retry while still queued (the admit crashed) counts too; the second reaches the bound.
        let first = try await store.retry("v", worker: "w", reason: TurboServeError(.engineCrashed, "engine died"), maxAttempts: 2)
        #expect(first.phase == .queued && first.attempts == 1)
        let second = try await store.retry("v", worker: "w", reason: TurboServeError(.engineCrashed, "engine died again"), maxAttempts: 2)
        #expect(second.phase == .failed && second.attempts == 2 && second.workerID == nil)
        #expect(second.errorCode == "engine_crashed" && second.errorMessage?.contains("gave up after 2 attempts") == true)
    }

    @Test(arguments: StoreBackend.available)
    func releaseReturnsAJobToTheSharedQueueWithoutAnAttempt(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "a", spec: Fixtures.spec()))
        _ = try await store.create(NewJob(id: "b", spec: Fixtures.spec()))
        _ = try await store.claim(worker: "w", limit: 2, lease: .seconds(30))
        _ = try await store.advance("b", worker: "w", to: .admitted, reason: nil)
        for id: JobID in ["a", "b"] {
            let record = try await store.release(id, worker: "w", reason: "draining")
            #expect(record.phase == .queued && record.workerID == nil && record.attempts == 0)
        }
        #expect(Set(try await store.claim(worker: "v", limit: 5, lease: .seconds(30)).map(\.id)) == ["a", "b"])
    }

    @Test(arguments: StoreBackend.available)
    func heartbeatsRenewLeasesAndReportWhatWasLost(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        for id in ["kept", "cancelled", "expired"] { _ = try await store.create(NewJob(id: JobID(id), spec: Fixtures.spec())) }
        _ = try await store.claim(worker: "w", limit: 3, lease: .seconds(10))
        for id: JobID in ["kept", "cancelled", "expired"] { _ = try await store.advance(id, worker: "w", to: .admitted, reason: nil) }
        _ = try await store.cancel("cancelled")
        time.advance(8)
        // The heartbeat renewed every lease the worker holds, so 16 s after the claim the rescuer takes nothing…
        let beat = try await store.heartbeat(worker: "w", holding: ["kept", "cancelled", "expired", "unknown"], lease: .seconds(10), activity: EngineActivity(worker: "w"))
        #expect(beat.renewed == 2)
        #expect(Set(beat.lost.keys) == ["cancelled", "unknown"])
        #expect(beat.lost[JobID("cancelled")]??.phase == .cancelled)
        time.advance(8)
        #expect(try await store.rescueExpired(maxAttempts: 3).isEmpty)
        // …until it stops beating: then both go back to the queue, and the next heartbeat says so.
        time.advance(3)
        #expect(Set(try await store.rescueExpired(maxAttempts: 3)) == ["kept", "expired"])
        let late = try await store.heartbeat(worker: "w", holding: ["kept", "expired"], lease: .seconds(10), activity: nil)
        #expect(late.renewed == 0 && Set(late.lost.keys) == ["kept", "expired"])
        let workers = try await store.workers()
        #expect(workers.map(\.worker) == ["w"] && workers.first?.at == time.now)
    }

    /// Each heartbeat answers with the incarnation of the one it replaced under the same worker id, so a worker
    /// process can tell its own previous beat from another process's (two processes with one id).
    @Test(arguments: StoreBackend.available)
    func aHeartbeatNamesTheIncarnationOfTheBeatItReplaced(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        func beat(_ worker: String, _ incarnation: String?) async throws -> String? {
            try await store.heartbeat(worker: worker, holding: [], lease: .seconds(10),
                                      activity: incarnation.map { EngineActivity(worker: worker, incarnation: $0) }).previousIncarnation
        }
        #expect(try await beat("w", "first") == nil)
        #expect(try await beat("w", "first") == "first")
        #expect(try await beat("w", "second") == "first")
        #expect(try await beat("other", "third") == nil)
        #expect(try await beat("w", nil) == "second")
        #expect(try await beat("w", "first") == nil)
        #expect(try await store.workers().first { $0.worker == "w" }?.activity?.incarnation == "first")
    }

    /// A claim the database committed after its answer was lost (a hung database woke, a partition healed) leaves a
    /// job held by a worker that does not know it: its heartbeats name only what it knows, so that job's lease runs
    /// out and another worker gets it, while the jobs it named stay its own.
    @Test(arguments: StoreBackend.available)
    func aHeartbeatRenewsOnlyTheJobsTheWorkerKnowsItHolds(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        for id in ["known", "orphan"] { _ = try await store.create(NewJob(id: JobID(id), spec: Fixtures.spec())) }
        #expect(Set(try await store.claim(worker: "w", limit: 2, lease: .seconds(10)).map(\.id)) == ["known", "orphan"])
        time.advance(8)
        let beat = try await store.heartbeat(worker: "w", holding: ["known"], lease: .seconds(10), activity: nil)
        #expect(beat.renewed == 1 && beat.lost.isEmpty)
        time.advance(3)
        #expect(try await store.rescueExpired(maxAttempts: 3) == ["orphan"])
        #expect(try await store.claim(worker: "other", limit: 2, lease: .seconds(10)).map(\.id) == ["orphan"])
        #expect(try await store.get("known")?.workerID == "w")
    }

    @Test(arguments: StoreBackend.available)
    func aRestartedWorkerGetsItsJobsBackIntoTheSharedQueue(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "started", spec: Fixtures.spec()))
        _ = try await store.create(NewJob(id: "waiting", spec: Fixtures.spec()))
        _ = try await store.create(NewJob(id: "theirs", spec: Fixtures.spec()))
        _ = try await store.claim(worker: "me", limit: 2, lease: .seconds(600))
        _ = try await store.claim(worker: "them", limit: 1, lease: .seconds(600))
        _ = try await store.advance("started", worker: "me", to: .admitted, reason: nil)
        #expect(Set(try await store.releaseHeld(by: "me", maxAttempts: 3)) == ["started", "waiting"])
        #expect(try await store.get("started")?.attempts == 1)
        #expect(try await store.get("waiting")?.attempts == 0)
        #expect(try await store.get("theirs")?.workerID == "them")
    }
}
