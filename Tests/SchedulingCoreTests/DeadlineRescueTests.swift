import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: deadline rescue (work already late does not make a job that can still make it miss)")
struct DeadlineRescueTests {
    /// The 1.3B resident; five 4-step 1.3B jobs whose 1 s deadline nobody can meet (4.6 s of work each, aimed at
    /// that deadline, so they lead the order), then one 4-step 14B job (16.6 s of work, a 5 s load) due in 30 s: its
    /// slack (8.4 s) reaches the horizon (0.25 × 16.6 s) after five of the twenty late steps. Returns the engine and when
    /// the jobs were submitted.
    static func lateWorkAhead(rescue: Double?, objective: SchedulingObjective = .tail) -> (EnginePlayer, submitted: Double) {
        var engine = EnginePlayer {
            $0.maxBatchSize = 1
            $0.preload = [Models.smallKey]
            $0.objective = objective
            $0.rescueHorizonFraction = rescue
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        let submitted = engine.now
        for i in 0..<5 { engine.submit(JobID("late\(i)"), Jobs.spec(Models.small, steps: 4, priority: .interactive, deadline: 1)) }
        engine.submit("due", Jobs.spec(Models.large, steps: 4, priority: .batch, deadline: 30))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.finished.count == 6, "every job finishes")
        return (engine, submitted)
    }

    @Test("the 14B job that can still make its deadline goes before the late 1.3B work, and makes it", arguments: [SchedulingObjective.tail, .arrival])
    func rescuesTheJobThatCanStillMakeIt(objective: SchedulingObjective) {
        let (rescued, start) = Self.lateWorkAhead(rescue: 0.25, objective: objective)
        let due = rescued.finished["due"]!.seconds - start
        #expect(due <= 30, "with the rescue the 14B job makes its deadline (\(due) s)")
        let lateStepsFirst = rescued.steps.prefix { $0.expert == Models.smallKey }.count
        #expect(lateStepsFirst < 20, "its steps start before the late work is done: \(rescued.steps.map(\.expert))")
        let (unrescued, unrescuedStart) = Self.lateWorkAhead(rescue: nil, objective: objective)
        let late = unrescued.finished["due"]!.seconds - unrescuedStart
        #expect(late > 30, "without it the late work goes first and the 14B job misses too (\(late) s)")
    }

    /// Both models resident; one 4-step 14B job whose 1 s deadline nobody can meet (16.6 s of work), then one 1-step
    /// 1.3B job (1.6 s of work) due in 8 s: running the late job first would make it miss. Returns when the short job finished,
    /// from submission.
    static func shortJobBehindLateWork(objective: SchedulingObjective) -> Double {
        var engine = EnginePlayer {
            $0.maxBatchSize = 1
            $0.preload = [Models.smallKey, Models.largeKey]
            $0.objective = objective
        }
        while engine.resident.count < 2, engine.runOne() != nil {}
        let start = engine.now
        engine.submit("late", Jobs.spec(Models.large, steps: 4, priority: .interactive, deadline: 1))
        engine.submit("short", Jobs.spec(Models.small, steps: 1, priority: .batch, deadline: 8))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        return engine.finished["short"]!.seconds - start
    }

    @Test("under arrival a short job passes late work whose length would make it miss; under tail the late job keeps its bounded turn")
    func behindLateWorkOnlyUnderArrival() {
        let underArrival = Self.shortJobBehindLateWork(objective: .arrival)
        #expect(underArrival <= 8, "arrival: the short job makes its deadline (\(underArrival) s)")
        let underTail = Self.shortJobBehindLateWork(objective: .tail)
        #expect(underTail > 8, "tail: the late job is not passed for the whole of its work (\(underTail) s)")
    }

    @Test("a lead that can still make its deadline is not passed")
    func feasibleLeadKeepsItsTurn() {
        var engine = EnginePlayer {
            $0.maxBatchSize = 1
            $0.preload = [Models.smallKey]
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        let start = engine.now
        engine.submit("short", Jobs.spec(Models.small, steps: 4, priority: .interactive, deadline: 5))
        engine.submit("due", Jobs.spec(Models.large, steps: 1, priority: .batch, deadline: 12))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.finished["short"]!.seconds - start <= 5, "the lead makes its deadline")
        #expect(engine.finished["short"]! < engine.finished["due"]!, "and goes first although the 14B job then misses")
        #expect(engine.finished["due"]!.seconds - start > 12)
    }
}
