import TurboServeDomain

/// Identifies one plan handed to the shell; echoed back in `planFinished`.
public struct PlanID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: PlanID, b: PlanID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "plan#\(rawValue)" }
}

/// One denoise step of one job inside a batched `step` call: `index` is 0-based, so the job moves from
/// `denoising(completed: index, …)` (or `admitted` when index is 0) to `denoising(completed: index + 1, …)`.
public struct JobStep: Hashable, Sendable {
    public let job: JobID
    public let index: Int
    public let total: Int
    public init(job: JobID, index: Int, total: Int) {
        self.job = job
        self.index = index
        self.total = total
    }
}

/// What the engine should do next. The shell performs exactly one plan at a time per engine and reports back with
/// `planFinished`. Every plan is an engine (GPU) action; CPU work (validation, image preprocessing, muxing,
/// storage) never appears here unless a policy deliberately runs it on the engine path (`onEnginePath`), as the
/// serial baseline does.
public enum PlanAction: Hashable, Sendable {
    /// Move one expert's weights onto the device.
    case load(ModelKey)
    /// Free one expert's weights from the device.
    case unload(ModelKey)
    /// Text-encode the prompts (one batched call), image-encode I2V references, draw initial noise from each job's
    /// seeded generator. Jobs become `admitted` and hold engine state until decoded or released.
    case admit(jobs: [JobID], model: String)
    /// One denoise step for each job, in one batched forward of `expert`. All jobs share a shape key.
    case step(expert: ModelKey, steps: [JobStep])
    /// VAE-decode finished latents to frame files; frees their latents afterwards. Jobs become `muxing`.
    case decode(jobs: [JobID])
    /// Drop engine state of cancelled or preempted jobs.
    case release(jobs: [JobID])
    /// CPU work a policy chose to run while the engine waits (serial baseline only): request parsing for `admit`
    /// or video encoding + storage after `decode`.
    case onEnginePath(OnPathWork, jobs: [JobID])

    public enum OnPathWork: String, Hashable, Sendable {
        case parse
        case mux
    }
}

extension PlanAction {
    /// The jobs the action names, in its order (none for weight moves).
    public var jobs: [JobID] {
        switch self {
        case .load, .unload: []
        case let .admit(jobs, _), let .decode(jobs), let .release(jobs), let .onEnginePath(_, jobs): jobs
        case let .step(_, steps): steps.map(\.job)
        }
    }
}

public struct Plan: Hashable, Sendable {
    public let id: PlanID
    public let action: PlanAction
    public init(id: PlanID, action: PlanAction) {
        self.id = id
        self.action = action
    }
}

/// What the shell observed when a plan finished.
public enum PlanOutcome: Hashable, Sendable {
    /// The engine did it. `freeMemoryBytes`, when reported, replaces the core's estimate of free device memory.
    case completed(engineTime: Duration, freeMemoryBytes: Int64?)
    /// The engine refused or failed. `retryable` says whether the same jobs may be tried again (bounded attempts);
    /// `jobs` limits the failure to some jobs of the plan (nil: all of them).
    case failed(code: TurboServeError.Code, message: String, retryable: Bool, jobs: [JobID]?)
}
