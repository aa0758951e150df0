import SchedulingCore
import TurboServeDomain

/// The policies `turboserve bench` can compare, by name, each ready to simulate on a setup. Every policy gets a
/// fresh `VirtualClock` and the same setup (arrivals, cost model, deadlines). Two things differ, and each is what
/// the system behind the policy does: `stagesOnEnginePath` (the serial baseline parses and saves on the engine
/// path) and `transfers`, the engine it drives (the baselines drive upstream's, `turboserve` its own; `turboserve
/// bench --baseline-engine streamed` puts the baselines on TurboServe's engine too).
public struct PolicyEntry: Sendable {
    public let name: String
    public let stagesOnEnginePath: Set<PlanAction.OnPathWork>
    public var transfers: WeightTransfers
    private let simulate: @Sendable (SimulationSetup) -> SimulationResult

    public init(
        name: String, stagesOnEnginePath: Set<PlanAction.OnPathWork> = [], transfers: WeightTransfers = .upstream,
        simulate: @escaping @Sendable (SimulationSetup) -> SimulationResult
    ) {
        self.name = name
        self.stagesOnEnginePath = stagesOnEnginePath
        self.transfers = transfers
        self.simulate = simulate
    }

    public func run(_ setup: SimulationSetup) -> SimulationResult {
        var setup = setup
        setup.stagesOnEnginePath = stagesOnEnginePath
        setup.cost.transfers = transfers
        return simulate(setup)
    }
}

public enum PolicyCatalog {
    /// The policies `all` runs, in the order the comparison table lists them; `serial` first (the reference for
    /// ratios). `optionalNames` run only when named.
    public static var names: [String] { baselineNames + extraNames }
    /// The policies TurboServe is compared against (the workloads README's first three).
    public static let baselineNames = ["serial", "seed", "dynamic-batch"]

    /// The entries for `names` (or all) built for this calibration; `baselineTransfers` is the engine the
    /// baselines drive (upstream's unless asked otherwise).
    public static func entries(_ names: [String]? = nil, calibration: Calibration, baselineTransfers: WeightTransfers = .upstream) throws -> [PolicyEntry] {
        try (names ?? Self.names).map { name in
            guard var entry = entry(named: name, calibration: calibration) else {
                throw WorkloadError(file: "--policy", message: "'\(name)' is not a policy; allowed: \((Self.names + optionalNames).joined(separator: ", ")), all")
            }
            if baselineNames.contains(name) { entry.transfers = baselineTransfers }
            return entry
        }
    }

    public static func entry(named name: String, calibration: Calibration) -> PolicyEntry? {
        let published = calibration.publishedExperiment.scheduledPolicy
        switch name {
        case "serial":
            return PolicyEntry(name: name, stagesOnEnginePath: [.parse, .mux]) { setup in
                let clock = VirtualClock()
                let policy = SerialPolicy<VirtualClock>.serial(clock: clock, memory: setup.cost, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
                return Simulator.run(policy, clock: clock, setup: setup)
            }
        case "seed":
            return PolicyEntry(name: name) { setup in
                let clock = VirtualClock()
                let policy = SeedPolicy(clock: clock, memory: setup.cost, published: published, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
                return Simulator.run(policy, clock: clock, setup: setup)
            }
        case "dynamic-batch":
            return PolicyEntry(name: name) { setup in
                let clock = VirtualClock()
                let policy = DynamicBatchPolicy<VirtualClock>.dynamicBatch(clock: clock, memory: setup.cost, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
                return Simulator.run(policy, clock: clock, setup: setup)
            }
        default:
            return extraEntry(named: name, calibration: calibration)
        }
    }
}
