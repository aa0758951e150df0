import Foundation
import SchedulingCore
import Testing
import TurboServeDomain

@Suite("Step times learned from measured plans")
struct LearnedCostTests {
    static let key = StepTimings.Key(expert: Models.smallKey, shape: Jobs.spec().shapeKey, batchSize: 1)

    @Test("the window keeps the newest samples; the median ignores a single outlier and non-finite or non-positive values")
    func windowedMedian() {
        var timings = StepTimings(window: 5)
        #expect(timings.median(Self.key) == nil)
        for seconds in [1.0, 1.1, 50.0, 0.9, 1.0] { timings.record(Self.key, seconds: seconds) }
        timings.record(Self.key, seconds: .nan)
        timings.record(Self.key, seconds: -1)
        #expect(timings.median(Self.key) == 1.0)
        for seconds in [2.0, 2.0, 2.0] { timings.record(Self.key, seconds: seconds) }
        #expect(timings.samples[Self.key]?.count == 5)
        #expect(timings.median(Self.key) == 2.0, "a lasting change wins after half a window")
    }

    @Test("timings survive a JSON round trip (what the shell persists across restarts)")
    func codable() throws {
        var timings = StepTimings()
        timings.record(Self.key, seconds: 1.25)
        let decoded = try JSONDecoder().decode(StepTimings.self, from: JSONEncoder().encode(timings))
        #expect(decoded == timings)
    }

    @Test("an engine 1.6× slower than the prior, noisy, with one 10× outlier every 7 plans: the estimate is within 20% of measured within 50 plans")
    func convergesOnTheEnginePlayer() {
        var engine = EnginePlayer { $0.maxBatchSize = 1 }
        var plan = 0
        var noise = 0.0
        engine.measuredStep = { prior in
            plan += 1
            noise = (noise + 0.37).truncatingRemainder(dividingBy: 0.2)   // deterministic ±10% jitter
            let factor = plan % 7 == 0 ? 16.0 : 1.6 * (0.9 + noise)
            return prior * factor
        }
        let group = StepGroup(expert: Models.smallKey, shape: Jobs.spec().shapeKey)
        let prior = RoundCost().stepTime(shape: group.shape, expert: group.expert, batchSize: 1)
        for i in 0..<13 { engine.submit(JobID("j\(i)"), Jobs.spec(Models.small, steps: 4, deadline: 1_000)) }
        while plan < 50, engine.runOne() != nil {}
        #expect(plan >= 50 || engine.finished.count == 13)
        let estimate: Double = engine.scheduler.estimatedStepTime(group, batchSize: 1).seconds
        let measured: Double = prior.seconds * 1.6
        let error: Double = abs(estimate / measured - 1)
        #expect(error <= 0.2, "estimate \(estimate) vs measured \(measured)")
        #expect(engine.scheduler.stepTimings.samples.keys.allSatisfy { $0.batchSize == 1 })
        // A batch size never measured is the prior scaled by what batch 1 taught.
        let four: Double = engine.scheduler.estimatedStepTime(group, batchSize: 4).seconds
        let fourMeasured: Double = RoundCost().stepTime(shape: group.shape, expert: group.expert, batchSize: 4).seconds * 1.6
        let fourError: Double = abs(four / fourMeasured - 1)
        #expect(fourError <= 0.2)
    }

    @Test("what a core learned, reported as learned steps, restores a fresh core to the same estimates (a restarted worker)")
    func learnedStepsRestore() throws {
        var engine = EnginePlayer { $0.maxBatchSize = 1 }
        engine.measuredStep = { $0 * 2.5 }
        for i in 0..<3 { engine.submit(JobID("j\(i)"), Jobs.spec(Models.small, steps: 4)) }
        engine.runUntilIdle()
        let group = StepGroup(expert: Models.smallKey, shape: Jobs.spec().shapeKey)
        let learned = engine.scheduler.learnedSteps
        let step = try #require(learned.first)
        #expect(learned.count == 1 && step.batchSize == 1 && step.samples.count == 12)
        #expect(abs(step.estimateSeconds / step.priorSeconds - 2.5) < 1e-9, "the report says what is planned with and what the prior said")

        var fresh = EnginePlayer { $0.maxBatchSize = 1 }
        #expect(fresh.scheduler.estimatedStepTime(group, batchSize: 1) != engine.scheduler.estimatedStepTime(group, batchSize: 1))
        fresh.scheduler.restoreLearnedSteps(learned)
        #expect(fresh.scheduler.estimatedStepTime(group, batchSize: 1) == engine.scheduler.estimatedStepTime(group, batchSize: 1))
        #expect(fresh.scheduler.learnedSteps == learned)
    }

