import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: model residency")
struct ResidencyTests {
    @Test("preload when idle; keep-alive evicts an idle expert but keeps the preloaded one warm")
    func keepAliveAndPreload() {
        var engine = EnginePlayer { $0.preload = [Models.smallKey]; $0.keepAlive = .seconds(300) }
        #expect(engine.runOne() == .load(Models.smallKey), "the preload list loads on an idle engine")
        #expect(engine.runOne() == nil)
        engine.submit("big", Jobs.spec(Models.large, steps: 2))
        engine.runUntilIdle()
        #expect(engine.state("big") == .succeeded)
        #expect(engine.scheduler.residentExperts == [Models.smallKey, Models.largeKey])
        let due = try! #require(engine.scheduler.nextWakeup(), "a keep-alive timer is armed")
        #expect(due == engine.clock.now.advanced(by: .seconds(300)) || due.seconds <= engine.now + 300)
        engine.clock.advance(by: .seconds(299))
        #expect(engine.runOne() == nil, "not before keep-alive")
        engine.clock.advance(to: due)
        #expect(engine.runOne() == .unload(Models.largeKey))
        #expect(engine.runOne() == nil, "the preloaded model stays")
        #expect(engine.scheduler.residentExperts == [Models.smallKey])
    }

    @Test("a pinned expert is never evicted, not even to make room")
    func pinned() {
        var engine = EnginePlayer { $0.pinned = [Models.smallKey]; $0.keepAlive = .seconds(1) }
        engine.runOne()
        engine.submit("h", Jobs.spec(Models.i2v, steps: 4, priority: .batch))
        engine.runUntilIdle()
        engine.clock.advance(by: .seconds(10))
        engine.runUntilIdle()
        #expect(!engine.unloads.contains(Models.smallKey))
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("an I2V group runs every high-noise step, then switches to the low-noise expert once", arguments: [1, 8])
    func oneSwitchPerI2VGroup(maxBatch: Int) {
        var engine = EnginePlayer { $0.maxBatchSize = maxBatch }
        for i in 0..<3 { engine.submit(JobID("i\(i)"), Jobs.spec(Models.i2v, steps: 4, priority: .batch, deadline: 1_000)) }
        engine.runUntilIdle()
        #expect(engine.loads.filter { $0 == Models.high }.count == 1)
        #expect(engine.loads.filter { $0 == Models.low }.count == 1)
        let experts = engine.steps.map(\.expert)
        let lastHigh = experts.lastIndex(of: Models.high)!, firstLow = experts.firstIndex(of: Models.low)!
        #expect(lastHigh < firstLow, "all high-noise steps before the first low-noise one: \(experts)")
        #expect(engine.finished.count == 3)
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("short jobs of a resident model run between a large model's work while its slack allows; no extra swap")
    func slackStealing() {
        var engine = EnginePlayer { $0.preload = [Models.smallKey] }
        #expect(engine.runOne() == .load(Models.smallKey))
        engine.submit("big", Jobs.spec(Models.large, steps: 4, deadline: 200))
        engine.runOne(); engine.runOne(); engine.runOne()   // load 14B, admit, step 0
        engine.submit("quick", Jobs.spec(Models.small, steps: 2, deadline: 30))
        engine.runUntilIdle()
        #expect(engine.finished["quick"]! < engine.finished["big"]!, "the quick job does not wait for the big one")
        #expect(engine.unloads.isEmpty, "the 1.3B fits beside the 14B: nothing is swapped out")
    }

    @Test("deadlines: work for the resident expert goes first when the other job's slack covers it, saving a swap")
    func preferResident() {
        // Under `tail` the started I2V job would keep the slot to the end (TailObjectiveTests); this is the
        // `deadlines` objective's slack reclaiming.
        var engine = EnginePlayer { $0.targetWait = nil; $0.objective = .deadlines }
        engine.submit("i", Jobs.spec(Models.i2v, steps: 4, priority: .batch, deadline: 400))
        engine.runOne(); engine.runOne(); engine.runOne()   // load high, admit, high step 0
        engine.submit("t", Jobs.spec(Models.large, steps: 2, deadline: 120))
        engine.runUntilIdle()
        // t's deadline is earlier, but its slack covers i's remaining high step: high, high, switch, t, switch, low.
        let order = engine.steps.map(\.expert)
        #expect(order == [Models.high, Models.high, Models.largeKey, Models.largeKey, Models.low, Models.low], "\(order)")
        #expect(engine.finished["t"]!.seconds <= 120)
    }
}
