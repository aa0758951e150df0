import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Synchronization
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import WorkerRuntime

/// The shell and TurboServe's core under engine faults: every job ends exactly once, no admit ever lacks its spec,
/// the store alone counts attempts, and a job that keeps killing the engine fails without taking the others down.
struct WorkerFaultTests {
    let scratch: ScratchFolder
    var directory: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-faults") }

    func makeJobs(_ store: any JobStore, count: Int, steps: Int = 3, priority: String? = nil, prefix: String = "v", model: String = "tiny-t2v") async throws {
        for i in 0..<count {
            let spec = try JobValidator().validate(JobSpec(prompt: "p\(i)", model: model, steps: steps, seed: Int64(i), priority: priority), randomSeed: { 0 })
            _ = try await store.create(NewJob(id: JobID("\(prefix)\(i)"), spec: spec))
        }
    }

    func policy(memory: any MemoryEstimating = CostProfile.serving, device: Int64? = nil) -> TurboScheduler<ContinuousClock> {
        var configuration = TurboSchedulerConfiguration()
        configuration.sharedBytes = 0
        configuration.maxBatchSize = 4
        if let device { configuration.deviceMemoryBytes = device }
        return TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: memory, configuration: configuration)
    }

    func succeededOnce(_ store: any JobStore, _ id: JobID) async throws -> Bool {
        try await store.events(of: id).filter { $0.to == "succeeded" }.count == 1
    }

    /// A job whose engine work is done waits for its `succeeded` write through a store outage: the policy has let
    /// it go, but the worker still holds it, so its heartbeats keep its lease and no other worker runs it again.
    @Test func aFinishedJobWaitingOutAnOutageForItsLastWriteKeepsItsLease() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let store = CompletionOutageStore(InMemoryJobStore(now: { now.withLock { $0 } }))
        try await makeJobs(store, count: 1)
        let configuration = Worker<TurboScheduler<ContinuousClock>>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        let worker = Worker(policy: policy(), store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(), configuration: configuration)
        let running = Task { try await worker.run() }
        #expect(await eventually { store.refusedCompletions.withLock { $0 } >= 1 })
        #expect(await worker.activity.heldJobs.isEmpty, "the policy still holds the job")
        let lease = configuration.leaseDuration.seconds
        now.withLock { $0 += lease * 0.9 }
        await worker.heartbeat()
        now.withLock { $0 += lease * 0.2 }
        #expect(try await store.rescueExpired(maxAttempts: 3).isEmpty, "the lease of a job with its last write pending ran out")
        store.outage.withLock { $0 = false }
        #expect(await eventually { (try? await store.get("v0"))?.phase == .succeeded })
        await worker.stop()
        try await running.value
        #expect(try await succeededOnce(store, "v0"))
    }

    /// A worker cut off past its lease (a pause, a partition) still runs its job when it hears the store again, and
    /// the job, rescued meanwhile, is queued for anyone. The worker's next claim must not take it back: the stale
    /// run's late writes would then pass the holder check. Excluded from that claim, the job stays unheld, the stale
    /// write is refused as not held, the worker drops the stale run, and only then claims the job afresh; it succeeds
    /// once, and nothing had to be undone (before, the claim took it back and the stale `admitted` landed).
    @Test func aWorkerNeverClaimsBackAJobItStillRunsFromAnExpiredHold() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let store = AdvancesAfterClaimStore(InMemoryJobStore(now: { now.withLock { $0 } }))
        try await makeJobs(store, count: 1)
        var configuration = Worker<TurboScheduler<ContinuousClock>>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.heartbeatInterval = .seconds(3600)  // the test says when the worker heartbeats: never
        let engine = GatedEngine(directory: directory)
        let worker = Worker(policy: policy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        let running = Task { try await worker.run() }
        var started = engine.firstPlanStarted.makeAsyncIterator()
        _ = await started.next()  // node-1 holds v0 and is in its first plan

        now.withLock { $0 += configuration.leaseDuration.seconds + 1 }
        #expect(try await store.rescueExpired(maxAttempts: 3) == ["v0"])
        let claimsBefore = store.claims.withLock { $0.count }
        store.holdAdvances()  // the plan's progress write reaches the store only after the worker's next claim
        engine.release()

        #expect(await eventually { (try? await store.get("v0"))?.phase == .succeeded })
        await worker.stop()
        try await running.value
        let claimsAfter = store.claims.withLock { Array($0.dropFirst(claimsBefore)) }
        #expect(claimsAfter.first?.contains("v0") == false, "the claim made while the stale run went on took its job back: \(claimsAfter)")
        #expect(store.refusedAdvances.withLock { $0 }.contains(.jobNotHeld), "the stale run's write was not refused")
        let events = try await store.events(of: "v0")
        let undone = events.filter { $0.to == "queued" && !$0.from.isEmpty && $0.reasonCode != TurboServeError.Code.leaseExpired.rawValue }
        #expect(undone.isEmpty, "a stale write had to be undone: \(events)")
        #expect(try await succeededOnce(store, "v0"))
    }

    @Test func engineLossMidBatchRequeuesWithSpecsAndEveryJobCompletesOnce() async throws {
        let store = InMemoryJobStore()
        try await makeJobs(store, count: 6)
        // The engine dies during the second and the fifth batched step.
        let steps = Mutex(0)
        let engine = FaultyEngine(directory: directory, fault: { _, action in
            guard case .step = action else { return nil }
            let n = steps.withLock { n in defer { n += 1 }; return n }
            return n == 1 || n == 4 ? .failed(code: .engineCrashed, message: "engine exited (SIGKILL)", retryable: true, jobs: nil) : nil
        })
        var configuration = Worker<TurboScheduler<ContinuousClock>>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 3
        let worker = Worker(policy: policy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        try await runUntilEnded(worker, store: store, jobs: 6)
        #expect(engine.admittedWithoutSpec.withLock { $0 }.isEmpty)
        for i in 0..<6 {
            let id = JobID("v\(i)")
            let record = try #require(try await store.get(id))
            #expect(record.phase == .succeeded, "\(id): \(record.phase) \(record.errorMessage ?? "")")
            #expect(try await succeededOnce(store, id))
            #expect(record.attempts <= 2)
        }
        let retried = try await (0..<6).asyncMap { try await store.events(of: JobID("v\($0)")) }.flatMap { $0 }.filter { $0.to == "queued" && $0.from != "" }
        #expect(!retried.isEmpty, "the crashes sent jobs back to the queue")
    }

    @Test func aJobThatKeepsKillingTheEngineFailsAloneAndTheOthersComplete() async throws {
        let store = InMemoryJobStore()
        try await makeJobs(store, count: 4)
        // Any step that carries v2 kills the engine.
        let engine = FaultyEngine(directory: directory, fault: { _, action in
            guard case let .step(_, steps) = action, steps.contains(where: { $0.job == "v2" }) else { return nil }
            return .failed(code: .engineCrashed, message: "engine exited (signal 9)", retryable: true, jobs: nil)
        })
        var configuration = Worker<TurboScheduler<ContinuousClock>>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 3
        let worker = Worker(policy: policy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        try await runUntilEnded(worker, store: store, jobs: 4)
        let poison = try #require(try await store.get("v2"))
        #expect(poison.phase == .failed && poison.errorCode == "engine_crashed" && poison.attempts == 3)
        #expect(poison.errorMessage?.contains("gave up after 3 attempts") == true)
        for id: JobID in ["v0", "v1", "v3"] {
            #expect(try await store.get(id)?.phase == .succeeded, "\(id)")
            #expect(try await succeededOnce(store, id))
        }
    }

    @Test func aPreemptedJobRunsAgainWithItsSpecAndCompletesOnce() async throws {
        let store = InMemoryJobStore()
        try await makeJobs(store, count: 1, steps: 4, priority: "batch", prefix: "long")
        // The batch job's first step waits until the urgent job exists and the worker has seen it.
        let (opened, open) = AsyncStream.makeStream(of: Void.self)
        let gateOnce = Mutex(true)
        let engine = FaultyEngine(directory: directory, fault: { _, _ in nil }, gate: { _, action in
            guard case .step = action, gateOnce.withLock({ first in defer { first = false }; return first }) else { return }
            for await _ in opened { return }
        })
        // Job state is so large that two jobs of different shapes never fit together: the urgent one preempts.
        let memory = TinyDevice(stateBytes: 60, activationBytes: 10)
        let worker = Worker(policy: policy(memory: memory, device: 100), store: store, engine: engine, encoder: FileWritingEncoder(),
                            configuration: .init(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory)))
        let running = Task { try await worker.run() }
        while try await store.get("long0")?.phase != .admitted { await Task.yield() }
        let urgent = try JobValidator().validate(JobSpec(prompt: "now", model: "tiny-t2v", size: "64x48", steps: 2, seed: 9, priority: "interactive"), randomSeed: { 0 })
        _ = try await store.create(NewJob(id: "urgent", spec: urgent))
        worker.wake()
        open.yield()
        while (try await store.countByPhase()[.succeeded] ?? 0) < 2 { await Task.yield() }
        await worker.stop()
        try await running.value
        #expect(engine.admittedWithoutSpec.withLock { $0 }.isEmpty)
        let events = try await store.events(of: "long0")
        #expect(events.contains { $0.to == "queued" && $0.reasonCode == "preempted" }, "\(events.map { "\($0.from)→\($0.to)" })")
        for id: JobID in ["long0", "urgent"] { #expect(try await succeededOnce(store, id)) }
        #expect(try await store.get("long0")?.attempts == 0, "preemption uses no attempt")
    }
}

/// A device where job state dominates: weights are free, each job's state and activations cost what it says.
struct TinyDevice: MemoryEstimating {
    let stateBytes: Int64
    let activationBytes: Int64
    func weightBytes(_ expert: ModelKey) -> Int64 { 0 }
    func activationBytes(shape: ShapeKey) -> Int64 { activationBytes }
    func residentStateBytes(shape: ShapeKey) -> Int64 { stateBytes }
}
