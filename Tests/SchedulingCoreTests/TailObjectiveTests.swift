import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: the tail objective")
struct TailObjectiveTests {
    /// An I2V job has done its first high-noise step when a 14B job with a tight deadline arrives.
    static func startedI2VThenUrgent14B(_ objective: SchedulingObjective) -> EnginePlayer {
        var engine = EnginePlayer { $0.objective = objective }
        engine.submit("i2v", Jobs.spec(Models.i2v, steps: 4, priority: .batch, deadline: 400))
        engine.runOne(); engine.runOne(); engine.runOne()   // load high, admit, high step 0
        engine.submit("t14b", Jobs.spec(Models.large, steps: 2, deadline: 40))
        engine.runUntilIdle()
        return engine
    }

    @Test("deadlines: at the I2V job's expert boundary the urgent 14B job takes the slot")
    func deadlinesSwitchAtPhaseBoundary() {
        let engine = Self.startedI2VThenUrgent14B(.deadlines)
        let order = engine.steps.map(\.expert)
        #expect(order == [Models.high, Models.high, Models.largeKey, Models.largeKey, Models.low, Models.low], "\(order)")
        #expect(engine.finished["t14b"]!.seconds <= 40, "the 14B job makes its deadline")
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("tail: the started I2V job keeps the slot through its low-noise phase; the 14B job follows")
    func tailFinishesStartedWork() {
        let engine = Self.startedI2VThenUrgent14B(.tail)
        let order = engine.steps.map(\.expert)
        #expect(order == [Models.high, Models.high, Models.low, Models.low, Models.largeKey, Models.largeKey], "\(order)")
        let deadlinesRun = Self.startedI2VThenUrgent14B(.deadlines)
        #expect(engine.finished["i2v"]! < deadlinesRun.finished["i2v"]!, "the I2V job finishes sooner than under deadlines")
        #expect(engine.loads.count == deadlinesRun.loads.count, "no extra weight moves")
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    /// A long (4-step) and a short (1-step) 1.3B job arrive with deadlines shorter than their own work (1 s and
    /// 1.5 s), so both are late from the start.
    static func twoLateJobs(_ objective: SchedulingObjective) -> EnginePlayer {
        // Without the deadline bound (these deadlines leave no room to yield into, so the bound would cancel it).
        var engine = EnginePlayer { $0.objective = objective; $0.maxBatchSize = 1; $0.preload = [Models.smallKey]; $0.tailYieldDeadlineFraction = nil }
        #expect(engine.runOne() == .load(Models.smallKey))
        engine.submit("long", Jobs.spec(Models.small, steps: 4, deadline: 1))
        engine.submit("short", Jobs.spec(Models.small, steps: 1, deadline: 1.5))
        engine.runUntilIdle()
        return engine
    }

    @Test("deadlines: late jobs keep their deadline order (the long job, due first, runs first)")
    func deadlinesLateOrder() {
        let engine = Self.twoLateJobs(.deadlines)
        #expect(engine.finished["long"]! < engine.finished["short"]!)
    }

    @Test("tail: a late job yields in proportion to its own work, so the short late job goes before the long one")
    func tailLongJobYields() {
        let engine = Self.twoLateJobs(.tail)
        #expect(engine.finished["short"]! < engine.finished["long"]!)
        #expect(engine.finished.count == 2, "both finish")
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }
}
