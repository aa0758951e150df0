import Foundation
import JobStore
import Testing
import TurboServeDomain

/// The bounded queue: a full queue refuses new jobs atomically and stores nothing.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func aFullQueueRefusesNewJobsButReplaysExistingOnes(backend: StoreBackend) async throws {
        let store = try backend.make(time: time)
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
        await #expect(throws: TurboServeError.self) { _ = try await store.create(NewJob(id: "d", spec: Fixtures.spec(), maxQueued: 3)) }
        _ = try await store.cancel("b")
        #expect(try await store.create(NewJob(id: "d", spec: Fixtures.spec(), maxQueued: 3)).created)
        #expect(try await store.countByPhase()[.queued] == 3)
    }

    @Test(arguments: StoreBackend.allCases)
    func concurrentCreatesNeverOvershootTheBound(backend: StoreBackend) async throws {
        let store = try backend.make(time: time)
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
}
