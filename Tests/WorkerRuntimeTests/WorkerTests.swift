import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import WorkerRuntime

/// The worker shell with a scripted engine: jobs flow store → policy → engine → output → store, and survive a
/// restart. No sleeps: the test waits on the store's state through the worker's own completion.
struct WorkerTests {
    let scratch: ScratchFolder
    var directory: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-worker") }

    func spec(_ prompt: String, steps: Int = 2) throws -> ValidatedJob {
        try JobValidator().validate(JobSpec(prompt: prompt, model: "tiny-t2v", steps: steps, seed: 1), randomSeed: { 0 })
    }

    func worker(store: any JobStore, engine: ScriptedEngine) -> Worker<SerialPolicy> {
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 3
        return Worker(policy: SerialPolicy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
    }

    func runUntilDone(_ worker: Worker<SerialPolicy>, store: any JobStore, jobs: Int) async throws {
        try await runUntilEnded(worker, store: store, jobs: jobs)
    }

    @Test func everyJobCompletesWithArtifactsAndAFullHistory() async throws {
        let store = InMemoryJobStore()
        for i in 0..<3 { _ = try await store.create(NewJob(id: JobID("v\(i)"), spec: try spec("p\(i)"))) }
        let engine = ScriptedEngine(directory: directory)
        try await runUntilDone(worker(store: store, engine: engine), store: store, jobs: 3)
        for i in 0..<3 {
            let record = try #require(try await store.get(JobID("v\(i)")))
            #expect(record.phase == .succeeded)
            #expect(record.videoPath.map { FileManager.default.fileExists(atPath: $0) } == true)
            #expect(try await store.events(of: record.id).map(\.to) == ["queued", "admitted", "denoising(1/2)", "denoising(2/2)", "decoding", "muxing", "succeeded"])
        }
        #expect(engine.actions.count == 1 + 3 * 4) // one load of tiny-t2v, then admit + 2 steps + decode per job
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".rgb") }
        #expect(leftovers.isEmpty)
    }

    @Test func activityShowsResidentModelsAndEveryPlanInTheTimeline() async throws {
        let store = InMemoryJobStore()
        for i in 0..<2 { _ = try await store.create(NewJob(id: JobID("v\(i)"), spec: try spec("p\(i)"))) }
        let worker = worker(store: store, engine: ScriptedEngine(directory: directory))
        try await runUntilDone(worker, store: store, jobs: 2)
        let activity = await worker.activity
        #expect(activity.worker == "node-1")
        #expect(activity.residentModels == ["tiny-t2v"])
        #expect(activity.timeline.map(\.stage) == ["admit", "load", "step", "step", "decode", "admit", "step", "step", "decode"])
        #expect(activity.timeline.allSatisfy(\.ok) && activity.plansExecuted == 9)
        #expect(activity.runningStage == nil && activity.runningJobs.isEmpty && activity.heldJobs.isEmpty)
    }

    @Test func jobsHeldByACrashedProcessAreRecoveredOnStart() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "in-flight", spec: try spec("a")))
        _ = try await store.create(NewJob(id: "waiting", spec: try spec("b")))
        // The previous process (same node id) had claimed both and started one, then died.
        _ = try await store.claim(worker: "node-1", limit: 2, lease: .seconds(3600))
        _ = try await store.advance("in-flight", worker: "node-1", to: .admitted, reason: nil)
        try await runUntilDone(worker(store: store, engine: ScriptedEngine(directory: directory)), store: store, jobs: 2)
        let recovered = try #require(try await store.get("in-flight"))
        #expect(recovered.phase == .succeeded && recovered.attempts == 1)
        #expect(try await store.get("waiting")?.phase == .succeeded)
        #expect(try await store.events(of: "in-flight").filter { $0.to == "succeeded" }.count == 1)
    }
}

extension WorkerTests {
    @Test func metricsReportPlansStagesAndFinishedJobs() async throws {
        let store = InMemoryJobStore()
        for i in 0..<2 { _ = try await store.create(NewJob(id: JobID("m\(i)"), spec: try spec("p\(i)", steps: 3))) }
        _ = try await store.create(NewJob(id: "waiting-batch", spec: try JobValidator().validate(JobSpec(prompt: "x", priority: "batch"), randomSeed: { 0 })))
        _ = try await store.cancel("waiting-batch")
        let metrics = ServiceMetrics()
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 3
        let worker = Worker(policy: SerialPolicy(), store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(), configuration: configuration, metrics: metrics)
        try await runUntilDone(worker, store: store, jobs: 3)
        _ = try await store.create(NewJob(id: "queued-later", spec: try spec("later")))
        await metrics.refresh(store: store, busyRatio: await worker.busyRatio)
        let text = metrics.exposition()
        #expect(text.contains(#"turboserve_engine_plans_total{worker="node-1"} 11"#)) // 1 load + 2 jobs × (admit + 3 steps + decode)
        #expect(text.contains(#"turboserve_model_loads_total{model="tiny-t2v",worker="node-1"} 1"#))
        #expect(text.contains(#"turboserve_stage_duration_seconds_count{stage="step"} 6"#))
        #expect(text.contains(#"turboserve_jobs_total{class="standard",model="tiny-t2v",status="succeeded"} 2"#))
        #expect(text.contains(#"turboserve_tenant_jobs_total{tenant="default",status="succeeded"} 2"#))
        #expect(text.contains(#"turboserve_queue_depth_jobs{class="standard",model="tiny-t2v"} 1.0"#))
        #expect(text.contains(#"turboserve_queue_depth_jobs{class="batch",model="tiny-t2v"} 0.0"#))
        #expect(text.contains("turboserve_job_latency_seconds_bucket"))
        #expect(text.contains("turboserve_engine_busy_ratio"))
        #expect(!text.contains("turboserve_scheduler_"), "the serial policy does not judge overload: no series rather than a made-up 0")
        #expect(await worker.activity.deadlineHealth == nil)
    }
}
