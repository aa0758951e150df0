import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Synchronization
import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// Plays an engine that holds its first plan until the test lets it go; otherwise like `ScriptedEngine`.
final class GatedEngine: PlanExecuting {
    private let inner: ScriptedEngine
    private let entered: AsyncStream<Void>.Continuation
    let firstPlanStarted: AsyncStream<Void>
    private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let released = Mutex(false)

    init(directory: URL) {
        inner = ScriptedEngine(directory: directory)
        (firstPlanStarted, entered) = AsyncStream.makeStream(of: Void.self)
    }

    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        if !released.withLock({ $0 }) {
            await withCheckedContinuation { continuation in
                gate.withLock { $0 = continuation }
                entered.yield()
            }
        }
        return await inner.execute(action, jobs: jobs)
    }

    func release() {
        released.withLock { $0 = true }
        gate.withLock { $0 }?.resume()
    }

    var actions: [PlanAction] { inner.actions }
}

/// Several workers on one store (one per engine of a node): a worker with a small claim window leaves the rest
/// of the queue to the others, so a busy engine does not hoard jobs an idle one could run; each job runs once.
extension WorkerTests {
    @Test func twoWorkersShareTheQueueAndEachJobRunsOnce() async throws {
        let store = InMemoryJobStore()
        for i in 0..<4 { _ = try await store.create(NewJob(id: JobID("j\(i)"), spec: try spec("p\(i)", steps: 1))) }
        func worker(_ id: String, _ engine: any PlanExecuting) -> Worker<SerialPolicy> {
            var configuration = Worker<SerialPolicy>.Configuration(workerID: id, artifacts: DirectoryArtifactStore(directory: directory))
            configuration.maxClaimed = 1
            return Worker(policy: SerialPolicy(), store: store, engine: engine, encoder: FileWritingEncoder(), configuration: configuration)
        }
        let slowEngine = GatedEngine(directory: directory)
        let fastEngine = ScriptedEngine(directory: directory)
        let (slow, fast) = (worker("node-0", slowEngine), worker("node-1", fastEngine))
        let runningSlow = Task { try await slow.run() }
        var started = slowEngine.firstPlanStarted.makeAsyncIterator()
        _ = await started.next() // node-0 holds j0 and is stuck in its first plan
        let runningFast = Task { try await fast.run() }
        while try await store.countByPhase()[.succeeded] ?? 0 < 3 { await Task.yield() }
        #expect(try await store.get("j0")?.phase.isTerminal == false)
        slowEngine.release()
        while try await store.countByPhase()[.succeeded] ?? 0 < 4 { await Task.yield() }
        for worker in [slow, fast] { await worker.stop() }
        try await runningSlow.value
        try await runningFast.value

        let admittedBy = { (engine: [PlanAction]) in engine.compactMap { if case let .admit(jobs, _) = $0 { jobs } else { nil } }.flatMap { $0 } }
        let (slowJobs, fastJobs) = (admittedBy(slowEngine.actions), admittedBy(fastEngine.actions))
        #expect(slowJobs == ["j0"] && fastJobs == ["j1", "j2", "j3"])
        for i in 0..<4 {
            #expect(try await store.events(of: JobID("j\(i)")).filter { $0.to == "succeeded" }.count == 1)
        }
    }
}
