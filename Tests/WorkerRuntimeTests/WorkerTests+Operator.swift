import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Synchronization
import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// Plays an engine process an operator can restart: its first step plan waits until `restart()` kills "the
/// process", then fails with `engine_crashed` as a killed engine's call does; every later plan succeeds.
final class RestartableEngine: PlanExecuting {
    private let inner: ScriptedEngine
    private let entered: AsyncStream<Void>.Continuation
    let firstStepStarted: AsyncStream<Void>
    private let killed = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let stepsSeen = Mutex(0)

    init(directory: URL) {
        inner = ScriptedEngine(directory: directory)
        (firstStepStarted, entered) = AsyncStream.makeStream(of: Void.self)
    }

    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        if case .step = action, stepsSeen.withLock({ seen in defer { seen += 1 }; return seen }) == 0 {
            await withCheckedContinuation { continuation in
                killed.withLock { $0 = continuation }
                entered.yield()
            }
            return ExecutedPlan(outcome: .failed(code: .engineCrashed, message: "the engine process exited", retryable: true, jobs: nil))
        }
        return await inner.execute(action, jobs: jobs)
    }

    func restart() { killed.withLock { $0 }?.resume() }
}

extension WorkerTests {
    /// Progress shows `decoding` while the engine decodes, not after: the event is recorded when the plan starts,
    /// and only once.
    @Test func decodingIsRecordedWhenTheDecodeStarts() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "v0", spec: try spec("p0")))
        let phaseDuringDecode = Mutex<JobState.Phase?>(nil)
        let engine = FaultyEngine(directory: directory, fault: { _, _ in nil }, gate: { _, action in
            guard case let .decode(ids) = action else { return }
            // The recorder writes on its own task: give it a bounded number of turns to land the event.
            var phase = try? await store.get(ids[0])?.phase
            for _ in 0..<100_000 where phase != .decoding {
                await Task.yield()
                phase = try? await store.get(ids[0])?.phase
            }
            phaseDuringDecode.withLock { $0 = phase }
        })
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 3
        let worker = Worker(policy: SerialPolicy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        try await runUntilEnded(worker, store: store, jobs: 1)
        #expect(phaseDuringDecode.withLock { $0 } == .decoding)
        #expect(try await store.events(of: "v0").map(\.to) == ["queued", "admitted", "denoising(1/2)", "denoising(2/2)", "decoding", "muxing", "succeeded"])
    }

    /// An operator's restart kills the engine mid-plan: the job goes back to the queue as `engine_restarted`,
    /// runs again and completes, and the restart costs it no attempt.
    @Test func anOperatorRestartRequeuesWithoutCostingAnAttempt() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "v0", spec: try spec("p0")))
        let engine = RestartableEngine(directory: directory)
        var configuration = Worker<SerialPolicy>.Configuration(workerID: "node-1", artifacts: DirectoryArtifactStore(directory: directory))
        configuration.maxAttempts = 1 // one counted attempt would fail the job
        let worker = Worker(policy: SerialPolicy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        let running = Task { try await runUntilEnded(worker, store: store, jobs: 1) }
        var started = engine.firstStepStarted.makeAsyncIterator()
        _ = await started.next()
        await worker.restartEngine()
        try await running.value
        let record = try #require(try await store.get("v0"))
        #expect(record.phase == .succeeded && record.attempts == 0)
        let requeue = try await store.events(of: "v0").first { $0.to == "queued" && $0.from != "" }
        #expect(requeue?.reasonCode == "engine_restarted")
    }
}
