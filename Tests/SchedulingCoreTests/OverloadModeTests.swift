import SchedulingCore
import Testing
import TurboServeDomain

@Suite("OverloadSignal: overloaded by the share of recent jobs that missed their deadline, with hysteresis")
struct OverloadSignalTests {
    @Test("turns on past the enter share once half the window is seen, stays on in between, turns off at the exit share")
    func hysteresis() {
        var signal = OverloadSignal(window: 10, enterMissFraction: 0.7, exitMissFraction: 0.3)
        for _ in 0..<4 { signal.record(missed: true) }
        #expect(!signal.isOverloaded, "four outcomes are less than half the window")
        #expect(signal.counted == 4 && signal.missed == 4)
        signal.record(missed: true)
        #expect(signal.isOverloaded, "five of five missed")
        for _ in 0..<5 { signal.record(missed: false) }
        #expect(signal.isOverloaded, "five of ten missed is between the shares: still on")
        #expect(signal.counted == 10 && signal.missed == 5)
        signal.record(missed: false)
        signal.record(missed: false)
        #expect(!signal.isOverloaded, "three of the last ten missed: off")
        #expect(signal.counted == 10 && signal.missed == 3, "the window keeps the last ten outcomes")
        for _ in 0..<7 { signal.record(missed: true) }
        #expect(!signal.isOverloaded, "seven of the last ten is not past 0.7: stays off")
        signal.record(missed: true)
        #expect(signal.isOverloaded, "eight of the last ten missed: on again")
    }
}

@Suite("TurboScheduler: overload mode (under overload, work past its deadline yields to work that can still make it)")
struct OverloadModeTests {
    /// The 1.3B resident, batches of one, after `count` 1-step 1.3B jobs due in `deadline` s (1.6 s of work each: due
    /// in 0.1 s every one misses, due in 100 s none does) have finished.
    static func warmedUp(deadline: Double, count: Int = 10, configure: (inout TurboSchedulerConfiguration) -> Void = { _ in }) -> EnginePlayer {
        var engine = EnginePlayer {
            $0.maxBatchSize = 1
            $0.preload = [Models.smallKey]
            configure(&$0)
        }
        #expect(engine.runOne() == .load(Models.smallKey))
        for i in 0..<count { engine.submit(JobID("warm\(i)"), Jobs.spec(Models.small, steps: 1, deadline: deadline)) }
        engine.runUntilIdle()
        return engine
    }

    /// After the warm-up (`warmedUp`) with jobs due in `warmUpDeadline` s: three 4-step 1.3B jobs due in 1 s (4.6 s of
    /// work each: they miss whatever happens) and one 1-step 1.3B job due in 6 s. All four share a step group, so the
    /// deadline rescue (which looks across groups) has no say. Returns when the 1-step job finished, from its submission.
    static func dueBehindMissedWork(warmUpDeadline: Double, missedYield: Duration? = .seconds(200)) -> (finished: Double, overloaded: Bool) {
        var engine = warmedUp(deadline: warmUpDeadline) { $0.missedYield = missedYield }
        let overloaded = engine.scheduler.deadlineHealth?.overloaded == true
        let start = engine.now
        for i in 0..<3 { engine.submit(JobID("missed\(i)"), Jobs.spec(Models.small, steps: 4, priority: .interactive, deadline: 1)) }
        engine.submit("due", Jobs.spec(Models.small, steps: 1, priority: .batch, deadline: 6))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        #expect(engine.finished.count == 14, "every job finishes")
        return (engine.finished["due"]!.seconds - start, overloaded)
    }

    @Test("overloaded: the job that can still make its deadline goes before the missed work, and makes it")
    func missedWorkYieldsUnderOverload() {
        let (due, overloaded) = Self.dueBehindMissedWork(warmUpDeadline: 0.1)
        #expect(overloaded, "ten of ten missed")
        #expect(due <= 6, "the job due in 6 s makes it (\(due) s)")
    }

