import SchedulingCore

/// The capacity planner: for a class mix at an arrival rate, the smallest fleet of engines (sharing one queue under
/// the fleet's claim rule) that keeps the workload's SLO attainment target (90% unless the file says otherwise).
///
/// Rates are multiples of the **serial capacity**: `BenchRunner.serialCapacity()`, the jobs per second the serial
/// policy sustains on ONE engine for this mix (400 jobs drawn from the mix, all queued at time 0, ÷ the time
/// serial takes to finish them). Arrivals are open-loop: the workload's own Poisson process (its shape kept) when
/// it has one, else plain Poisson over the mix; `durationSeconds` of them, drawn with the runner's seed.
///
/// The search tries N = 1, 2, … up to `maxEngines` and stops at the first N that meets the target; it does not
/// assume attainment grows with N, it reports the N − 1 run next to it.
public struct FleetPlanner: Sendable {
    public let runner: BenchRunner
    public let policy: PolicyEntry
    public var options: FleetOptions
    public var durationSeconds: Double
    public var maxEngines = 64

    public init(runner: BenchRunner, policy: PolicyEntry, options: FleetOptions = FleetOptions(), durationSeconds: Double? = nil) {
        self.runner = runner
        self.policy = policy
        self.options = options
        self.durationSeconds = durationSeconds ?? runner.workload.arrivals.durationSeconds
    }

    public var target: Double { runner.workload.sloAttainmentTarget }
    var classNames: [String] { runner.workload.classes.map(\.name) }

    /// One planner answer: the smallest N for a rate (nil if none up to `maxEngines`), its run and the N − 1 run.
    public struct Answer: Sendable {
        public var rateFactor: Double
        public var ratePerSecond: Double
        public var engines: Int?
        public var atEngines: FleetSummary?
        public var belowEngines: FleetSummary?
    }

    /// Open-loop arrivals at `ratePerSecond` (mean rate, for shaped workloads).
    public func setup(ratePerSecond: Double) -> SimulationSetup {
        let weights = runner.workload.classes.map(\.weight)
        var shape = ArrivalShape()
        if case let .poisson(_, _, _, own) = runner.workload.arrivals { shape = own }
        let arrivals = PoissonArrivals.generate(ratePerSecond: ratePerSecond, durationSeconds: durationSeconds, weights: weights, seed: runner.seed, shape: shape)
        return runner.setup(.open(arrivals, durationSeconds: durationSeconds))
    }

    /// The policy on a fixed fleet of `engines` (or, with `options.autoscaler`, an autoscaled one).
    public func run(_ setup: SimulationSetup, engines: Int) -> FleetResult {
        var fleet = options
        fleet.engines = engines
        guard let result = policy.runFleet(setup, fleet: fleet) else { preconditionFailure("\(policy.name) cannot run on a fleet") }
        return result
    }

    public func summary(_ result: FleetResult, fleet: String) -> FleetSummary { FleetSummary(result, fleet: fleet, classes: classNames) }

    /// The smallest fixed fleet meeting the target on `setup`, from `from` engines up.
    public func smallestFleet(_ setup: SimulationSetup, from: Int = 1, progress: (String) -> Void = { _ in }) -> (engines: Int?, at: FleetSummary?, below: FleetSummary?) {
        var below: FleetSummary?
        for n in max(1, from)...max(1, maxEngines) {
            progress("\(n) engine(s)")
            let summary = summary(run(setup, engines: n), fleet: "fixed \(n)")
            if summary.sloAttainment >= target { return (n, summary, below) }
            below = summary
        }
        return (nil, nil, below)
    }

    /// The planner's table: one answer per rate factor.
    public func plan(factors: [Double], capacity: Double, progress: (String) -> Void = { _ in }) -> [Answer] {
        factors.map { factor in
            let rate = factor * capacity
            let found = smallestFleet(setup(ratePerSecond: rate)) { progress(String(format: "%g× (%.4f jobs/s): ", factor, rate) + $0) }
            return Answer(rateFactor: factor, ratePerSecond: rate, engines: found.engines, atEngines: found.at, belowEngines: found.below)
        }
    }
}
