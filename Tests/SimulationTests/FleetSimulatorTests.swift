import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain

@Suite struct FleetSimulatorTests {
    static func turboserve() throws -> PolicyEntry {
        try #require(PolicyCatalog.entry(named: "turboserve", calibration: TestSupport.calibration()))
    }

    static func run(_ setup: SimulationSetup, _ fleet: FleetOptions) throws -> FleetResult {
        try #require(try turboserve().runFleet(setup, fleet: fleet))
    }

    @Test("three engines finish a burst sooner than one, every job claimed exactly once and finished")
    func burst() throws {
        let setup = try TestSupport.smallSetup(count: 24, gap: 1)
        let one = try Self.run(setup, FleetOptions(engines: 1))
        let three = try Self.run(setup, FleetOptions(engines: 3))
        for result in [one, three] {
            #expect(result.jobs.allSatisfy { $0.status == .succeeded })
            #expect(result.claimsPerJob.count == 24)
            #expect(result.claimsPerJob.values.allSatisfy { $0 == 1 })
        }
        let last = { (r: FleetResult) in r.jobs.compactMap(\.finished).max() ?? 0 }
        #expect(last(three) < last(one))
        #expect(PolicySummary.attainment(three.jobs) >= PolicySummary.attainment(one.jobs))
    }

    @Test("across engines, queued interactive jobs are claimed before batch jobs that queued earlier")
    func classOrderAcrossEngines() throws {
        // Each engine holds one job. Two batch jobs occupy both engines; four more batch jobs queue at 20 s, then
        // six interactive ones at 40 s (all parsed long before an engine frees up).
        let arrivals = [0, 0.1, 20, 20.1, 20.2, 20.3].map { ScheduledArrival(time: $0, classIndex: 2) }
            + (0..<6).map { ScheduledArrival(time: 40 + Double($0) * 0.1, classIndex: 0) }
        let setup = try TestSupport.smallSetup().with(arrivals: .open(arrivals, durationSeconds: 41))
        let result = try Self.run(setup, FleetOptions(engines: 2, claimWindow: 1))
        let claimed = { (job: JobOutcome) in result.claimTimes[job.id]?.first }
        let interactive = result.jobs.filter { $0.classIndex == 0 }.compactMap(claimed)
        let batchWaiting = result.jobs.filter { $0.classIndex == 2 }.compactMap(claimed).filter { $0 > 20 }
        #expect(interactive.count == 6)
        #expect(!batchWaiting.isEmpty)
        #expect((interactive.max() ?? .infinity) <= (batchWaiting.min() ?? 0))
    }

    @Test("the same setup gives the same fleet run twice")
    func deterministic() throws {
        let setup = try TestSupport.smallSetup(count: 18, gap: 2)
        let a = try Self.run(setup, FleetOptions(engines: 2))
        let b = try Self.run(setup, FleetOptions(engines: 2))
        #expect(a.jobs == b.jobs)
        #expect(a.gpuSeconds == b.gpuSeconds)
    }
}

extension SimulationSetup {
    func with(arrivals: Arrivals) -> SimulationSetup {
        var copy = self
        copy.arrivals = arrivals
        return copy
    }
}
