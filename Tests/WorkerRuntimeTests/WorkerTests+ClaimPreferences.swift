import Artifacts
import Foundation
import JobStore
import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// What a worker's claims ask the store for: the models its engine holds now, its affinity bound and the tenants'
/// weights (the store orders the shared queue by them, `ClaimOrder`).
extension WorkerTests {
    @Test func claimsCarryTheModelsTheEngineHoldsAndTheConfiguredPolicy() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "warm", spec: try spec("warm", steps: 1)))
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.affinityWait = .seconds(42)
        configuration.tenantWeights = ["acme": 2]
        let worker = Worker(policy: SerialPolicy(), store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(), configuration: configuration)
        #expect(await worker.claimPreferences == ClaimPreferences(residentModels: [], affinityWait: .seconds(42), tenantWeights: ["acme": 2]))
        try await runUntilEnded(worker, store: store, jobs: 1)
        #expect(await worker.claimPreferences == ClaimPreferences(residentModels: ["tiny-t2v"], affinityWait: .seconds(42), tenantWeights: ["acme": 2]))

        // Those preferences put the worker's own model first in its class, ahead of an older job for another model.
        _ = try await store.create(NewJob(id: "other", spec: try JobValidator().validate(JobSpec(prompt: "o", model: "wan2.1-t2v-1.3b", steps: 1, seed: 1), randomSeed: { 0 })))
        _ = try await store.create(NewJob(id: "mine", spec: try spec("mine", steps: 1)))
        let claimed = try await store.claim(worker: "node-1", limit: 1, lease: .seconds(60), preferences: await worker.claimPreferences)
        #expect(claimed.map(\.id) == ["mine"])
    }
}
