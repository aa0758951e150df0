import EngineBridge
import SchedulingCore
import TurboServeDomain

/// The worker's seam to an engine: perform one plan and say what happened. The engine bridge implements it for the
/// Python engine; tests use a scripted fake. Implementations run one plan at a time (the worker never overlaps
/// calls) and never throw: every failure is a `PlanOutcome.failed` with a code.
public protocol PlanExecuting: Sendable {
    /// `jobs` carries the validated request of every job the plan names (the engine needs them on `admit`).
    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan
    /// The engine's latest GPU readings (NVML), or nil when it cannot say now (no engine, a crash, a fake without
    /// telemetry). May be called while a plan runs; the engine answers after it.
    func telemetry() async -> EngineMessages.GpuTelemetry?
    /// Ends the engine process now, from any task (an operator's restart): a call in flight fails with
    /// `engine_crashed` and the next `execute` starts a fresh one. Executors without a process do nothing.
    func restart()
}

extension PlanExecuting {
    public func telemetry() async -> EngineMessages.GpuTelemetry? { nil }
    public func restart() {}
}

/// A plan's outcome plus, for `decode`, the frame files the output pipeline will encode.
public struct ExecutedPlan: Sendable {
    public var outcome: PlanOutcome
    public var frames: [JobID: FramesFile]

    public init(outcome: PlanOutcome, frames: [JobID: FramesFile] = [:]) {
        self.outcome = outcome
        self.frames = frames
    }
}

/// Raw decoded frames on disk: `frames × height × width × 3` bytes of rgb24.
public struct FramesFile: Sendable, Hashable {
    public var path: String
    public var width: Int
    public var height: Int
    public var frames: Int
    public var fps: Int

    public init(path: String, width: Int, height: Int, frames: Int, fps: Int) {
        self.path = path
        self.width = width
        self.height = height
        self.frames = frames
        self.fps = fps
    }
}

/// Turns frames into the deliverables (MP4 + thumbnail), off the engine's path. Safe to call concurrently.
public protocol VideoEncoding: Sendable {
    /// Writes `video` and `thumbnail`; throws a `TurboServeError` on failure.
    func encode(_ frames: FramesFile, video: String, thumbnail: String) async throws
}
