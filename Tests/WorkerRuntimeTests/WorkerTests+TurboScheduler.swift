import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import WorkerRuntime

/// The shell driving TurboServe's own core (as `serve` does) with the scripted engine: jobs claimed from the store
/// share denoise calls, every state change lands in the store, and the output pipeline finishes them.
struct WorkerTurboSchedulerTests {
    let scratch: ScratchFolder
    var directory: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-turbo") }

    @Test func claimedJobsAreBatchedAndEveryOneCompletesWithItsHistory() async throws {
        let store = InMemoryJobStore()
        for i in 0..<4 {
            let spec = try JobValidator().validate(JobSpec(prompt: "p\(i)", model: "tiny-t2v", steps: 2, seed: Int64(i)), randomSeed: { 0 })
            _ = try await store.create(NewJob(id: JobID("v\(i)"), spec: spec))
        }
        var configuration = TurboSchedulerConfiguration()
        configuration.sharedBytes = 0
        configuration.maxBatchSize = 4
        let policy = TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: CostProfile.serving, configuration: configuration)
        let engine = ScriptedEngine(directory: directory)
        let worker = Worker(policy: policy, store: store, engine: engine, encoder: FileWritingEncoder(),
                            configuration: .init(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory)))
        let running = Task { try await worker.run() }
        while (try await store.countByPhase()[.succeeded] ?? 0) < 4 { await Task.yield() }
        await worker.stop()
        try await running.value
        for i in 0..<4 {
            let events = try await store.events(of: JobID("v\(i)")).map(\.to)
            #expect(events == ["queued", "admitted", "denoising(1/2)", "denoising(2/2)", "decoding", "muxing", "succeeded"])
        }
        let stepSizes = engine.actions.compactMap { action -> Int? in
            if case let .step(_, steps) = action { return steps.count }
            return nil
        }
        #expect(stepSizes.reduce(0, +) == 8, "4 jobs × 2 steps")
        #expect(stepSizes.max() ?? 0 > 1, "claimed jobs shared denoise calls: \(stepSizes)")
    }

    /// A restarted worker (same id) plans with the step and stage times its last heartbeat reported, before measuring anything,
    /// and reports them again in its activity (what `/v1/operations` shows).
    @Test func aRestartedWorkerStartsFromTheStepTimesItReportedBefore() async throws {
        let store = InMemoryJobStore()
        let spec = try JobValidator().validate(JobSpec(prompt: "p", model: "tiny-t2v", steps: 2, seed: 1), randomSeed: { 0 })
        let shape = spec.shapeKey
        let measured = LearnedStep(model: shape.model, expert: .main, width: shape.width, height: shape.height, frames: shape.frames,
                                   batchSize: 1, samples: [0.4, 0.5, 0.6], estimateSeconds: 0.5, priorSeconds: 0)
        let decode = LearnedStage(stage: .decode, model: shape.model, width: shape.width, height: shape.height, frames: shape.frames,
                                  task: nil, samples: [2.0, 3.0], estimateSeconds: 2.5, priorSeconds: 0)
        _ = try await store.heartbeat(worker: "node-1", holding: [], lease: .seconds(30),
                                      activity: EngineActivity(worker: "node-1", learnedSteps: [measured], learnedStages: [decode]))
        let policy = TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: CostProfile.serving, configuration: TurboSchedulerConfiguration())
        let worker = Worker(policy: policy, store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(),
                            configuration: .init(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory)))
        #expect(await worker.activity.learnedSteps == nil)
        let running = Task { try await worker.run() }
        while await worker.activity.learnedSteps == nil { await Task.yield() }
        let restored = try #require(await worker.activity.learnedSteps?.first)
        #expect(restored.samples == [0.4, 0.5, 0.6] && restored.estimateSeconds == 0.5)
        #expect(restored.priorSeconds == CostProfile.serving.stepTime(shape: shape, expert: measured.modelKey, batchSize: 1).seconds)
        let restoredDecode = try #require(await worker.activity.learnedStages?.first)
        #expect(restoredDecode.samples == [2.0, 3.0] && restoredDecode.estimateSeconds == 2.5)
        #expect(restoredDecode.priorSeconds == CostProfile.serving.decodeTime(shape: shape).seconds)
        await worker.stop()
        try await running.value
    }

    /// Jobs that all finish past their deadline turn the core's overload mode on: the worker's activity (what
    /// `/v1/operations` shows) and its gauges (what the `TurboServeOverloaded` alert reads) say so, and the gauges
    /// exist at 0 from the worker's start, before any job finished.
    @Test(.timeLimit(.minutes(1))) func jobsMissingTheirDeadlinesShowAsOverloadInActivityAndMetrics() async throws {
        let store = InMemoryJobStore()
        let metrics = ServiceMetrics()
        let count = 10
        var configuration = TurboSchedulerConfiguration()
        configuration.sharedBytes = 0
        let policy = TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: CostProfile.serving, configuration: configuration)
        let worker = Worker(policy: policy, store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(),
                            configuration: .init(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory)), metrics: metrics)
        let running = Task { try await worker.run() }
        while !metrics.exposition().contains(#"turboserve_scheduler_overloaded{worker="node-1"} 0.0"#) { await Task.yield() }
        #expect(metrics.exposition().contains(#"turboserve_scheduler_deadline_miss_ratio{worker="node-1"} 0.0"#))
        #expect(await worker.activity.deadlineHealth == DeadlineHealth(window: configuration.overloadWindow, jobsCounted: 0, jobsMissed: 0, overloaded: false))
        for i in 0..<count {
            // Due a microsecond after creation: every one finishes past its deadline.
            let spec = try JobValidator().validate(JobSpec(prompt: "p\(i)", model: "tiny-t2v", steps: 1, seed: Int64(i), deadlineSeconds: 0.000_001), randomSeed: { 0 })
            _ = try await store.create(NewJob(id: JobID("late\(i)"), spec: spec))
        }
        while (try await store.countByPhase()[.succeeded] ?? 0) < count { await Task.yield() }
        while await worker.activity.deadlineHealth?.jobsCounted != count { await Task.yield() }
        let health = try #require(await worker.activity.deadlineHealth)
        #expect(health.jobsMissed == count && health.overloaded, "\(count) of \(count) missed, half the window seen: \(health)")
        let text = metrics.exposition()
        #expect(text.contains(#"turboserve_scheduler_overloaded{worker="node-1"} 1.0"#))
        #expect(text.contains(#"turboserve_scheduler_deadline_miss_ratio{worker="node-1"} 1.0"#))
        await worker.stop()
        try await running.value
    }
}
