import Foundation
import JobStore
import SchedulingCore
import Synchronization
import TurboServeDomain
import WorkerRuntime

/// Plays the engine: every plan succeeds; `decode` writes a small frames file. Records the plans it ran.
final class ScriptedEngine: PlanExecuting {
    let directory: URL
    let log = Mutex<[PlanAction]>([])
    init(directory: URL) { self.directory = directory }

    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        log.withLock { $0.append(action) }
        guard case let .decode(ids) = action else { return ExecutedPlan(outcome: .completed(engineTime: .milliseconds(1), freeMemoryBytes: nil)) }
        var frames: [JobID: FramesFile] = [:]
        for id in ids {
            let path = directory.appendingPathComponent("\(id.rawValue).rgb").path
            guard FileManager.default.createFile(atPath: path, contents: Data(count: 12)) else { preconditionFailure("the fake engine could not write \(path)") }
            frames[id] = FramesFile(path: path, width: 2, height: 2, frames: 1, fps: 16)
        }
        return ExecutedPlan(outcome: .completed(engineTime: .milliseconds(1), freeMemoryBytes: nil), frames: frames)
    }

    var actions: [PlanAction] { log.withLock { $0 } }
}

/// Writes placeholder files where the MP4 and thumbnail go.
struct FileWritingEncoder: VideoEncoding {
    func encode(_ frames: FramesFile, video: String, thumbnail: String) async throws {
        try Data("mp4".utf8).write(to: URL(fileURLWithPath: video))
        try Data("jpg".utf8).write(to: URL(fileURLWithPath: thumbnail))
    }
}

/// Plays an engine that fails when told to: `fault(n, action)` may return the outcome of the n-th plan (0-based)
/// instead of success, and `gate(n, action)` may hold the n-th plan until the test opens it. Records every admit
/// that named a job without its spec (the engine would answer `unknown_job`).
final class FaultyEngine: PlanExecuting {
    private let inner: ScriptedEngine
    private let fault: @Sendable (Int, PlanAction) -> PlanOutcome?
    private let gate: @Sendable (Int, PlanAction) async -> Void
    private let count = Mutex(0)
    let admittedWithoutSpec = Mutex<[JobID]>([])

    init(directory: URL, fault: @escaping @Sendable (Int, PlanAction) -> PlanOutcome?, gate: @escaping @Sendable (Int, PlanAction) async -> Void = { _, _ in }) {
        inner = ScriptedEngine(directory: directory)
        self.fault = fault
        self.gate = gate
    }

    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        let index = count.withLock { count in defer { count += 1 }; return count }
        if case let .admit(ids, _) = action {
            let missing = ids.filter { jobs[$0] == nil }
            admittedWithoutSpec.withLock { $0 += missing }
            if !missing.isEmpty { return ExecutedPlan(outcome: .failed(code: .engineError, message: "unknown_job", retryable: false, jobs: missing)) }
        }
        await gate(index, action)
        if let outcome = fault(index, action) { return ExecutedPlan(outcome: outcome) }
        return await inner.execute(action, jobs: jobs)
    }

    var actions: [PlanAction] { inner.actions }
}

/// Runs `worker` until `jobs` jobs of `store` have ended (succeeded, failed or cancelled), then stops it and waits
/// for it to return. Polls the store's state; no sleeps.
func runUntilEnded<Policy: SchedulingPolicy>(_ worker: Worker<Policy>, store: any JobStore, jobs: Int) async throws where Policy.C == ContinuousClock {
    let running = Task { try await worker.run() }
    while true {
        let counts = try await store.countByPhase()
        if (counts[.succeeded] ?? 0) + (counts[.failed] ?? 0) + (counts[.cancelled] ?? 0) == jobs { break }
        await Task.yield()
    }
    await worker.stop()
    try await running.value
}

/// A store that passes every call to `inner`; a fake conforms and implements only the calls it plays with (a
/// conforming type's own method is the protocol's witness, so it wins over these).
protocol ForwardingStore: JobStore {
    var inner: InMemoryJobStore { get }
}

