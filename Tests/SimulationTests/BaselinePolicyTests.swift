import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain

@Suite("Baseline policies")
struct BaselinePolicyTests {
    func job(_ id: String, _ c: WorkloadClass, clock: VirtualClock) throws -> SchedulerJob<VirtualClock.Instant> {
        SchedulerJob(id: JobID(id), spec: try c.validatedJob(seed: 1, deadlineSeconds: nil), arrival: clock.now)
    }

    /// Plays the engine by hand: every plan completes at once. Returns the plans in order.
    func play<P: SchedulingPolicy>(_ policy: inout P, clock: VirtualClock, limit: Int = 200) -> [PlanAction] where P.C == VirtualClock {
        var actions: [PlanAction] = []
        while actions.count < limit, let plan = policy.nextPlan() {
            actions.append(plan.action)
            clock.advance(by: .seconds(1))
            for event in policy.planFinished(plan.id, outcome: .completed(engineTime: .seconds(1), freeMemoryBytes: nil)) where event.to == .muxing {
                _ = policy.outputFinished(event.job, error: nil)
            }
        }
        return actions
    }

    @Test("serial: one job at a time, FIFO, parse and mux on the engine path, I2V swaps experts")
    func serialPlans() throws {
        let clock = VirtualClock()
        var serial = SerialPolicy<VirtualClock>.serial(clock: clock, memory: try TestSupport.cost())
        _ = try serial.submit(job("a", TestSupport.i2v, clock: clock))
        _ = try serial.submit(job("b", TestSupport.t2v, clock: clock))
        let actions = play(&serial, clock: clock)
        let high = ModelKey(model: "wan2.2-i2v-a14b", expert: .highNoise), low = ModelKey(model: "wan2.2-i2v-a14b", expert: .lowNoise)
        let small = ModelKey(model: "wan2.1-t2v-1.3b")
        let expected: [PlanAction] = [
            .onEnginePath(.parse, jobs: ["a"]), .load(high), .admit(jobs: ["a"], model: high.model),
            .step(expert: high, steps: [JobStep(job: "a", index: 0, total: 4)]), .step(expert: high, steps: [JobStep(job: "a", index: 1, total: 4)]),
            .unload(high), .load(low),
            .step(expert: low, steps: [JobStep(job: "a", index: 2, total: 4)]), .step(expert: low, steps: [JobStep(job: "a", index: 3, total: 4)]),
            .decode(jobs: ["a"]), .onEnginePath(.mux, jobs: ["a"]),
            .onEnginePath(.parse, jobs: ["b"]), .load(small), .admit(jobs: ["b"], model: small.model),
            .step(expert: small, steps: [JobStep(job: "b", index: 0, total: 2)]), .step(expert: small, steps: [JobStep(job: "b", index: 1, total: 2)]),
            .decode(jobs: ["b"]), .onEnginePath(.mux, jobs: ["b"]),
        ]
        #expect(actions == expected)
    }

    @Test("serial in the simulator: jobs start in arrival order and never overlap")
    func serialFIFO() throws {
        let setup = try TestSupport.smallSetup()
        let result = try #require(PolicyCatalog.entry(named: "serial", calibration: TestSupport.calibration())).run(setup)
        #expect(result.jobs.allSatisfy { $0.status == .succeeded })
        let byArrival = result.jobs.sorted { $0.arrival < $1.arrival }
        for (earlier, later) in zip(byArrival, byArrival.dropFirst()) {
            #expect(try #require(later.firstService) >= (try #require(earlier.finished)) - 1e-9)
        }
    }

    @Test("seed: I2V first, then 4-step, then the rest; batch size from the published free-memory table")
    func seedOrder() throws {
        let clock = VirtualClock()
        let calibration = try TestSupport.calibration()
        var seed = SeedPolicy(clock: clock, memory: try TestSupport.cost(), published: calibration.publishedExperiment.scheduledPolicy)
        let preloads = play(&seed, clock: clock)
        #expect(preloads == [.load(ModelKey(model: "wan2.1-t2v-1.3b")), .load(ModelKey(model: "wan2.2-i2v-a14b", expert: .highNoise))])
        _ = try seed.submit(job("t1", TestSupport.t2v, clock: clock))
        _ = try seed.submit(job("t2", TestSupport.t2v, clock: clock))
        _ = try seed.submit(job("big", TestSupport.hq14, clock: clock))
        _ = try seed.submit(job("i", TestSupport.i2v, clock: clock))
        let admits = play(&seed, clock: clock).compactMap { action -> [JobID]? in
            if case let .admit(jobs, _) = action { return jobs }
            return nil
        }
        // With the 1.3B and a 14B network resident only 4.7 GB are free: batch size 1 by the published table.
        #expect(admits == [["i"], ["big"], ["t1"], ["t2"]])
        #expect(SeedRule(batchSizeByFreeGB: [(35, 4), (20, 3), (10, 2), (0, 1)]).batchSize(freeBytes: 33_000_000_000) == 3)
    }

