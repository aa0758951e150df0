import Foundation
import JobStore
@testable import Simulation
import Testing
import TurboServeDomain

/// The simulator restates the store's claim rule (Simulation does not depend on JobStore); these samples pin the
/// two to the same answers.
@Suite struct FleetClaimTests {
    /// A deterministic mixed queue: three tenants, three classes, three models, ages spread over a minute.
    static func sample(count: Int, seed: UInt64) -> [FleetClaim.Candidate] {
        var rng = SplitMix64(seed: seed)
        let models = ["wan2.1-t2v-1.3b", "wan2.1-t2v-14b", "wan2.2-i2v-a14b"]
        let tenants: [TenantID] = ["a", "b", "c"]
        return (0..<count).map { i in
            FleetClaim.Candidate(
                job: JobID("job-\(i)"), tenant: tenants[Int(rng.unit() * 3) % 3], priorityRank: Int(rng.unit() * 3) % 3,
                sequence: i, model: models[Int(rng.unit() * 3) % 3], createdAt: Double(i) * 0.7)
        }
    }

    @Test("the simulator's claim picks the same jobs, in the same order, as the store's ClaimOrder",
          arguments: [(1, 5), (4, 40), (16, 90), (16, 200)])
    func agreesWithClaimOrder(limit: Int, count: Int) {
        let candidates = Self.sample(count: count, seed: UInt64(count))
        let now = 70.0
        let held: [TenantID: Int] = ["a": 3, "b": 0, "c": 1]
        let weights: [TenantID: Double] = ["a": 2]
        let simulated = FleetClaim.pick(candidates, limit: limit, held: held,
                                        preferences: .init(residentModels: ["wan2.1-t2v-14b"], affinityWaitSeconds: 10, tenantWeights: weights), now: now)
        let epoch = Date(timeIntervalSince1970: 1_000_000)
        let stored = ClaimOrder.pick(
            candidates.map { ClaimOrder.Candidate(id: $0.job, tenant: $0.tenant, priorityRank: $0.priorityRank, sequence: Int64($0.sequence), model: $0.model, createdAt: epoch.addingTimeInterval($0.createdAt)) },
            limit: limit, held: held,
            preferences: ClaimPreferences(residentModels: ["wan2.1-t2v-14b"], affinityWait: .seconds(10), tenantWeights: weights),
            now: epoch.addingTimeInterval(now))
        #expect(simulated.count == min(limit, count))
        #expect(simulated.map(\.job) == stored.map(\.id))
    }

    @Test("a higher class is claimed before a resident-model job of a lower class")
    func classBeatsAffinity() {
        let candidates = [
            FleetClaim.Candidate(job: "standard-resident", priorityRank: 1, sequence: 0, model: "m", createdAt: 0),
            FleetClaim.Candidate(job: "interactive-other", priorityRank: 0, sequence: 1, model: "n", createdAt: 0),
        ]
        let picked = FleetClaim.pick(candidates, limit: 1, held: [:], preferences: .init(residentModels: ["m"]), now: 1)
        #expect(picked.map(\.job) == ["interactive-other"])
    }
}
