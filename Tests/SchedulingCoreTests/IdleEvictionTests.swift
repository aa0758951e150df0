import SchedulingCore
import Testing
import TurboServeDomain

/// A warm model nobody uses must not cap a batch that pays. With `RoundCost` on 36 GB, the 1.3B beside a warm 14B
/// network leaves room for two samples; without it, for more than the batch limit of 8. Eight queued 4-step jobs in
/// one batch instead of four batches of two save 4 × (8 × 1 s − (√8 − √2) s) ≈ 26 s of steps against 10 s to unload
/// and reload the 14B (5 s each).
@Suite("TurboScheduler: batches that pay may evict an idle model")
struct IdleEvictionTests {
    static func warmEngine(loadSeconds: Double = 5) -> EnginePlayer {
        var engine = EnginePlayer(cost: RoundCost(loadSeconds: loadSeconds)) { $0.preload = [Models.smallKey, Models.largeKey] }
        #expect(engine.runOne() == .load(Models.smallKey))
        #expect(engine.runOne() == .load(Models.largeKey))
        #expect(engine.runOne() == nil, "both preloaded and warm")
        return engine
    }

    @Test("the idle 14B is unloaded so eight 1.3B jobs share one batch")
    func evictsIdleForBatch() {
        var engine = Self.warmEngine()
        for i in 0..<8 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 4)) }
        engine.runUntilIdle()
        #expect(engine.unloads == [Models.largeKey])
        let firstStep = engine.plans.firstIndex { if case .step = $0 { true } else { false } }!
        let unload = engine.plans.firstIndex(of: .unload(Models.largeKey))!
        #expect(unload < firstStep, "the room is made before the first step")
        #expect(engine.steps.map(\.jobs.count).max() == 8, "\(engine.steps.map(\.jobs.count))")
        #expect(engine.finished.count == 8)
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.loads.last == Models.largeKey, "once idle, the preload list brings the 14B back")
        #expect(engine.scheduler.residentExperts == [Models.smallKey, Models.largeKey])
    }

    @Test("a model some job waits for is not evicted for a bigger batch")
    func keepsWantedModel() {
        var engine = Self.warmEngine()
        for i in 0..<8 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 4)) }
        engine.submit("big", Jobs.spec(Models.large, steps: 2, deadline: 10_000))
        engine.runUntilIdle()
        #expect(engine.unloads.isEmpty, "\(engine.unloads)")
        #expect(engine.steps.filter { $0.expert == Models.smallKey }.map(\.jobs.count).max() == 2)
        #expect(engine.finished.count == 9)
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("with every engine slot taken, a model only a queued job waits for is still kept")
    func keepsModelOfQueuedJobWhenSlotsAreFull() {
        // Under `deadlines` an urgent 14B job loads its network beside three admitted 1.3B jobs; then a fourth 1.3B job
        // takes the last engine slot and a second 14B job can only wait in the queue. The 1.3B batch is capped at two
        // beside the 14B, but the 14B network is not idle: a job waits for it.
        var engine = EnginePlayer(cost: RoundCost(loadSeconds: 0.2)) { $0.preload = [Models.smallKey]; $0.maxActiveJobs = 4; $0.objective = .deadlines }
        engine.runUntilIdle()
        for i in 0..<3 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 4, deadline: 10_000)) }
        while engine.steps.isEmpty { engine.runOne() }
        engine.submit("big0", Jobs.spec(Models.large, steps: 1, deadline: 8))
        while engine.state("big0") != .succeeded { engine.runOne() }
        engine.submit("extra", Jobs.spec(Models.small, steps: 4, deadline: 40))
        engine.submit("big1", Jobs.spec(Models.large, steps: 1, deadline: 10_000))
        engine.runUntilIdle()
        #expect(engine.state("big1") == .succeeded)
        let lastLargeStep = engine.plans.lastIndex { if case .step(Models.largeKey, _) = $0 { true } else { false } }!
        let firstUnload = engine.plans.firstIndex(of: .unload(Models.largeKey))
        #expect(firstUnload.map { $0 > lastLargeStep } ?? true, "the 14B stays while its queued job waits: \(engine.plans)")
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("when unloading and reloading cost more than the bigger batch saves, the batch stays small")
    func keepsWhenTransfersCostMore() {
        var engine = Self.warmEngine(loadSeconds: 20)
        for i in 0..<8 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 4)) }
        engine.runUntilIdle()
        #expect(engine.unloads.isEmpty, "\(engine.unloads)")
        #expect(engine.steps.map(\.jobs.count).max() == 2)
        #expect(engine.finished.count == 8)
    }
}
