import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The claim's order across a fleet (`ClaimOrder`): priority class strictly, then model affinity bounded by a
/// wait, then tenant fair share counting what every worker holds, then age.
extension JobStoreContractTests {
    private static let lease: Duration = .seconds(60)
    private static let otherModel = "wan2.1-t2v-1.3b"

    private func submit(_ store: any JobStore, _ id: String, tenant: TenantID = .default, model: String = "tiny-t2v", priority: String? = nil) async throws {
        _ = try await store.create(NewJob(id: JobID(id), tenant: tenant, spec: Fixtures.spec(model: model, priority: priority)))
    }

    @Test(arguments: StoreBackend.available)
    func residentModelJobsComeFirstWithinAClass(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await submit(store, "other-1", model: Self.otherModel)
        try await submit(store, "mine-1")
        try await submit(store, "other-2", model: Self.otherModel)
        try await submit(store, "mine-2")
        let holdsTiny = ClaimPreferences(residentModels: ["tiny-t2v"], affinityWait: .seconds(60))
        let claimed = try await store.claim(worker: "w", limit: 3, lease: Self.lease, preferences: holdsTiny)
        #expect(claimed.map(\.id) == ["mine-1", "mine-2", "other-1"])
        // Without affinity the same queue is plain age order.
        let rest = try await store.claim(worker: "w2", limit: 3, lease: Self.lease, preferences: ClaimPreferences())
        #expect(rest.map(\.id) == ["other-2"])
    }

    /// A claimer never gets the jobs it excludes (those its stale run still holds), even when they are all it would
    /// scan: the exclusion comes before the scan bound. Any other claimer gets them as usual.
    @Test(arguments: StoreBackend.available)
    func aClaimSkipsTheJobsItsClaimerExcludes(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        let depth = ClaimOrder.scanDepth(limit: 1)
        func job(_ i: Int) -> JobID { JobID(String(format: "j%03d", i)) }
        for i in 0...depth { try await submit(store, job(i).rawValue) }
        let stale = Set((0..<depth).map(job))
        let claimed = try await store.claim(worker: "w1", limit: 1, lease: Self.lease, preferences: ClaimPreferences(excluded: stale))
        #expect(claimed.map(\.id) == [job(depth)], "every job at the head of the queue was excluded")
        let others = try await store.claim(worker: "w2", limit: 2, lease: Self.lease)
        #expect(others.map(\.id) == ["j000", "j001"])
    }

    @Test(arguments: StoreBackend.available)
    func aJobPastTheWaitBoundGoesToAWorkerThatMustLoad(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await submit(store, "waiting", model: Self.otherModel)
        time.advance(30)
        try await submit(store, "mine-1")
        try await submit(store, "mine-2")
        // Waited 30 s: under a 60 s bound the worker's own model goes first ...
        let patient = ClaimPreferences(residentModels: ["tiny-t2v"], affinityWait: .seconds(60))
        #expect(try await store.claim(worker: "w", limit: 1, lease: Self.lease, preferences: patient).map(\.id) == ["mine-1"])
        // ... past a 20 s bound the waiting job is taken even by a worker that must load its model.
        let bounded = ClaimPreferences(residentModels: ["tiny-t2v"], affinityWait: .seconds(20))
        #expect(try await store.claim(worker: "w", limit: 1, lease: Self.lease, preferences: bounded).map(\.id) == ["waiting"])
    }

    @Test(arguments: StoreBackend.available)
    func aHigherClassBeatsAffinityAndAge(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await submit(store, "old-batch", priority: "batch")
        time.advance(100)
        try await submit(store, "standard-mine")
        try await submit(store, "interactive-other", model: Self.otherModel, priority: "interactive")
        let preferences = ClaimPreferences(residentModels: ["tiny-t2v"], affinityWait: .seconds(10))
        let claimed = try await store.claim(worker: "w", limit: 3, lease: Self.lease, preferences: preferences)
        #expect(claimed.map(\.id) == ["interactive-other", "standard-mine", "old-batch"])
    }

    @Test(arguments: StoreBackend.available)
    func tenantsInterleaveByWeightWhoeverSubmittedFirst(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        for i in 0..<6 { try await submit(store, "a\(i)", tenant: "a") }
        for i in 0..<6 { try await submit(store, "b\(i)", tenant: "b") }
        let equal = try await store.claim(worker: "w1", limit: 6, lease: Self.lease, preferences: ClaimPreferences())
        #expect(equal.map(\.id) == ["a0", "b0", "a1", "b1", "a2", "b2"])

        let weighted = try await backend.make(time: time, in: scratch)
        for i in 0..<6 { try await submit(weighted, "a\(i)", tenant: "a") }
        for i in 0..<6 { try await submit(weighted, "b\(i)", tenant: "b") }
        let twoToOne = ClaimPreferences(tenantWeights: ["a": 2])
        let claimed = try await weighted.claim(worker: "w1", limit: 6, lease: Self.lease, preferences: twoToOne)
        #expect(claimed.map(\.id) == ["a0", "a1", "b0", "a2", "a3", "b1"])
    }

    @Test(arguments: StoreBackend.available)
    func fairShareCountsTheJobsOtherWorkersHold(backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(time: time, count: 2, in: scratch)
        for i in 0..<3 { try await submit(stores[0], "a\(i)", tenant: "a") }
        #expect(try await stores[0].claim(worker: "w1", limit: 3, lease: Self.lease).map(\.id) == ["a0", "a1", "a2"])
        for i in 3..<6 { try await submit(stores[0], "a\(i)", tenant: "a") }
        for i in 0..<3 { try await submit(stores[0], "b\(i)", tenant: "b") }
        // Tenant a already holds three engine slots elsewhere in the fleet: b's jobs go first, though younger.
        let second = try await stores[1].claim(worker: "w2", limit: 4, lease: Self.lease)
        #expect(second.map(\.id) == ["b0", "b1", "b2", "a3"])
        // A finished job no longer counts: a gets the next turn back once it holds no more than b.
        for id: JobID in ["a0", "a1", "a2"] { _ = try await stores[0].fail(id, worker: "w1", code: "x", message: "done") }
        for i in 3..<5 { try await submit(stores[0], "b\(i)", tenant: "b") }
        let third = try await stores[0].claim(worker: "w1", limit: 2, lease: Self.lease)
        #expect(third.map(\.id) == ["a4", "a5"])
    }
}
