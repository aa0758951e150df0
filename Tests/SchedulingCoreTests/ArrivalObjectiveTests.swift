import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: the arrival objective")
struct ArrivalObjectiveTests {
    /// An 8-step 1.3B job (isolated 8.6 s) is admitted and has run `stepsFirst` steps when a 1-step job (isolated
    /// 1.6 s) arrives. One sample per step, so the two can only go one after the other.
    static func longThenShort(_ objective: SchedulingObjective, stepsFirst: Int) -> EnginePlayer {
        var engine = EnginePlayer {
            $0.objective = objective; $0.maxBatchSize = 1; $0.preload = [Models.smallKey]; $0.arrivalLatencyFactor = 0.3
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        engine.submit("long", Jobs.spec(Models.small, steps: 8))
        engine.runOne()   // admit
        for _ in 0..<stepsFirst { engine.runOne() }
        engine.submit("short", Jobs.spec(Models.small, steps: 1))
        engine.runUntilIdle()
        return engine
    }

    @Test("arrival: a short job arriving later than 0.3 × the latency difference (2.1 s) waits for the long job")
    func laterShortJobWaits() {
        let engine = Self.longThenShort(.arrival, stepsFirst: 3)   // the short job arrives 3.1 s after the long one
        #expect(engine.finished["long"]! < engine.finished["short"]!)
        #expect(engine.finished.count == 2 && engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("tail: the same short job passes the long one at the next step boundary")
    func tailLetsShortJobPass() {
        let engine = Self.longThenShort(.tail, stepsFirst: 3)
        #expect(engine.finished["short"]! < engine.finished["long"]!)
        #expect(engine.finished.count == 2 && engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("arrival: a short job arriving within the bound still goes first")
    func earlyShortJobPasses() {
        let engine = Self.longThenShort(.arrival, stepsFirst: 0)   // arrives 0.1 s after the long one
        #expect(engine.finished["short"]! < engine.finished["long"]!)
        #expect(engine.finished.count == 2 && engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("arrival: a late job does not yield, so two late jobs keep their arrival order")
    func lateJobsKeepOrder() {
        var engine = EnginePlayer {
            $0.objective = .arrival; $0.maxBatchSize = 1; $0.preload = [Models.smallKey]; $0.tailYieldDeadlineFraction = nil
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        engine.submit("long", Jobs.spec(Models.small, steps: 4, deadline: 1))
        engine.clock.advance(by: .seconds(2))
        engine.submit("short", Jobs.spec(Models.small, steps: 1, deadline: 1.5))
        engine.runUntilIdle()
        #expect(engine.finished["long"]! < engine.finished["short"]!)
        let tail = TailObjectiveTests.twoLateJobs(.tail)
        #expect(tail.finished["short"]! < tail.finished["long"]!, "under tail the long late job yields")
    }
}
