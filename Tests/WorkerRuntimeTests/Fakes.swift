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