    @Test("seed: a same-model job that arrives mid-denoise joins the running jobs at the next step boundary")
    func seedJoins() throws {
        let clock = VirtualClock()
        let calibration = try TestSupport.calibration()
        var published = calibration.publishedExperiment.scheduledPolicy
        published.modelCache.preload = ["wan2.1-t2v-1.3b"]
        var seed = SeedPolicy(clock: clock, memory: try TestSupport.cost(), published: published)
        _ = play(&seed, clock: clock)
        _ = try seed.submit(job("a", TestSupport.hq14.with(model: "wan2.1-t2v-1.3b"), clock: clock))
        for _ in 0..<2 {
            let next = seed.nextPlan()
            let plan = try #require(next)
            _ = seed.planFinished(plan.id, outcome: .completed(engineTime: .seconds(1), freeMemoryBytes: nil))
        }
        _ = try seed.submit(job("b", TestSupport.hq14.with(model: "wan2.1-t2v-1.3b"), clock: clock))
        let actions = play(&seed, clock: clock)
        let small = ModelKey(model: "wan2.1-t2v-1.3b")
        #expect(actions.prefix(2) == [.admit(jobs: ["b"], model: small.model), .step(expert: small, steps: [JobStep(job: "a", index: 1, total: 4), JobStep(job: "b", index: 0, total: 4)])])
    }

    @Test("dynamic-batch: waits up to its queue delay for a fuller batch, then runs same-shape jobs together")
    func dynamicBatch() throws {
        let clock = VirtualClock()
        var policy = DynamicBatchPolicy<VirtualClock>.dynamicBatch(clock: clock, memory: try TestSupport.cost())
        _ = try policy.submit(job("a", TestSupport.t2v, clock: clock))
        #expect(policy.nextPlan() == nil)
        #expect(policy.nextWakeup() == clock.now.advanced(by: .seconds(0.5)))
        _ = try policy.submit(job("b", TestSupport.t2v, clock: clock))
        clock.advance(by: .seconds(0.5))
        let actions = play(&policy, clock: clock)
        #expect(actions.contains(.admit(jobs: ["a", "b"], model: "wan2.1-t2v-1.3b")))
    }

    @Test("cancel mid-denoise frees the job's engine state with a release plan")
    func cancel() throws {
        let clock = VirtualClock()
        var serial = SerialPolicy<VirtualClock>.serial(clock: clock, memory: try TestSupport.cost())
        _ = try serial.submit(job("a", TestSupport.t2v, clock: clock))
        for _ in 0..<4 {
            let next = serial.nextPlan()
            let plan = try #require(next)
            _ = serial.planFinished(plan.id, outcome: .completed(engineTime: .seconds(1), freeMemoryBytes: nil))
        }
        let events = serial.cancel("a")
        #expect(events.map(\.to) == [.cancelled])
        #expect(serial.nextPlan()?.action == .release(jobs: ["a"]))
    }

    @Test("the catalogue builds dynamic-batch with the batching wait it is given (`--dynamic-batch-wait`)")
    func dynamicBatchWaitIsTheOneGiven() throws {
        // Two same-shape jobs 1 s apart: a 0.5 s wait runs the first alone, a 2 s wait batches the two.
        let arrivals = [ScheduledArrival(time: 0, classIndex: 0), ScheduledArrival(time: 1, classIndex: 0)]
        let setup = SimulationSetup(classes: [TestSupport.t2v], arrivals: .open(arrivals, durationSeconds: 1), cost: try TestSupport.cost(), deadlines: [nil])
        func stepSizes(wait: Double?) throws -> Set<Int> {
            let entries = try PolicyCatalog.entries(["dynamic-batch"], calibration: TestSupport.calibration(),
                                                    dynamicBatch: wait.map { DynamicBatchRule(maxQueueDelaySeconds: $0) } ?? DynamicBatchRule())
            let result = try #require(entries.first).run(setup)
            #expect(result.jobs.allSatisfy { $0.status == .succeeded })
            return Set(result.stepCallsBySize.filter { $0.value > 0 }.keys)
        }
        #expect(try stepSizes(wait: nil) == [1], "the default 0.5 s wait runs each job alone")
        #expect(try stepSizes(wait: 2) == [2], "a 2 s wait holds the first job until the second joins it")
    }

    @Test("each policy completes every job of a small simulation", arguments: ["serial", "seed", "dynamic-batch"])
    func completes(policy: String) throws {
        let entry = try #require(PolicyCatalog.entry(named: policy, calibration: TestSupport.calibration()))
        let result = entry.run(try TestSupport.smallSetup())
        #expect(result.jobs.count == 12)
        #expect(result.jobs.allSatisfy { $0.status == .succeeded }, "\(result.jobs.filter { $0.status != .succeeded })")
        #expect(result.failedPlans == 0)
    }
}
