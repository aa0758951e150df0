import SchedulingCore
import Foundation

/// Runs a workload against a set of policies: one run each for a closed loop or a fixed Poisson rate, or one run
/// per rate factor for a sweep (rates relative to the serial policy's capacity). Every policy sees the same
/// arrivals (open loop) or the same per-user request sequences (closed loop), the same cost model and the same
/// deadlines. Deterministic for a given workload and seed.
public struct BenchRunner: Sendable {
    public let workload: Workload
    public let cost: CalibratedCostModel
    public let policies: [PolicyEntry]
    public let seed: UInt64
    public var power = PowerModel()

    public init(
        workload: Workload, policies: [String]? = nil, seed: UInt64? = nil, baselineTransfers: WeightTransfers = .upstream,
        dynamicBatch: DynamicBatchRule = DynamicBatchRule()
    ) throws {
        self.workload = workload
        cost = try CalibratedCostModel(calibration: workload.calibration)
        self.policies = try PolicyCatalog.entries(policies, calibration: workload.calibration, baselineTransfers: baselineTransfers, dynamicBatch: dynamicBatch)
        self.seed = seed ?? workload.arrivals.seed
    }

    /// Deadline per class: `slo_factor ×` the class's isolated latency as measured in the calibration file (or,
    /// for a shape the file did not measure, as the cost model predicts it).
    public var deadlines: [Double?] {
        workload.classes.map { c in
            if let run = workload.calibration.isolatedRun(model: c.model, resolution: c.resolution, frames: c.frames, steps: c.steps) {
                return c.sloFactor * run.latencySeconds
            }
            guard let job = try? c.validatedJob(seed: 0, deadlineSeconds: nil) else { return nil }
            return c.sloFactor * cost.isolatedSeconds(of: job)
        }
    }

    public func setup(_ arrivals: SimulationSetup.Arrivals) -> SimulationSetup {
        SimulationSetup(classes: workload.classes, arrivals: arrivals, cost: cost, deadlines: deadlines)
    }

    /// The workload's arrivals as a setup (a sweep's factor 1.0 point for sweeps).
    public func setup(rateFactor: Double = 1, capacity: Double? = nil) -> SimulationSetup {
        switch workload.arrivals.reseeded(seed) {
        case let .closedLoop(users, think, duration, seed):
            return setup(.closedLoop(users: users, thinkSeconds: think, durationSeconds: duration, seed: seed))
        case let .poisson(rate, duration, seed, shape):
            return setup(.open(PoissonArrivals.generate(ratePerSecond: rate, durationSeconds: duration, weights: workload.classes.map(\.weight), seed: seed, shape: shape), durationSeconds: duration))
        case let .poissonSweep(_, duration, seed):
            let rate = rateFactor * (capacity ?? serialCapacity())
            return setup(.open(PoissonArrivals.generate(ratePerSecond: rate, durationSeconds: duration, weights: workload.classes.map(\.weight), seed: seed), durationSeconds: duration))
        }
    }

    /// Jobs per second the serial policy sustains on this class mix: 400 jobs drawn from the mix (with the
    /// workload's seed) all queued at time 0, divided by the time serial takes to finish them.
    public func serialCapacity(jobs: Int = 400) -> Double {
        var rng = SplitMix64(seed: seed)
        let arrivals = (0..<jobs).map { _ in ScheduledArrival(time: 0, classIndex: rng.weightedIndex(workload.classes.map(\.weight))) }
        guard let serial = PolicyCatalog.entry(named: "serial", calibration: workload.calibration) else { return 0 }
        var saturated = setup(.open(arrivals, durationSeconds: 0))
        saturated.maxSimulatedSeconds = .infinity
        let result = serial.run(saturated)
        return Double(result.jobs.filter { $0.status == .succeeded }.count) / max(result.horizonSeconds, 1e-9)
    }

    /// One run per policy on the workload's arrivals.
    public func run(progress: (String) -> Void = { _ in }) -> [SimulationResult] {
        let shared = setup()
        return policies.enumerated().map { i, policy in
            progress("policy \(i + 1)/\(policies.count): \(policy.name)")
            return policy.run(shared)
        }
    }

    /// One run per rate factor and policy. Factors come from the workload (`rate_factors`).
    public func sweep(progress: (String) -> Void = { _ in }) -> Sweep {
        guard case let .poissonSweep(factors, _, _) = workload.arrivals else { return Sweep(capacityPerSecond: 0, points: []) }
        let capacity = serialCapacity()
        var points: [Sweep.Point] = []
        for (i, factor) in factors.enumerated() {
            let shared = setup(rateFactor: factor, capacity: capacity)
            let rate = factor * capacity
            var results: [SimulationResult] = []
            for policy in policies {
                progress(String(format: "sweep point %d/%d (%.2f× serial capacity, %.4f jobs/s): %@", i + 1, factors.count, factor, rate, policy.name))
                results.append(policy.run(shared))
            }
            points.append(Sweep.Point(rateFactor: factor, ratePerSecond: rate, results: results))
        }
        return Sweep(capacityPerSecond: capacity, points: points)
    }

    public func summaries(_ results: [SimulationResult]) -> [PolicySummary] {
        let bound = ThroughputBound(cost: cost)
        let floor = latencyFloor
        return results.map { result in
            var summary = PolicySummary(result, classes: workload.classes.map(\.name), power: power)
            summary.boundPerHour = bound.jobsPerHour(result, classes: workload.classes)
            (summary.meanFloorSeconds, summary.p95FloorSeconds, summary.p99FloorSeconds) = floor.figures(result)
            return summary
        }
    }

    /// The workload's classes' response floors on this cost model.
    public var latencyFloor: LatencyFloor { LatencyFloor(cost: cost, classes: workload.classes) }
}

/// The runs of a rate sweep and the goodput they imply.
public struct Sweep: Sendable {
    public struct Point: Sendable {
        public var rateFactor: Double
        public var ratePerSecond: Double
        public var results: [SimulationResult]
    }

    public var capacityPerSecond: Double
    public var points: [Point]

    /// `[(rate, attainment)]` of one policy, by rate.
    public func attainment(of policy: String) -> [(rate: Double, attainment: Double)] {
        points.compactMap { point in
            point.results.first { $0.policy == policy }.map { (point.ratePerSecond, PolicySummary.attainment($0.jobs)) }
        }
    }

    /// The highest swept rate at which the policy kept at least `target` of its jobs within deadline (0 if none).
    public func goodput(of policy: String, target: Double) -> Double {
        attainment(of: policy).filter { $0.attainment >= target }.map(\.rate).max() ?? 0
    }

    /// Where the attainment curve crosses `target`, linearly interpolated between the last swept rate that meets
    /// it and the next one that does not (the grid value when the curve never comes back down).
    public func interpolatedGoodput(of policy: String, target: Double) -> Double {
        let curve = attainment(of: policy)
        guard let last = curve.lastIndex(where: { $0.attainment >= target }) else { return 0 }
        guard last + 1 < curve.count else { return curve[last].rate }
        let (a, b) = (curve[last], curve[last + 1])
        guard a.attainment > b.attainment else { return a.rate }
        return a.rate + (b.rate - a.rate) * (a.attainment - target) / (a.attainment - b.attainment)
    }
}