    @Test("decode times are learned too, and a job submitted afterwards gets a deadline from the engine measured")
    func decodeIsLearnedAndMovesDeadlines() throws {
        var engine = EnginePlayer { $0.maxBatchSize = 1 }
        engine.measuredDecode = { $0 * 20 }
        let priorDecode = RoundCost().decodeTime(shape: Jobs.spec().shapeKey)
        engine.submit("before", Jobs.spec(Models.small, steps: 2))
        let before = engine.clock.now.duration(to: try #require(engine.scheduler.deadline(of: "before")))
        engine.runUntilIdle()
        for i in 0..<3 { engine.submit(JobID("j\(i)"), Jobs.spec(Models.small, steps: 2)) }
        engine.runUntilIdle()
        engine.submit("after", Jobs.spec(Models.small, steps: 2))
        let after = engine.clock.now.duration(to: try #require(engine.scheduler.deadline(of: "after")))
        #expect(after - before >= priorDecode * 19, "the deadline budget grew by at least the decode time it learned (\(before) → \(after))")

        var unlearned = EnginePlayer { $0.maxBatchSize = 1; $0.learnStepTimes = false }
        unlearned.measuredDecode = { $0 * 20 }
        unlearned.submit("before", Jobs.spec(Models.small, steps: 2))
        unlearned.runUntilIdle()
        unlearned.submit("after", Jobs.spec(Models.small, steps: 2))
        #expect(unlearned.clock.now.duration(to: try #require(unlearned.scheduler.deadline(of: "after"))) == before, "learning off: the prior decides")
    }

    /// What the core reports of its learned stages is what a restarted core plans with: the reported decode
    /// estimate, restored into a fresh core, gives the same deadline as the core that measured it.
    @Test func learnedStagesAreReportedAndARestoredCorePlansWithThem() throws {
        var engine = EnginePlayer { $0.maxBatchSize = 1 }
        engine.measuredDecode = { $0 * 20 }
        for i in 0..<3 { engine.submit(JobID("j\(i)"), Jobs.spec(Models.small, steps: 2)) }
        engine.runUntilIdle()
        let learned = engine.scheduler.learnedStages
        let decode = try #require(learned.first { $0.stage == .decode })
        #expect(decode.samples.count == 3 && decode.task == nil)
        #expect(abs(decode.estimateSeconds - decode.priorSeconds * 20) < 1e-9, "the estimate is the measured 20× prior")
        #expect(learned.contains { $0.stage == .admit && $0.task == .textToVideo })

        engine.submit("after", Jobs.spec(Models.small, steps: 2))
        let measuredBudget = engine.clock.now.duration(to: try #require(engine.scheduler.deadline(of: "after")))
        var restarted = EnginePlayer { $0.maxBatchSize = 1 }
        restarted.scheduler.restoreLearnedStages(learned)
        #expect(restarted.scheduler.learnedStages == learned)
        restarted.submit("after", Jobs.spec(Models.small, steps: 2))
        #expect(restarted.clock.now.duration(to: try #require(restarted.scheduler.deadline(of: "after"))) == measuredBudget)
    }

    @Test("with learning off, the estimate stays the prior")
    func learningOff() {
        var engine = EnginePlayer { $0.learnStepTimes = false }
        engine.measuredStep = { $0 * 3 }
        engine.submit("a", Jobs.spec(Models.small, steps: 4))
        engine.runUntilIdle()
        let group = StepGroup(expert: Models.smallKey, shape: Jobs.spec().shapeKey)
        let prior: Duration = RoundCost().stepTime(shape: group.shape, expert: group.expert, batchSize: 1)
        let estimate: Duration = engine.scheduler.estimatedStepTime(group, batchSize: 1)
        #expect(estimate == prior)
    }
}