    @Test("not overloaded, or with the missed yield off, the missed work keeps its turn (the tail objective's order)")
    func missedWorkKeepsItsTurnOtherwise() {
        let (calm, overloaded) = Self.dueBehindMissedWork(warmUpDeadline: 100)
        #expect(!overloaded)
        #expect(calm > 6, "the missed work goes first (\(calm) s)")
        let (off, _) = Self.dueBehindMissedWork(warmUpDeadline: 0.1, missedYield: nil)
        #expect(off > 6, "no missed yield: the missed work goes first (\(off) s)")
    }

    /// After the warm-up (`warmedUp`) with jobs due in `warmUpDeadline` s: a 4-step 1.3B job due in 6 s (4.6 s of work: it can make it when
    /// submitted), two 1-step jobs due in 3.5 s (which go first, and after the first of which the 4-step job can no
    /// longer make its deadline) and a 1-step job due in 20 s. Returns the order the four finished in.
    static func turnsMissedWhileWaiting(warmUpDeadline: Double) -> [JobID] {
        var engine = warmedUp(deadline: warmUpDeadline)
        engine.submit("long", Jobs.spec(Models.small, steps: 4, deadline: 6))
        engine.submit("soon1", Jobs.spec(Models.small, steps: 1, deadline: 3.5))
        engine.submit("soon2", Jobs.spec(Models.small, steps: 1, deadline: 3.5))
        engine.submit("later", Jobs.spec(Models.small, steps: 1, deadline: 20))
        engine.runUntilIdle()
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        let ids: [JobID] = ["long", "soon1", "soon2", "later"]
        return ids.sorted { engine.finished[$0]! < engine.finished[$1]! }
    }

    @Test("a waiting job that turns missed with time alone yields under overload, and keeps its turn otherwise")
    func turnsMissedWhileWaiting() {
        #expect(Self.turnsMissedWhileWaiting(warmUpDeadline: 0.1) == ["soon1", "soon2", "later", "long"])
        #expect(Self.turnsMissedWhileWaiting(warmUpDeadline: 100) == ["soon1", "soon2", "long", "later"])
    }

    @Test("once jobs make their deadlines again overload mode ends, and the missed job gets its turn")
    func overloadEndsAndTheMissedJobRuns() throws {
        let window = 20, exit = 0.3
        let misses = window / 2
        var engine = Self.warmedUp(deadline: 0.1, count: misses) {
            $0.overloadWindow = window
            $0.overloadExitMissFraction = exit
        }
        #expect(engine.scheduler.deadlineHealth == DeadlineHealth(window: window, jobsCounted: misses, jobsMissed: misses, overloaded: true))
        engine.submit("old", Jobs.spec(Models.small, steps: 4, priority: .interactive, deadline: 1))
        // Always one job waiting that can make its deadline: each goes before the missed one while the mode lasts.
        var submitted: [JobID] = []
        for _ in 0..<10_000 where engine.finished["old"] == nil {
            if submitted.allSatisfy({ engine.finished[$0] != nil }) {
                submitted.append(JobID("ok\(submitted.count)"))
                engine.submit(submitted.last!, Jobs.spec(Models.small, steps: 1, priority: .batch, deadline: 8))
            }
            engine.runOne()
        }
        let old = engine.finished["old"]!
        let ahead = submitted.filter { engine.finished[$0].map { $0 < old } ?? false }.count
        #expect(engine.violations.isEmpty, "\(engine.violations)")
        let health = try #require(engine.scheduler.deadlineHealth)
        #expect(!health.overloaded && health.jobsCounted == window)
        #expect(health.missRatio <= exit, "off only once at most the exit share of the window missed: \(health)")
        // The window holds `misses` misses after the warm-up; each job that makes its deadline pushes one outcome
        // out once the window is full. Off once at most `exit × window` of the last `window` missed.
        let expected = window - Int((exit * Double(window)).rounded(.down))
        #expect(ahead == expected, "\(ahead) jobs went before the missed one; the mode should last \(expected) completions")
    }
}
