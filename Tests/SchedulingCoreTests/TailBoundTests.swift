import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: the tail's bounds (yield, batches that pay, phase grouping that pays)")
struct TailBoundTests {
    /// A 4-step 1.3B job (isolated 4.6 s, deadline 12 s) aimed at its isolated latency (`targetWait` 0), so it is late
    /// as soon as anything runs first; 1-step jobs (isolated 1.6 s, deadline 3 s) arrive one every 1.6 s for 20 s and
    /// are always on time. Returns when the long job finished.
    static func lateLongJobUnderShortJobs(yieldBound: Double?) -> Double {
        var engine = EnginePlayer {
            $0.targetWait = .zero
            $0.maxBatchSize = 1
            $0.preload = [Models.smallKey]
            $0.tailYieldDeadlineFraction = yieldBound
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        let start = engine.now
        engine.submit("s0", Jobs.spec(Models.small, steps: 1, deadline: 3))
        engine.submit("long", Jobs.spec(Models.small, steps: 4, deadline: 12))
        var next = start + 1.6, count = 1
        while engine.now < start + 40 {
            while next <= engine.now, next < start + 20 {
                engine.submit(JobID("s\(count)"), Jobs.spec(Models.small, steps: 1, deadline: 3))
                count += 1
                next += 1.6
            }
            if engine.runOne() == nil { engine.clock.advance(by: .milliseconds(100)) }
        }
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.finished.count == count + 1, "every job finishes")
        return engine.finished["long"]!.seconds - start
    }

    @Test("a late job yields at most half the room to its deadline's latest start, so it still makes its deadline")
    func yieldBoundedByDeadline() {
        let bounded = Self.lateLongJobUnderShortJobs(yieldBound: 0.5)
        let unbounded = Self.lateLongJobUnderShortJobs(yieldBound: nil)
        #expect(bounded <= 12, "bounded: the long job finishes by its deadline (\(bounded) s)")
        #expect(unbounded > 12, "unbounded (twice its work): it yields past its deadline (\(unbounded) s)")
    }

    @Test("batches that pay: 1.3B samples share a step (+0.41 of a solo step), 14B samples (+1.0) run one by one")
    func batchesThatPay() {
        var engine = EnginePlayer { $0.maxBatchSize = 4; $0.batchPayFraction = 0.8 }
        for i in 0..<3 { engine.submit(JobID("l\(i)"), Jobs.spec(Models.large, steps: 2, priority: .batch, deadline: 1_000)) }
        for i in 0..<3 { engine.submit(JobID("s\(i)"), Jobs.spec(Models.small, steps: 2, deadline: 1_000)) }
        engine.runUntilIdle()
        let large = engine.steps.filter { $0.expert == Models.largeKey }.map(\.jobs.count)
        let small = engine.steps.filter { $0.expert == Models.smallKey }.map(\.jobs.count)
        #expect(large == [1, 1, 1, 1, 1, 1], "\(large)")
        #expect(small.max() == 3, "\(small)")
        var unpaid = EnginePlayer { $0.maxBatchSize = 4; $0.batchPayFraction = nil }
        for i in 0..<3 { unpaid.submit(JobID("l\(i)"), Jobs.spec(Models.large, steps: 2, priority: .batch, deadline: 1_000)) }
        unpaid.runUntilIdle()
        #expect(unpaid.steps.map(\.jobs.count).max() == 3, "without the rule the 14B jobs batch")
        #expect(engine.finished["l0"]! < unpaid.finished["l0"]!, "the first 14B job finishes sooner alone")
        #expect(engine.violations.isEmpty)
        #expect(unpaid.violations.isEmpty)
    }

    /// Two I2V jobs (4 steps: 2 high-noise, 2 low-noise), half a second apart, aimed at their isolated latency plus
    /// `targetWait` (by default none: only the phase-grouping rule may let the second job's high-noise steps go first).
    static func twoI2VJobs(loadSeconds: Double, targetWait: Duration = .zero) -> EnginePlayer {
        var engine = EnginePlayer(cost: RoundCost(loadSeconds: loadSeconds)) { $0.targetWait = targetWait; $0.batchPayFraction = 0.8 }
        engine.submit("a", Jobs.spec(Models.i2v, steps: 4, priority: .batch, deadline: 1_000))
        engine.clock.advance(by: .milliseconds(500))   // b is due half a second after a
        engine.submit("b", Jobs.spec(Models.i2v, steps: 4, priority: .batch, deadline: 1_000))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        return engine
    }

    @Test("expert-phase grouping only when the switches it saves cost more than the wait: with streamed loads the first job finishes first")
    func phaseGroupingPays() {
        let upstream = Self.twoI2VJobs(loadSeconds: 5)
        #expect(upstream.steps.map(\.expert) == [Models.high, Models.high, Models.high, Models.high, Models.low, Models.low, Models.low, Models.low])
        let streamed = Self.twoI2VJobs(loadSeconds: 0.2)
        #expect(streamed.steps.map(\.expert) == [Models.high, Models.high, Models.low, Models.low, Models.high, Models.high, Models.low, Models.low])
        let firstFour: [[JobID]] = streamed.steps.prefix(4).map(\.jobs)
        #expect(firstFour == [["a"], ["a"], ["a"], ["a"]])
        #expect(streamed.finished["a"]! < streamed.finished["b"]!)
        let streamedA: Double = streamed.finished["a"]!.seconds
        let upstreamA: Double = upstream.finished["a"]!.seconds
        #expect(streamedA < upstreamA - 10, "job a no longer waits for b's high-noise phase")
    }

    @Test("slack to its target does not let the other expert phase of the same model go first: the first I2V job finishes first")
    func targetSlackDoesNotGroupPhases() {
        let engine = Self.twoI2VJobs(loadSeconds: 0.2, targetWait: .seconds(60))
        #expect(engine.steps.map(\.expert) == [Models.high, Models.high, Models.low, Models.low, Models.high, Models.high, Models.low, Models.low])
        #expect(engine.steps.prefix(4).allSatisfy { $0.jobs == ["a"] }, "\(engine.steps.map(\.jobs))")
        #expect(engine.finished["a"]! < engine.finished["b"]!)
    }
}
