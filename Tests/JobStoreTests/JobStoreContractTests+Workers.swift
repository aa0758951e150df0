import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// Several workers on one store (one per engine on a node, or one per GPU pod): each job goes to exactly one.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func racingWorkersEachGetDisjointJobsAndCannotTouchTheOthers(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        for i in 0..<40 { _ = try await store.create(NewJob(id: JobID("j\(i)"), spec: Fixtures.spec())) }
        let lease: Duration = .seconds(60)
        // Two workers claim in small bites until the queue is dry, concurrently.
        let claims = try await withThrowingTaskGroup(of: (String, [JobID]).self) { group in
            for worker in ["node-0", "node-1"] {
                group.addTask {
                    var mine: [JobID] = []
                    while true {
                        let batch = try await store.claim(worker: worker, limit: 3, lease: lease)
                        if batch.isEmpty { return (worker, mine) }
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [String: [JobID]]()) { $0[$1.0] = $1.1 }
        }
        let all = claims.values.flatMap { $0 }
        #expect(all.count == 40 && Set(all).count == 40)
        for (worker, jobs) in claims {
            for id in jobs { #expect(try await store.get(id)?.workerID == worker) }
        }
        // Fencing: a worker cannot advance, complete or fail a job the other holds.
        let other = try #require(claims["node-1"]?.first ?? claims["node-0"]?.first)
        let holder = try #require(try await store.get(other)?.workerID)
        let intruder = holder == "node-0" ? "node-1" : "node-0"
        #expect(await #expect(throws: TurboServeError.self) { try await store.advance(other, worker: intruder, to: .admitted, reason: nil) }?.code == .jobNotHeld)
        #expect(await #expect(throws: TurboServeError.self) { try await store.fail(other, worker: intruder, code: "x", message: "y") }?.code == .jobNotHeld)
        #expect(await #expect(throws: TurboServeError.self) { try await store.release(other, worker: intruder, reason: "z") }?.code == .jobNotHeld)
        #expect(try await store.get(other)?.workerID == holder)
    }
}

extension JobStoreContractTests {
    /// A process that died while a video was being encoded must not keep the next one from starting: the job is
    /// queued again (its seed makes the rerun the same video).
    @Test(arguments: StoreBackend.available)
    func aJobCaughtMuxingByACrashIsQueuedAgain(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        _ = try await store.create(NewJob(id: "m", spec: Fixtures.spec()))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        let steps = Fixtures.spec().steps
        var path: [JobState] = [.admitted]
        path += (1...steps).map { JobState.denoising(completed: $0, total: steps) }
        path += [.decoding, .muxing]
        for state in path { _ = try await store.advance("m", worker: "w", to: state, reason: nil) }
        let requeued = try await store.releaseHeld(by: nil, maxAttempts: 3)
        #expect(requeued == ["m"])
        #expect(try await store.get("m")?.phase == .queued)
    }
}
