import Foundation

/// The figures of one policy on one run, as the comparison table and `results.json` report them. JSON keys are
/// snake_case and part of the contract other tools read (`mean_response_s`, `p95_response_s`, `p99_response_s`,
/// `slo_attainment`, `busy_fraction`, `model_loads`, `jobs_completed`).
public struct PolicySummary: Sendable, Hashable, Codable {
    public var policy: String
    public var jobsArrived: Int
    public var jobsCompleted: Int
    public var meanResponseSeconds: Double
    public var p50ResponseSeconds: Double
    public var p95ResponseSeconds: Double
    public var p99ResponseSeconds: Double
    public var meanQueueWaitSeconds: Double
    public var p95QueueWaitSeconds: Double
    /// Jobs that succeeded within their deadline ÷ jobs that arrived (rejected and unfinished jobs count as missed).
    public var sloAttainment: Double
    public var sloAttainmentByClass: [String: Double]
    public var meanResponseByClass: [String: Double]
    public var throughputPerHour: Double
    /// Engine time computing ÷ horizon.
    public var busyFraction: Double
    public var switchingFraction: Double
    public var cpuOnPathFraction: Double
    public var modelLoads: Int
    public var meanBatchSize: Double
    /// Share of step calls by batch size ("1", "2", "3", "4+").
    public var batchSizeShares: [String: Double]
    /// Jobs that succeeded within their deadline, per hour of the run.
    public var goodputPerHour: Double
    /// The throughput the cost model allows for the jobs this run completed: every step at its best batch size,
    /// the engine never idle (`BenchRunner.bound`); 0 until the runner fills it in.
    public var boundPerHour: Double = 0
    /// The mean, P95 and P99 of the completed jobs' floors: each job alone on an idle engine, its weights resident
    /// (`LatencyFloor`). No policy could have answered these jobs faster; 0 until the runner fills them in.
    public var meanFloorSeconds: Double = 0
    public var p95FloorSeconds: Double = 0
    public var p99FloorSeconds: Double = 0
    public var energyWh: Double
    public var videosPerWh: Double
    public var horizonSeconds: Double
    public var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case policy, jobsArrived = "jobs_arrived", jobsCompleted = "jobs_completed"
        case meanResponseSeconds = "mean_response_s", p50ResponseSeconds = "p50_response_s"
        case p95ResponseSeconds = "p95_response_s", p99ResponseSeconds = "p99_response_s"
        case meanQueueWaitSeconds = "mean_queue_wait_s", p95QueueWaitSeconds = "p95_queue_wait_s"
        case sloAttainment = "slo_attainment", sloAttainmentByClass = "slo_attainment_by_class"
        case meanResponseByClass = "mean_response_by_class_s", throughputPerHour = "throughput_per_hour"
        case busyFraction = "busy_fraction", switchingFraction = "switching_fraction"
        case cpuOnPathFraction = "cpu_on_path_fraction", modelLoads = "model_loads", meanBatchSize = "mean_batch_size"
        case batchSizeShares = "batch_size_shares", goodputPerHour = "goodput_per_hour", boundPerHour = "bound_per_hour"
        case meanFloorSeconds = "mean_floor_s", p95FloorSeconds = "p95_floor_s", p99FloorSeconds = "p99_floor_s"
        case energyWh = "energy_wh", videosPerWh = "videos_per_wh", horizonSeconds = "horizon_s", wallSeconds = "wall_s"
    }

    public init(_ result: SimulationResult, classes: [String], power: PowerModel = PowerModel()) {
        let done = result.jobs.filter { $0.status == .succeeded }
        let responses = done.compactMap(\.response).sorted()
        let waits = result.jobs.compactMap(\.queueWait).sorted()
        let horizon = max(result.horizonSeconds, 1e-9)
        let busy = result.activitySeconds[.compute] ?? 0
        policy = result.policy
        jobsArrived = result.jobs.count
        jobsCompleted = done.count
        meanResponseSeconds = Self.mean(responses)
        p50ResponseSeconds = Self.percentile(responses, 0.50)
        p95ResponseSeconds = Self.percentile(responses, 0.95)
        p99ResponseSeconds = Self.percentile(responses, 0.99)
        meanQueueWaitSeconds = Self.mean(waits)
        p95QueueWaitSeconds = Self.percentile(waits, 0.95)
        sloAttainment = Self.attainment(result.jobs)
        var byClass: [String: Double] = [:], meanByClass: [String: Double] = [:]
        for name in classes {
            let jobs = result.jobs.filter { $0.className == name }
            guard !jobs.isEmpty else { continue }
            byClass[name] = Self.attainment(jobs)
            meanByClass[name] = Self.mean(jobs.compactMap(\.response))
        }
        sloAttainmentByClass = byClass
        meanResponseByClass = meanByClass
        throughputPerHour = Double(done.count) / horizon * 3_600
        busyFraction = busy / horizon
        switchingFraction = (result.activitySeconds[.switching] ?? 0) / horizon
        cpuOnPathFraction = (result.activitySeconds[.cpuOnPath] ?? 0) / horizon
        modelLoads = result.modelLoads
        meanBatchSize = result.stepCalls > 0 ? Double(result.stepSamples) / Double(result.stepCalls) : 0
        let calls = max(1, result.stepCalls)
        batchSizeShares = result.stepCallsBySize.reduce(into: [:]) { shares, entry in
            shares[entry.key >= 4 ? "4+" : "\(entry.key)", default: 0] += Double(entry.value) / Double(calls)
        }
        goodputPerHour = Double(result.jobs.filter(\.metDeadline).count) / horizon * 3_600
        energyWh = power.energyWh(busySeconds: busy, horizonSeconds: horizon)
        videosPerWh = energyWh > 0 ? Double(done.count) / energyWh : 0
        horizonSeconds = result.horizonSeconds
        wallSeconds = result.wallSeconds
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// Nearest-rank percentile of sorted values (0 when empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    static func attainment(_ jobs: [JobOutcome]) -> Double {
        jobs.isEmpty ? 0 : Double(jobs.filter(\.metDeadline).count) / Double(jobs.count)
    }
}
