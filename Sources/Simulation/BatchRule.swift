import SchedulingCore
import TurboServeDomain

/// How a baseline picks its next batch: the only thing `serial`, `seed` and `dynamic-batch` do differently in
/// choosing work (residency and stages are options of `BaselinePolicy`). Pure.
public protocol BatchRule: Sendable {
    /// Picks the next batch from `queue` (in submission order), says how long to wait for a fuller one, or nil
    /// when the queue is empty.
    func select(_ queue: [QueuedJob], context: BatchContext) -> BatchChoice?
}

/// A job waiting in a baseline's queue.
public struct QueuedJob: Sendable {
    public let id: JobID
    public let spec: ValidatedJob
    /// Submission order (0 = first ever).
    public let order: Int
    /// Seconds since it entered the queue.
    public let waitedSeconds: Double
}

/// What a rule may ask about the device when sizing a batch.
public struct BatchContext: Sendable {
    public let memory: any MemoryEstimating
    /// Free device bytes once `expert` is resident (after any evictions that needs).
    public let freeBytesIfResident: @Sendable (ModelKey) -> Int64

    /// How many samples of `shape` fit in the memory left once `expert` is resident.
    public func memoryBound(_ shape: ShapeKey, expert: ModelKey) -> Int {
        let perSample = memory.activationBytes(shape: shape) + memory.residentStateBytes(shape: shape)
        return max(1, Int(freeBytesIfResident(expert) / max(1, perSample)))
    }
}

public enum BatchChoice: Sendable, Equatable {
    case run([JobID])
    /// Nothing now; look again after this many seconds (or when something changes).
    case wait(seconds: Double)
}

extension ValidatedJob {
    /// The expert of the first denoise step.
    var firstExpert: ModelKey { ModelKey(model: model, expert: expertPlan.first ?? .main) }
}
