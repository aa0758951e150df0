/// The autoscaling replay: one run of the workload's arrivals on a fleet the autoscaler sizes, next to fixed
/// fleets on the same arrivals — the autoscaler's minimum, its peak, the fleet that pays the same GPU-hours, and
/// the smallest fixed fleet that meets the SLO attainment target — so an operator sees what the scaling
/// settings buy: attainment against GPU-hours. All runs share one arrival list (`FleetPlanner.setup`).
public struct AutoscaleReplay: Sendable {
    public let planner: FleetPlanner
    public let settings: AutoscalerSettings

    public init(planner: FleetPlanner, settings: AutoscalerSettings) {
        self.planner = planner
        self.settings = settings
    }

    public struct Outcome: Sendable {
        public var ratePerSecond: Double
        public var autoscaled: FleetResult
        public var rows: [FleetSummary]
        /// The smallest fixed fleet meeting the target, if one up to `planner.maxEngines` does.
        public var smallestFixed: Int?
    }

    public func run(ratePerSecond: Double, progress: (String) -> Void = { _ in }) -> Outcome {
        let setup = planner.setup(ratePerSecond: ratePerSecond)
        var scaled = planner
        scaled.options.autoscaler = settings
        progress("autoscaled fleet")
        let autoscaled = scaled.run(setup, engines: settings.minReplicas)
        var fixed = planner
        fixed.options.autoscaler = nil
        let hours = planner.durationSeconds / 3_600
        let equal = max(1, Int((autoscaled.gpuHours / hours).rounded()))
        var runs: [Int: FleetSummary] = [:]
        for n in [settings.minReplicas, equal, autoscaled.peakEngines] where runs[n] == nil {
            progress("fixed fleet of \(n)")
            runs[n] = fixed.summary(fixed.run(setup, engines: n), fleet: "fixed \(n)")
        }
        // The smallest fixed fleet meeting the target, searched upward from just above the largest fixed fleet
        // already seen to miss it (a smaller fleet is assumed to miss too).
        let missing = runs.filter { $0.value.sloAttainment < planner.target }.keys.max() ?? 0
        let found = fixed.smallestFleet(setup, from: missing + 1) { progress("smallest fixed fleet: " + $0) }
        if let n = found.engines, let at = found.at, runs[n] == nil { runs[n] = at }
        let rows = [planner.summary(autoscaled, fleet: "autoscaled \(settings.minReplicas)–\(settings.maxReplicas)")]
            + runs.keys.sorted().compactMap { runs[$0] }
        return Outcome(ratePerSecond: ratePerSecond, autoscaled: autoscaled, rows: rows, smallestFixed: found.engines)
    }
}
