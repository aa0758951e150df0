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