extension ForwardingStore {
    func create(_ job: NewJob) async throws -> (record: JobRecord, created: Bool) { try await inner.create(job) }
    func get(_ id: JobID) async throws -> JobRecord? { try await inner.get(id) }
    func list(tenant: TenantID?, after cursor: JobID?, limit: Int, order: ListOrder) async throws -> JobPage {
        try await inner.list(tenant: tenant, after: cursor, limit: limit, order: order)
    }
    func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord] {
        try await inner.claim(worker: worker, limit: limit, lease: lease, preferences: preferences)
    }
    func advance(_ id: JobID, worker: String, to: JobState, reason: String?) async throws -> JobRecord {
        try await inner.advance(id, worker: worker, to: to, reason: reason)
    }
    func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord {
        try await inner.complete(id, worker: worker, videoPath: videoPath, thumbnailPath: thumbnailPath)
    }
    func fail(_ id: JobID, worker: String, code: String, message: String) async throws -> JobRecord {
        try await inner.fail(id, worker: worker, code: code, message: message)
    }
    func retry(_ id: JobID, worker: String, reason: TurboServeError, maxAttempts: Int) async throws -> JobRecord {
        try await inner.retry(id, worker: worker, reason: reason, maxAttempts: maxAttempts)
    }
    func release(_ id: JobID, worker: String, reason: String) async throws -> JobRecord { try await inner.release(id, worker: worker, reason: reason) }
    func heartbeat(worker: String, holding: Set<JobID>, lease: Duration, activity: EngineActivity?) async throws -> Heartbeat {
        try await inner.heartbeat(worker: worker, holding: holding, lease: lease, activity: activity)
    }
    func cancel(_ id: JobID) async throws -> JobRecord? { try await inner.cancel(id) }
    func rescueExpired(maxAttempts: Int) async throws -> [JobID] { try await inner.rescueExpired(maxAttempts: maxAttempts) }
    func releaseHeld(by worker: String?, maxAttempts: Int) async throws -> [JobID] { try await inner.releaseHeld(by: worker, maxAttempts: maxAttempts) }
    func workers() async throws -> [WorkerHeartbeat] { try await inner.workers() }
    func expirable(finishedBefore cutoff: Date, limit: Int) async throws -> [JobRecord] { try await inner.expirable(finishedBefore: cutoff, limit: limit) }
    func markExpired(_ id: JobID) async throws -> JobRecord { try await inner.markExpired(id) }
    func markDeleted(_ id: JobID) async throws -> JobRecord { try await inner.markDeleted(id) }
    func events(of id: JobID) async throws -> [StoredJobEvent] { try await inner.events(of: id) }
    func countQueued() async throws -> [QueuedKey: Int] { try await inner.countQueued() }
    func countByPhase() async throws -> [JobState.Phase: Int] { try await inner.countByPhase() }
}

/// An in-memory store whose `complete` cannot reach the database while `outage` is on (`JobStoreUnavailable`,
/// counted in `refusedCompletions`); every other call goes straight through.
final class CompletionOutageStore: ForwardingStore {
    let inner: InMemoryJobStore
    let outage = Mutex(true)
    let refusedCompletions = Mutex(0)
    init(_ inner: InMemoryJobStore) { self.inner = inner }

    func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord {
        if outage.withLock({ $0 }) {
            refusedCompletions.withLock { $0 += 1 }
            throw JobStoreUnavailable(backend: "memory", reason: "the test's outage")
        }
        return try await inner.complete(id, worker: worker, videoPath: videoPath, thumbnailPath: thumbnailPath)
    }
}

/// An in-memory store that, once `holdAdvances()` is called, keeps every `advance` waiting until the next `claim`
/// has answered: a worker's progress write that a slow network delivers after the worker's next claim. It keeps
/// what each claim handed out (`claims`, in order) and the code of every refused `advance` (`refusedAdvances`).
final class AdvancesAfterClaimStore: ForwardingStore {
    let inner: InMemoryJobStore
    let claims = Mutex<[[JobID]]>([])
    let refusedAdvances = Mutex<[TurboServeError.Code]>([])
    private let held = Mutex<(holding: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    init(_ inner: InMemoryJobStore) { self.inner = inner }

    func holdAdvances() { held.withLock { $0.holding = true } }

    func advance(_ id: JobID, worker: String, to: JobState, reason: String?) async throws -> JobRecord {
        await withCheckedContinuation { continuation in
            let now = held.withLock { state -> Bool in
                guard state.holding else { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        do {
            return try await inner.advance(id, worker: worker, to: to, reason: reason)
        } catch let error as TurboServeError {
            refusedAdvances.withLock { $0.append(error.code) }
            throw error
        }
    }

    func claim(worker: String, limit: Int, lease: Duration, preferences: ClaimPreferences) async throws -> [JobRecord] {
        let claimed = try await inner.claim(worker: worker, limit: limit, lease: lease, preferences: preferences)
        claims.withLock { $0.append(claimed.map(\.id)) }
        let waiting = held.withLock { state in defer { state = (false, []) }; return state.waiting }
        for continuation in waiting { continuation.resume() }
        return claimed
    }
}
