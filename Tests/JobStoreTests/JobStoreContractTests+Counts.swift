import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The queue-depth gauges read these counts: each queued job counted once, by its class and model; jobs that left
/// the queue (started, cancelled) not at all; a claimed job not yet started is still waiting, so still counted.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func queuedJobsAreCountedByClassAndModel(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        let mix: [(String, String?)] = [("tiny-t2v", "interactive"), ("tiny-t2v", "interactive"), ("tiny-t2v", "batch"), ("wan2.1-t2v-1.3b", "interactive"), ("tiny-t2v", nil)]
        for (i, (model, priority)) in mix.enumerated() {
            _ = try await store.create(NewJob(id: JobID("q\(i)"), spec: Fixtures.spec(model: model, priority: priority)))
        }
        _ = try await store.create(NewJob(id: "gone", spec: Fixtures.spec(priority: "batch")))
        _ = try await store.cancel("gone")
        #expect(try await store.countQueued() == [
            QueuedKey(priority: .interactive, model: "tiny-t2v"): 2, QueuedKey(priority: .batch, model: "tiny-t2v"): 1,
            QueuedKey(priority: .interactive, model: "wan2.1-t2v-1.3b"): 1, QueuedKey(priority: .standard, model: "tiny-t2v"): 1,
        ])
        #expect(try await store.countQueuedByClass() == [.interactive: 3, .batch: 1, .standard: 1])

        // A claimed job that has not started still waits: it stays counted until its worker admits it.
        let before = try await store.countQueued()
        let claimed = try #require(try await store.claim(worker: "w", limit: 1, lease: .seconds(30)).first)
        #expect(try await store.countQueued() == before)
        _ = try await store.advance(claimed.id, worker: "w", to: .admitted, reason: nil)
        let key = QueuedKey(priority: claimed.spec.priority, model: claimed.spec.model)
        let after = try await store.countQueued()
        #expect((after[key] ?? 0) == (before[key] ?? 0) - 1)
        #expect(after.values.reduce(0, +) == 4)
    }
}
