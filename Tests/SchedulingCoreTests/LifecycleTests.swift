import SchedulingCore
import Testing
import TurboServeDomain

@Suite("TurboScheduler: cancel, engine loss, refusals, events")
struct LifecycleTests {
    @Test("cancel mid-denoise: cancelled at once, its state released next, its slot goes to the next job")
    func cancelFreesSlot() {
        var engine = EnginePlayer { $0.maxActiveJobs = 1 }
        engine.submit("a", Jobs.spec(steps: 4))
        engine.submit("b", Jobs.spec(steps: 4))
        engine.runOne(); engine.runOne(); engine.runOne()   // load, admit a (one slot), step a
        #expect(engine.scheduler.state(of: "a") == .denoising(completed: 1, total: 4))
        #expect(engine.scheduler.state(of: "b") == .queued, "b waits for the only slot")
        let events = engine.scheduler.cancel("a")
        #expect(events.map(\.to) == [.cancelled])
        #expect(engine.runOne() == .release(jobs: ["a"]))
        #expect(engine.runOne() == .admit(jobs: ["b"], model: Models.small))
        engine.runUntilIdle()
        #expect(engine.state("b") == .succeeded)
        #expect(!engine.steps.dropFirst().contains { $0.jobs.contains("a") }, "a never steps again")
    }

    @Test("cancelling a queued job removes it; cancelling an unknown or finished job does nothing")
    func cancelQueued() {
        var engine = EnginePlayer()
        engine.submit("a", Jobs.spec(steps: 1))
        #expect(engine.scheduler.cancel("a").map(\.to) == [.cancelled])
        #expect(engine.scheduler.cancel("a").isEmpty)
        #expect(engine.scheduler.cancel("nobody").isEmpty)
        engine.runUntilIdle()
        #expect(engine.steps.isEmpty)
    }

    @Test("engine lost: jobs holding state go back to the queue and finish later; out of attempts they fail")
    func engineLost() {
        var engine = EnginePlayer { $0.maxAttempts = 2 }
        engine.submit("a", Jobs.spec(steps: 4))
        engine.runOne(); engine.runOne(); engine.runOne()
        engine.resident = []; engine.admitted = [:]
        let events = engine.scheduler.engineLost(reason: "killed")
        #expect(events.map(\.to) == [.queued])
        #expect(events.first?.reason?.code == .engineCrashed)
        engine.runOne(); engine.runOne(); engine.runOne()
        engine.resident = []; engine.admitted = [:]
        #expect(engine.scheduler.engineLost(reason: "killed again").map(\.to) == [.failed])
        var fresh = EnginePlayer()
        fresh.submit("b", Jobs.spec(steps: 2))
        fresh.runOne(); fresh.runOne(); fresh.runOne()
        fresh.resident = []; fresh.admitted = [:]
        _ = fresh.scheduler.engineLost(reason: "killed")
        fresh.runUntilIdle()
        #expect(fresh.state("b") == .succeeded)
        #expect(fresh.loads == [Models.smallKey, Models.smallKey], "residency was cleared: the model loads again")
    }

    @Test("a batch the engine refuses for memory is retried smaller; nobody fails")
    func refusedBatch() {
        var engine = EnginePlayer()
        for i in 0..<3 { engine.submit(JobID("j\(i)"), Jobs.spec(steps: 2)) }
        engine.runOne(); engine.runOne()                   // load, admit all three
        let plan = engine.scheduler.nextPlan()!
        guard case let .step(_, steps) = plan.action, steps.count == 3 else { Issue.record("expected a step of 3"); return }
        engine.record(engine.scheduler.planFinished(plan.id, outcome: .failed(code: .engineOutOfMemory, message: "oom", retryable: true, jobs: nil)))
        guard case let .step(_, retry)? = engine.runOne() else { Issue.record("expected a retry"); return }
        #expect(retry.count == 2)
        engine.runUntilIdle()
        #expect(engine.finished.count == 3)
        #expect(!engine.events.contains { $0.to == .failed })
    }

    @Test("a failed step counts its expert as gone: the engine dropped it, so the retry loads it again first")
    func failedStepReloads() {
        var engine = EnginePlayer()
        engine.submit("a", Jobs.spec(steps: 2))
        engine.runOne(); engine.runOne()                   // load, admit
        let plan = engine.scheduler.nextPlan()!
        guard case let .step(expert, _) = plan.action else { Issue.record("expected a step"); return }
        engine.resident.remove(expert)                     // the engine's copy of the weights failed and was dropped
        engine.record(engine.scheduler.planFinished(plan.id, outcome: .failed(code: .engineError, message: "copy failed", retryable: true, jobs: nil)))
        engine.runUntilIdle()
        #expect(engine.plans.filter { $0 == .load(expert) }.count == 2, "\(engine.plans)")
        #expect(engine.finished["a"] != nil)
        #expect(engine.violations.isEmpty, "\(engine.violations)")
    }

    @Test("every event is an allowed transition and each job's events form one path to its end")
    func eventPaths() {
        var engine = EnginePlayer()
        for i in 0..<6 { engine.submit(JobID("j\(i)"), Jobs.spec(i % 2 == 0 ? Models.small : Models.i2v, steps: 1 + i % 4)) }
        engine.runUntilIdle()
        for id in (0..<6).map({ JobID("j\($0)") }) {
            let path = engine.events.filter { $0.job == id }
            #expect(path.first?.from == .queued)
            #expect(path.last?.to == .succeeded)
            for (a, b) in zip(path, path.dropFirst()) { #expect(a.to == b.from) }
            for event in path { #expect(event.from.canTransition(to: event.to)) }
        }
    }
}
