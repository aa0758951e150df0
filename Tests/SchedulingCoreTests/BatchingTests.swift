import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: step-level batching")
struct BatchingTests {
    @Test("jobs at different steps share one denoise call")
    func acrossSteps() {
        var engine = EnginePlayer()
        engine.submit("a", Jobs.spec(steps: 4))
        engine.runOne()                       // load 1.3B
        engine.runOne()                       // admit a
        engine.runOne()                       // step 0 of a
        engine.submit("b", Jobs.spec(steps: 2))
        engine.runOne()                       // admit b
        let action = engine.runOne()
        guard case let .step(_, steps)? = action else { Issue.record("expected a step, got \(String(describing: action))"); return }
        #expect(Set(steps.map(\.job)) == ["a", "b"])
        #expect(steps.first { $0.job == "a" }?.index == 1)
        #expect(steps.first { $0.job == "b" }?.index == 0)
        engine.runUntilIdle()
        #expect(engine.state("a") == .succeeded && engine.state("b") == .succeeded)
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("a job submitted while a step runs joins the batch at the next step boundary")
    func joinAtBoundary() {
        var engine = EnginePlayer()
        engine.submit("a", Jobs.spec(steps: 4))
        engine.runOne(); engine.runOne()      // load, admit
        let plan = engine.scheduler.nextPlan()!
        guard case .step = plan.action else { Issue.record("expected a step"); return }
        engine.submit("b", Jobs.spec(steps: 4))
        #expect(engine.scheduler.nextPlan() == nil, "one plan at a time: b waits for the boundary")
        engine.clock.advance(by: .seconds(1))
        engine.record(engine.scheduler.planFinished(plan.id, outcome: .completed(engineTime: .seconds(1), freeMemoryBytes: nil)))
        guard case let .admit(ids, _)? = engine.runOne() else { Issue.record("b is admitted at the boundary"); return }
        #expect(ids == ["b"])
        guard case let .step(_, steps)? = engine.runOne() else { Issue.record("then a and b step together"); return }
        #expect(steps.map(\.job).sorted() == ["a", "b"])
    }

    @Test("the batch never exceeds what the memory model allows, whatever is queued")
    func memoryBound() {
        // 36 GB for weights + state + activations: with the 14B resident (28 GB) only 3 samples of 2 GB fit beside it.
        var engine = EnginePlayer { $0.maxBatchSize = 16 }
        for i in 0..<10 { engine.submit(JobID("l\(i)"), Jobs.spec(Models.large, steps: 2, priority: .batch)) }
        for i in 0..<10 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 3)) }
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.peakBytes <= engine.capacity)
        #expect(engine.steps.map(\.jobs.count).max() ?? 0 > 1, "it did batch")
        #expect(engine.finished.count == 20)
        for (expert, jobs) in engine.steps where expert == Models.largeKey { #expect(jobs.count <= 4) }
    }

    @Test("text encode is batched across the jobs admitted together")
    func admitBatched() {
        var engine = EnginePlayer()
        for i in 0..<4 { engine.submit(JobID("j\(i)"), Jobs.spec(steps: 2)) }
        engine.runOne()                        // load
        guard case let .admit(ids, _)? = engine.runOne() else { Issue.record("expected an admit"); return }
        #expect(ids.count == 4)
    }
}
