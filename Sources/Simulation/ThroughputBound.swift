import SchedulingCore
import TurboServeDomain

/// The most a run's completed jobs could have been served at, by the cost model: every denoise step at the batch
/// size with the lowest cost per sample that memory allows beside the model's weights (up to `maxBatch`), admits
/// and decodes alone, no weight moves and no idle engine. `jobsPerHour` is completed jobs ÷ that engine time; the
/// gap between a policy's throughput and this bound is what batching and idling cost it. Pure.
public struct ThroughputBound: Sendable {
    public let cost: CalibratedCostModel
    public var maxBatch = 8

    public init(cost: CalibratedCostModel) { self.cost = cost }

    /// Seconds of engine time one step of `shape` on `expert` costs per sample at its best batch size.
    public func bestStepSecondsPerSample(shape: ShapeKey, expert: ModelKey) -> Double {
        let free = cost.deviceMemoryBytes - cost.sharedBytes - cost.weightBytes(expert)
        let perSample = max(1, cost.activationBytes(shape: shape) + cost.residentStateBytes(shape: shape))
        let largest = max(1, min(maxBatch, Int(free / perSample)))
        return (1...largest).map { cost.stepSeconds(shape: shape, expert: expert, batchSize: $0) / Double($0) }.min() ?? 0
    }

    /// Engine seconds `job` needs at best: admit + its steps at best batch size + decode.
    public func engineSeconds(of job: ValidatedJob) -> Double {
        let shape = job.shapeKey
        let steps = job.expertPlan.reduce(0.0) { $0 + bestStepSecondsPerSample(shape: shape, expert: ModelKey(model: job.model, expert: $1)) }
        return cost.admitSeconds(shape: shape, task: job.task, batchSize: 1) + steps + cost.decodeSeconds(shape)
    }

    /// Jobs per hour the bound allows for the jobs `result` completed (classes by index into `classes`).
    public func jobsPerHour(_ result: SimulationResult, classes: [WorkloadClass]) -> Double {
        let done = result.jobs.filter { $0.status == .succeeded }
        let seconds = done.reduce(0.0) { total, outcome in
            guard classes.indices.contains(outcome.classIndex),
                  let job = try? classes[outcome.classIndex].validatedJob(seed: 0, deadlineSeconds: nil) else { return total }
            return total + engineSeconds(of: job)
        }
        return seconds > 0 ? Double(done.count) / seconds * 3_600 : 0
    }
}
