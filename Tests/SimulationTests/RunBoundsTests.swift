import SchedulingCore
@testable import Simulation
import Testing

/// The limits a bench report prints beside each policy's figures: the response floor (`LatencyFloor`) and the
/// throughput bound (`ThroughputBound`). Both must hold for every policy on either engine, and the floor must be
/// reachable (a floor far below every response would say nothing).
@Suite("Response floor and throughput bound")
struct RunBoundsTests {
    static let policies = PolicyCatalog.names + PolicyCatalog.optionalNames

    @Test("no job is answered faster than its floor, under every policy on either engine", arguments: [WeightTransfers.upstream, .streamed])
    func floorBelowEveryResponse(baselines: WeightTransfers) throws {
        let runner = try BenchRunner(workload: TestSupport.workload("seed-mix.json"), policies: Self.policies, baselineTransfers: baselines)
        let floor = runner.latencyFloor
        var closest: [String: Double] = [:]
        for result in runner.run() {
            for job in result.jobs {
                guard let response = job.response else { continue }
                let seconds = try #require(floor.seconds(of: job))
                #expect(response >= seconds - 1e-6, "\(result.policy) answered \(job.id) (\(job.className)) in \(response) s, below its floor \(seconds) s")
                closest[job.className] = min(closest[job.className] ?? .infinity, response / seconds)
            }
        }
        #expect(closest.count == 4, "every class completed jobs")
        #expect(closest.values.allSatisfy { $0 < 1.01 }, "some job of every class is answered within 1% of its floor: \(closest)")
    }

    @Test("a summary's floor figures are its own jobs' floors, and its responses are no lower")
    func summaryFloors() throws {
        let runner = try BenchRunner(workload: TestSupport.workload("seed-mix.json"), policies: Self.policies, baselineTransfers: .streamed)
        let results = runner.run()
        for (result, summary) in zip(results, runner.summaries(results)) {
            let floors = result.jobs.filter { $0.status == .succeeded }.compactMap(runner.latencyFloor.seconds(of:)).sorted()
            #expect(summary.meanFloorSeconds == PolicySummary.mean(floors))
            #expect(summary.p95FloorSeconds == PolicySummary.percentile(floors, 0.95))
            #expect(summary.p95FloorSeconds > 0)
            #expect(summary.meanResponseSeconds >= summary.meanFloorSeconds)
            #expect(summary.p95ResponseSeconds >= summary.p95FloorSeconds)
            #expect(summary.p99ResponseSeconds >= summary.p99FloorSeconds)
        }
    }

    @Test("no policy's throughput exceeds the bound the cost model allows for the jobs it completed")
    func boundAboveThroughput() throws {
        let runner = try BenchRunner(workload: TestSupport.workload("seed-mix.json"), policies: Self.policies, baselineTransfers: .streamed)
        for summary in runner.summaries(runner.run()) {
            #expect(summary.boundPerHour > 0)
            #expect(summary.throughputPerHour <= summary.boundPerHour, "\(summary.policy)")
        }
    }
}
