import Artifacts
import Foundation
import JobStore
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import WorkerRuntime

/// Two processes under one worker id (a misconfiguration): the store fences writes by worker id, so it cannot tell
/// them apart. Each worker process signs its heartbeats with an incarnation of its own; one that finds another's
/// beat between two of its own says so and claims nothing until that stops.
extension WorkerTests {
    func worker(store: any JobStore, lease: Duration, metrics: ServiceMetrics? = nil) -> Worker<SerialPolicy> {
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.leaseDuration = lease
        return Worker(policy: SerialPolicy(), store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(),
                      configuration: configuration, metrics: metrics)
    }

    /// Another process's heartbeat under node-1's id.
    func impostorBeats(_ store: any JobStore) async throws {
        _ = try await store.heartbeat(worker: "node-1", holding: [], lease: .seconds(60), activity: EngineActivity(worker: "node-1", incarnation: "impostor"))
    }

    @Test func aWorkerThatFindsAnotherProcessBeatingUnderItsIDSaysSoAndClaimsNothing() async throws {
        let store = InMemoryJobStore()
        let metrics = ServiceMetrics()
        // A previous process's beat before this one's first is a restart, not a conflict; nor are its own beats.
        try await impostorBeats(store)
        let worker = worker(store: store, lease: .seconds(60), metrics: metrics)
        await worker.heartbeat()
        await worker.heartbeat()
        #expect(await worker.identityConflict == nil)

        try await impostorBeats(store)
        await worker.heartbeat()
        let conflict = try #require(await worker.identityConflict)
        #expect(conflict.contains("'node-1'") && conflict.contains("impostor") && conflict.contains("--worker-id"), "\(conflict)")
        #expect(metrics.exposition().contains(#"turboserve_worker_id_conflict{worker="node-1"} 1"#))

        _ = try await store.create(NewJob(id: "v0", spec: try spec("p0")))
        let running = Task { try await worker.run() }
        worker.wake()
        // The loop has passed a claim step once it waits for work.
        #expect(await eventually { await worker.status.idleWaits >= 1 })
        let record = try #require(try await store.get("v0"))
        #expect(record.phase == .queued && record.workerID == nil, "the conflicted worker claimed \(record.id)")
        await worker.stop()
        try await running.value
    }

    @Test func aWorkerClaimsAgainOnceNoOtherProcessHasBeatenUnderItsIDForTwoLeases() async throws {
        let store = InMemoryJobStore()
        let worker = worker(store: store, lease: .milliseconds(200))
        await worker.heartbeat()
        try await impostorBeats(store)
        await worker.heartbeat()
        #expect(await worker.identityConflict != nil)
        // Cleared by the first of its own beats two leases after the other's last.
        #expect(await eventually {
            await worker.heartbeat()
            return await worker.identityConflict == nil
        })
        _ = try await store.create(NewJob(id: "v0", spec: try spec("p0")))
        try await runUntilEnded(worker, store: store, jobs: 1)
        #expect(try await store.get("v0")?.phase == .succeeded)
    }
}
