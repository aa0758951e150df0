import SchedulingCore

/// Everything one simulated run needs besides the policy: the class mix, the arrivals, the cost model, the CPU
/// pools and which CPU stages the policy runs on the engine path.
public struct SimulationSetup: Sendable {
    /// How requests arrive.
    public enum Arrivals: Sendable, Hashable {
        /// Users that wait for each video, then think (exponential, mean `thinkSeconds`) before the next request.
        /// Each user draws its think times and classes from its own stream of `seed`, so the k-th request of a
        /// user is the same class under every policy. Nobody submits after `durationSeconds`.
        case closedLoop(users: Int, thinkSeconds: Double, durationSeconds: Double, seed: UInt64)
        /// A fixed list (open loop), e.g. from `PoissonArrivals`.
        case open([ScheduledArrival], durationSeconds: Double)

        public var durationSeconds: Double {
            switch self {
            case let .closedLoop(_, _, d, _), let .open(_, d): d
            }
        }
    }

    public var classes: [WorkloadClass]
    public var arrivals: Arrivals
    public var cost: CalibratedCostModel
    /// Deadline (seconds after arrival) per class, same order as `classes`; written into each job's
    /// `ValidatedJob.deadlineSeconds` so every policy sees the same deadline.
    public var deadlines: [Double?]
    /// CPU workers that parse and validate requests before they reach the scheduler (the gateway).
    public var gatewayWorkers: Int
    /// CPU workers of the output pipeline (MP4 encode + storage), off the engine path.
    public var outputWorkers: Int
    /// CPU stages the policy performs itself as `onEnginePath` plans (the serial baseline: both); the simulator
    /// then does not run them in its CPU pools.
    public var stagesOnEnginePath: Set<PlanAction.OnPathWork>
    /// Stop after this much simulated time even if jobs remain (they count as unfinished).
    public var maxSimulatedSeconds: Double

    public init(classes: [WorkloadClass], arrivals: Arrivals, cost: CalibratedCostModel, deadlines: [Double?], gatewayWorkers: Int = 4, outputWorkers: Int = 2, stagesOnEnginePath: Set<PlanAction.OnPathWork> = [], maxSimulatedSeconds: Double? = nil) {
        self.classes = classes
        self.arrivals = arrivals
        self.cost = cost
        self.deadlines = deadlines
        self.gatewayWorkers = gatewayWorkers
        self.outputWorkers = outputWorkers
        self.stagesOnEnginePath = stagesOnEnginePath
        self.maxSimulatedSeconds = maxSimulatedSeconds ?? (arrivals.durationSeconds * 20 + 3_600)
    }
}

/// One open-loop arrival: when, and which class of the setup.
public struct ScheduledArrival: Sendable, Hashable, Codable {
    public var time: Double
    public var classIndex: Int
    public init(time: Double, classIndex: Int) {
        self.time = time
        self.classIndex = classIndex
    }
}

/// Open-loop Poisson arrivals: exponential gaps at `ratePerSecond`, classes drawn by weight, until `duration`.
public enum PoissonArrivals {
    public static func generate(ratePerSecond: Double, durationSeconds: Double, weights: [Double], seed: UInt64, shape: ArrivalShape = ArrivalShape()) -> [ScheduledArrival] {
        precondition(ratePerSecond > 0, "rate must be positive")
        if shape == ArrivalShape() {
            var rng = SplitMix64(seed: seed)
            var arrivals: [ScheduledArrival] = []
            var t = rng.exponential(mean: 1 / ratePerSecond)
            while t < durationSeconds {
                arrivals.append(ScheduledArrival(time: t, classIndex: rng.weightedIndex(weights)))
                t += rng.exponential(mean: 1 / ratePerSecond)
            }
            return arrivals
        }
        // Shaped arrivals draw times and classes from separate streams.
        var timing = SplitMix64.stream(1, of: seed)
        var classes = SplitMix64.stream(2, of: seed)
        return shape.arrivalTimes(ratePerSecond: ratePerSecond, durationSeconds: durationSeconds, rng: &timing)
            .map { ScheduledArrival(time: $0, classIndex: classes.weightedIndex(weights)) }
    }
}
