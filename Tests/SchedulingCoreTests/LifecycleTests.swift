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

    @Test("engine lost: jobs holding state go back to the queue and finish later; the core never gives up on its own")
    func engineLost() {
        var engine = EnginePlayer()
        engine.submit("a", Jobs.spec(steps: 4))
        for round in 1...4 {
            engine.runOne()                                  // load (residency was cleared by the last loss)
            guard case .admit? = engine.scheduler.nextPlan()?.action else { Issue.record("expected an admit"); return }
            let events = engine.scheduler.engineLost(reason: "killed \(round)")
            #expect(events.map(\.to) == [.queued], "round \(round): the store, not the core, ends a job out of attempts")
            #expect(events.first?.reason?.code == .engineCrashed)
            engine.resident = []; engine.admitted = [:]
        }
        engine.runUntilIdle()
        #expect(engine.state("a") == .succeeded)
        #expect(engine.loads.count >= 2, "residency was cleared: the model loads again")
    }

    @Test("engine lost: the crashed plan's jobs are suspects and run alone; bystanders lose their state without blame")
    func suspectsRunAlone() {
        var engine = EnginePlayer()
        engine.submit("short", Jobs.spec(steps: 1))
        engine.submit("long", Jobs.spec(steps: 3))
        engine.submit("other", Jobs.spec(steps: 3))
        engine.runOne(); engine.runOne(); engine.runOne()   // load, admit all three, one step for all three
        let crashedAt = engine.plans.count
        guard case let .decode(ids)? = engine.scheduler.nextPlan()?.action else { Issue.record("expected the decode of `short`"); return }
        #expect(ids == ["short"])
        engine.resident = []; engine.admitted = [:]
        let events = engine.scheduler.engineLost(reason: "segfault in decode")
        let reasons = Dictionary(uniqueKeysWithValues: events.map { ($0.job, $0.reason?.code) })
        #expect(reasons == ["short": .engineCrashed, "long": .engineRestarted, "other": .engineRestarted])
        #expect(events.allSatisfy { $0.to == .queued })
        engine.runUntilIdle()
        for id: JobID in ["short", "long", "other"] { #expect(engine.state(id) == .succeeded) }
        let shortPlans = engine.plans[crashedAt...].filter { $0.jobs.contains("short") }
        #expect(shortPlans.count >= 2 && shortPlans.allSatisfy { $0.jobs == ["short"] || $0.jobs.isEmpty }, "the suspect ran alone: \(shortPlans)")
    }

    @Test("an engine error that names one job of an admit fails that job only; its batch-mates are admitted again")
    func namedAdmitFailureSparesBatchMates() {
        var engine = EnginePlayer()
        for id: JobID in ["good", "bad", "fine"] { engine.submit(id, Jobs.spec(steps: 2)) }
        engine.runOne()                                     // load
        let plan = engine.scheduler.nextPlan()!
        guard case let .admit(ids, _) = plan.action, ids.count == 3 else { Issue.record("expected an admit of 3"); return }
        engine.record(engine.scheduler.planFinished(plan.id, outcome: .failed(code: .invalidValue, message: "input_reference is a truncated PNG", retryable: false, jobs: ["bad"])))
        engine.runUntilIdle()
        #expect(engine.state("bad") == .failed)
        #expect(engine.state("good") == .succeeded && engine.state("fine") == .succeeded)
    }

    @Test("an engine error that names no job of a batch retries every member alone, with an attempt counted")
    func unattributedFailureRetriesEveryone() {
        var engine = EnginePlayer()
        for id: JobID in ["x", "y"] { engine.submit(id, Jobs.spec(steps: 2)) }
        engine.runOne(); engine.runOne()                   // load, admit both
        let plan = engine.scheduler.nextPlan()!
        guard case let .step(_, steps) = plan.action, steps.count == 2 else { Issue.record("expected a step of 2"); return }
        let events = engine.scheduler.planFinished(plan.id, outcome: .failed(code: .engineError, message: "CUDA error: an illegal memory access", retryable: false, jobs: nil))
        engine.record(events)
        #expect(events.map(\.to) == [.queued, .queued] && events.allSatisfy { $0.reason?.code.countsAsAttempt == true })
        engine.runUntilIdle()
        #expect(engine.state("x") == .succeeded && engine.state("y") == .succeeded)
    }

    @Test("a single job the engine cannot fit even alone fails engine_out_of_memory, saying what to lower")
    func tooLargeAlone() {
        var engine = EnginePlayer()
        engine.submit("huge", Jobs.spec(steps: 2))
        engine.runOne(); engine.runOne()                   // load, admit
        let plan = engine.scheduler.nextPlan()!
        let events = engine.scheduler.planFinished(plan.id, outcome: .failed(code: .engineOutOfMemory, message: "CUDA out of memory", retryable: true, jobs: nil))
        #expect(events.map(\.to) == [.failed])
        #expect(events.first?.reason?.code == .engineOutOfMemory)
        #expect(events.first?.reason?.message.contains("lower num_frames") == true)
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
