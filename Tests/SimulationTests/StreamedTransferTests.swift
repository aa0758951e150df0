import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain

/// The two engines the simulator models (`WeightTransfers`): upstream's offload-and-wait and TurboServe's host
/// copies with streamed loads, played plan by plan on `SimulatedEngine`.
@Suite("Weight transfers: upstream vs streamed")
struct StreamedTransferTests {
    let large = ModelKey(model: "wan2.1-t2v-14b")
    let small = ModelKey(model: "wan2.1-t2v-1.3b")

    func engine(_ transfers: WeightTransfers) throws -> SimulatedEngine {
        var cost = try TestSupport.cost()
        cost.transfers = transfers
        return SimulatedEngine(cost: cost)
    }

    func admitted(_ engine: inout SimulatedEngine, _ job: JobID, _ workload: WorkloadClass, now: Double) throws -> [JobID: ValidatedJob] {
        let spec = try workload.validatedJob(seed: 0, deadlineSeconds: nil)
        _ = engine.perform(.admit(jobs: [job], model: spec.model), specs: [job: spec], now: now)
        return [job: spec]
    }

    func step(_ expert: ModelKey, _ job: JobID) -> PlanAction {
        .step(expert: expert, steps: [JobStep(job: job, index: 0, total: 4)])
    }

    @Test("upstream: a load holds the engine for the whole transfer and an unload costs as much again")
    func upstreamWaits() throws {
        var engine = try engine(.upstream)
        let cost = engine.cost
        let load = engine.perform(.load(large), specs: [:], now: 0)
        #expect(load.seconds == cost.loadSeconds(large) && load.activity == .switching)
        let unload = engine.perform(.unload(large), specs: [:], now: load.seconds)
        #expect(unload.seconds == cost.loadSeconds(large))
    }

    @Test("streamed: the load returns at once, the first step waits only for what its compute cannot cover")
    func streamedFirstStep() throws {
        var engine = try engine(.streamed)
        let cost = engine.cost
        let load = engine.perform(.load(large), specs: [:], now: 0)
        #expect(load.seconds == cost.transferFixedSeconds)
        #expect(!engine.resident.isEmpty && engine.freeBytes < cost.deviceMemoryBytes - cost.sharedBytes - cost.weightBytes(large) + 1,
                "the memory is reserved when the load starts")
        let specs = try admitted(&engine, "a", TestSupport.i2v.with(model: "wan2.1-t2v-14b"), now: load.seconds)
        let stepSeconds = cost.stepSeconds(shape: specs["a"]!.shapeKey, expert: large, batchSize: 1)
        let first = engine.perform(step(large, "a"), specs: specs, now: 1)
        #expect(first.waitSeconds == cost.streamedWaitSeconds(transferLeft: cost.loadSeconds(large) - 1, stepSeconds: stepSeconds))
        #expect(first.seconds == stepSeconds + first.waitSeconds)
        #expect(first.seconds < stepSeconds + cost.loadSeconds(large) - 1, "cheaper than waiting for the load, then stepping")
        let second = engine.perform(step(large, "a"), specs: specs, now: 100)
        #expect(second.waitSeconds == 0 && second.seconds == stepSeconds)
    }

    @Test("streamed: a step right after the load of a network whose transfer outlasts the step waits for the rest")
    func streamedWaitWhenTransferIsLonger() throws {
        var engine = try engine(.streamed)
        let cost = engine.cost
        _ = engine.perform(.load(small), specs: [:], now: 0)
        _ = engine.perform(.load(large), specs: [:], now: 0.15)
        // The 14B's transfer queues behind the 1.3B's on the one copy lane.
        let landed = 0.15 + cost.loadSeconds(small) - cost.transferFixedSeconds + cost.loadSeconds(large) - cost.transferFixedSeconds
        let specs = try admitted(&engine, "a", TestSupport.hq14, now: 0.3)
        let stepSeconds = cost.stepSeconds(shape: specs["a"]!.shapeKey, expert: large, batchSize: 1)
        let now = 0.3
        let first = engine.perform(step(large, "a"), specs: specs, now: now)
        let expected = cost.streamedWaitSeconds(transferLeft: landed - now, stepSeconds: stepSeconds)
        #expect(abs(first.waitSeconds - expected) < 1e-9 && first.waitSeconds > 0)
    }

    @Test("streamed: other resident work runs at full speed while a transfer is in flight; unloading only frees memory")
    func streamedOverlap() throws {
        var engine = try engine(.streamed)
        let cost = engine.cost
        _ = engine.perform(.load(small), specs: [:], now: 0)
        let specs = try admitted(&engine, "quick", TestSupport.t2v, now: 10)
        _ = engine.perform(.load(large), specs: [:], now: 10)
        let quick = engine.perform(step(small, "quick"), specs: specs, now: 10.15)
        #expect(quick.waitSeconds == 0)
        #expect(quick.seconds == cost.stepSeconds(shape: specs["quick"]!.shapeKey, expert: small, batchSize: 1))
        let unload = engine.perform(.unload(small), specs: [:], now: 20)
        #expect(unload.seconds == cost.transferFixedSeconds)
    }

    @Test("the isolated latency (deadlines and targets) is upstream's whichever engine runs")
    func isolatedLatencyIsUpstream() throws {
        var cost = try TestSupport.cost()
        let i2v = try TestSupport.i2v.validatedJob(seed: 0, deadlineSeconds: nil)
        let upstream = cost.isolatedSeconds(of: i2v)
        cost.transfers = .streamed
        #expect(cost.isolatedSeconds(of: i2v) == upstream)
        #expect(cost.loadTime(large) < .seconds(cost.loadSeconds(large)), "the switch estimate counts only the exposed transfer")
    }

    @Test("baselines drive upstream's engine and turboserve its own, unless --baseline-engine says otherwise")
    func enginesByPolicy() throws {
        let calibration = try TestSupport.calibration()
        let byName = Dictionary(uniqueKeysWithValues: try PolicyCatalog.entries(calibration: calibration).map { ($0.name, $0.transfers) })
        #expect(byName == ["serial": .upstream, "seed": .upstream, "dynamic-batch": .upstream, "turboserve": .streamed])
        let streamed = try PolicyCatalog.entries(["dynamic-batch", "turboserve-deadlines"], calibration: calibration, baselineTransfers: .streamed)
        #expect(streamed.allSatisfy { $0.transfers == .streamed })
    }
}
