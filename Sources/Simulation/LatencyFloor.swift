import SchedulingCore

/// The shortest responses a run's jobs could have had, by the cost model: each job alone on an idle engine with its
/// weights already on the device (`CalibratedCostModel.residentSeconds`). Every job's response is at least its floor,
/// so every percentile of a run's responses is at least the same percentile of its floors: no order, batching or
/// residency rule on this engine could have answered the same jobs with a lower mean, P95 or P99. In a closed loop
/// the jobs a run holds depend on the policy, so each run has its own floor. Per workload class; pure.
public struct LatencyFloor: Sendable {
    /// Floor seconds by class index (nil for a class the catalog cannot validate).
    public let seconds: [Double?]

    public init(cost: CalibratedCostModel, classes: [WorkloadClass]) {
        seconds = classes.map { c in (try? c.validatedJob(seed: 0, deadlineSeconds: nil)).map(cost.residentSeconds) }
    }

    /// The floor of one job of a run, if its class is known.
    public func seconds(of job: JobOutcome) -> Double? {
        seconds.indices.contains(job.classIndex) ? seconds[job.classIndex] : nil
    }

    /// Mean, P95 and P99 of the floors of the jobs `result` completed (the jobs its response figures are over).
    public func figures(_ result: SimulationResult) -> (mean: Double, p95: Double, p99: Double) {
        let floors = result.jobs.filter { $0.status == .succeeded }.compactMap(seconds(of:)).sorted()
        return (PolicySummary.mean(floors), PolicySummary.percentile(floors, 0.95), PolicySummary.percentile(floors, 0.99))
    }
}
