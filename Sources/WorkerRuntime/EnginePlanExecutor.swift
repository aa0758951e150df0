import EngineBridge
import Foundation
import Synchronization
import SchedulingCore
import TurboServeDomain

/// Performs the scheduling core's plans on a real engine process: each `PlanAction` becomes one protocol verb.
/// When the engine has died, the plan fails with `engine_crashed` (the worker then tells the policy the engine was
/// lost) and the next plan starts a fresh engine (`relaunch`), so a crash costs the jobs in flight one attempt.
///
/// A completed plan's `engineTime` is the wall time of its call, not the compute time the engine reports: what the
/// plan held the engine for as the worker sees it (compute, the pipe, the engine's own bookkeeping), which is what
/// the core learns step costs from and charges tenants. On a busy CPU the two differ by tens of percent.
///
/// Thread-safety: an actor; the worker calls it one plan at a time.
public actor EnginePlanExecutor: PlanExecuting {
    private let relaunch: @Sendable () async throws -> EngineClient
    public private(set) var restarts = 0
    /// The engine now running: the one copy, read by every call and swapped by a relaunch; a `Mutex` because
    /// `restart` reads it from outside the actor while a plan may be in flight.
    private let current: Mutex<EngineClient>
    private var client: EngineClient { current.withLock { $0 } }
    private let restartAsked = Atomic<Bool>(false)

    public init(client: EngineClient, relaunch: @escaping @Sendable () async throws -> EngineClient) {
        current = Mutex(client)
        self.relaunch = relaunch
    }

    public func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        do {
            let asked = restartAsked.exchange(false, ordering: .sequentiallyConsistent)
            let exited = await client.hasExited
            if asked || exited {
                let fresh = try await relaunch()
                current.withLock { $0 = fresh }
                restarts += 1
            }
            let started = ContinuousClock.now
            var executed = try await perform(action, jobs: jobs)
            if case let .completed(_, free) = executed.outcome {
                executed.outcome = .completed(engineTime: ContinuousClock.now - started, freeMemoryBytes: free)
            }
            return executed
        } catch let error as EngineError {
            let code: TurboServeError.Code = error.code == "engine_exited" ? .engineCrashed : error.domainCode
            return ExecutedPlan(outcome: .failed(code: code, message: error.description, retryable: error.retryable, jobs: error.jobs?.map { JobID($0) }))
        } catch {
            return ExecutedPlan(outcome: .failed(code: .engineError, message: "\(error)", retryable: false, jobs: nil))
        }
    }

    public func telemetry() async -> EngineMessages.GpuTelemetry? {
        guard await !client.hasExited else { return nil }
        return try? await client.stats().result.gpuTelemetry
    }

    /// Kills the current engine at once; the next `execute` starts a fresh one (see `PlanExecuting.restart`).
    public nonisolated func restart() {
        restartAsked.store(true, ordering: .sequentiallyConsistent)
        current.withLock { $0 }.kill()
    }

    private func perform(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async throws -> ExecutedPlan {
        switch action {
        case let .load(key):
            let reply = try await client.load(model: key.model, expert: key.expert.rawValue)
            return Self.completed(reply.computeTime, free: reply.result.freeMemoryBytes)
        case let .unload(key):
            let reply = try await client.unload(model: key.model, expert: key.expert.rawValue)
            return Self.completed(reply.computeTime, free: reply.result.freeMemoryBytes)
        case let .admit(ids, _):
            let specs = try ids.map { id in
                guard let spec = jobs[id] else { throw EngineError(code: "unknown_job", message: "no spec for \(id)", jobs: [id.rawValue]) }
                return Self.admission(id, spec)
            }
            return Self.completed(try await client.admit(specs).computeTime, free: nil)
        case let .step(expert, steps):
            let entries = steps.map { EngineMessages.StepEntry(jobId: $0.job.rawValue, index: $0.index) }
            let reply = try await client.step(model: expert.model, expert: expert.expert.rawValue, jobs: entries)
            return Self.completed(reply.computeTime, free: nil)
        case let .decode(ids):
            let reply = try await client.decode(ids.map(\.rawValue))
            var frames: [JobID: FramesFile] = [:]
            for job in reply.result.jobs {
                frames[JobID(job.jobId)] = FramesFile(path: job.framesPath, width: job.width, height: job.height, frames: job.frames, fps: job.fps)
            }
            return ExecutedPlan(outcome: .completed(engineTime: reply.computeTime, freeMemoryBytes: reply.result.freeMemoryBytes), frames: frames)
        case let .release(ids):
            return Self.completed(try await client.release(ids.map(\.rawValue)).computeTime, free: nil)
        case .onEnginePath:
            return Self.completed(.zero, free: nil)
        }
    }

    static func completed(_ time: Duration, free: Int64?) -> ExecutedPlan {
        ExecutedPlan(outcome: .completed(engineTime: time, freeMemoryBytes: free))
    }

    static func admission(_ id: JobID, _ spec: ValidatedJob) -> EngineMessages.AdmitJob {
        EngineMessages.AdmitJob(
            jobId: id.rawValue, model: spec.model, prompt: spec.prompt, imagePath: spec.imagePath, width: spec.width,
            height: spec.height, frames: spec.frames, fps: spec.fps, steps: spec.steps, seed: spec.seed,
            sampler: spec.sampler.rawValue, sigmaMax: spec.sigmaMax, boundary: spec.boundary,
            adaptiveResolution: spec.adaptiveResolution, attention: spec.attention.rawValue, quantLinear: spec.quantLinear)
    }
}

/// The worker's `VideoEncoding` on ffmpeg.
public struct FFmpegVideoEncoding: VideoEncoding {
    let encoder: VideoEncoder
    public init(encoder: VideoEncoder = VideoEncoder()) { self.encoder = encoder }
    public func encode(_ frames: FramesFile, video: String, thumbnail: String) async throws {
        try await encoder.encode(framesPath: frames.path, width: frames.width, height: frames.height, frames: frames.frames, fps: frames.fps, video: video, thumbnail: thumbnail)
    }
}
