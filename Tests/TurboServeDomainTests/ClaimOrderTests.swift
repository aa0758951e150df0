import Foundation
import Testing
import TurboServeDomain

/// `ClaimOrder` alone, as a pure function (the stores' agreement with it is the store contract suite's job; the fleet
/// simulator claims with it directly).
@Suite struct ClaimOrderTests {
    let epoch = Date(timeIntervalSince1970: 1_000_000)

    func candidate(_ id: JobID, tenant: TenantID = .default, rank: Int, sequence: Int64, model: String = "m", age: Double = 0) -> ClaimOrder.Candidate {
        ClaimOrder.Candidate(id: id, tenant: tenant, priorityRank: rank, sequence: sequence, model: model, createdAt: epoch.addingTimeInterval(-age))
    }

    @Test("a higher class is claimed before a resident-model job of a lower class")
    func classBeatsAffinity() {
        let candidates = [candidate("standard-resident", rank: 1, sequence: 0, model: "m"), candidate("interactive-other", rank: 0, sequence: 1, model: "n")]
        let picked = ClaimOrder.pick(candidates, limit: 1, held: [:], preferences: ClaimPreferences(residentModels: ["m"], affinityWait: .seconds(10)), now: epoch)
        #expect(picked.map(\.id) == ["interactive-other"])
    }

    @Test("within a class, a resident model's job goes first until another job has waited past the affinity bound")
    func affinityIsBoundedByTheWait() {
        let older = candidate("older-other", rank: 1, sequence: 0, model: "n", age: 5)
        let resident = candidate("newer-resident", rank: 1, sequence: 1, model: "m", age: 1)
        let preferences = ClaimPreferences(residentModels: ["m"], affinityWait: .seconds(10))
        #expect(ClaimOrder.pick([older, resident], limit: 1, held: [:], preferences: preferences, now: epoch).map(\.id) == ["newer-resident"])
        let aged = candidate("older-other", rank: 1, sequence: 0, model: "n", age: 11)
        #expect(ClaimOrder.pick([aged, resident], limit: 1, held: [:], preferences: preferences, now: epoch).map(\.id) == ["older-other"],
                "past the bound the job counts as preferred for every worker, and age decides")
    }

    @Test("excluded jobs are never picked and do not use up the scan bound")
    func excludedJobsAreSkippedBeforeTheScanBound() {
        let depth = ClaimOrder.scanDepth(limit: 1)
        let candidates = (0...depth).map { candidate(JobID("j\($0)"), rank: 1, sequence: Int64($0)) }
        let excluded = Set(candidates.prefix(depth).map(\.id))
        #expect(ClaimOrder.pick(candidates, limit: 1, held: [:], preferences: ClaimPreferences(excluded: excluded), now: epoch).map(\.id) == [JobID("j\(depth)")])
        #expect(ClaimOrder.pick(candidates, limit: 1, held: [:], preferences: ClaimPreferences(), now: epoch).map(\.id) == ["j0"])
    }

    @Test("tenants interleave by (held + position) / weight: a tenant already running more elsewhere waits its turn")
    func fairShareCountsHeldJobs() {
        let candidates = [
            candidate("a1", tenant: "a", rank: 1, sequence: 0), candidate("a2", tenant: "a", rank: 1, sequence: 1),
            candidate("b1", tenant: "b", rank: 1, sequence: 2), candidate("b2", tenant: "b", rank: 1, sequence: 3),
        ]
        let even = ClaimOrder.pick(candidates, limit: 4, held: [:], preferences: ClaimPreferences(), now: epoch)
        #expect(even.map(\.id) == ["a1", "b1", "a2", "b2"])
        let aBusy = ClaimOrder.pick(candidates, limit: 2, held: ["a": 2], preferences: ClaimPreferences(), now: epoch)
        #expect(aBusy.map(\.id) == ["b1", "b2"])
        let aHeavy = ClaimOrder.pick(candidates, limit: 3, held: [:], preferences: ClaimPreferences(tenantWeights: ["a": 2]), now: epoch)
        #expect(aHeavy.map(\.id) == ["a1", "a2", "b1"])
    }
}
