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
    private let simulateFleet: (@Sendable (SimulationSetup, FleetOptions) -> FleetResult)?

    public init(
        name: String, stagesOnEnginePath: Set<PlanAction.OnPathWork> = [], transfers: WeightTransfers = .upstream,
        simulate: @escaping @Sendable (SimulationSetup) -> SimulationResult
    ) {
        self.name = name
        self.stagesOnEnginePath = stagesOnEnginePath
        self.transfers = transfers
        self.simulate = simulate
        simulateFleet = nil
    }

    /// An entry that builds one policy per engine with `make` (given the run's clock and setup), so it runs on one
    /// engine (`run`) and on a fleet (`runFleet`).
    public init<Policy: SchedulingPolicy>(
        name: String, stagesOnEnginePath: Set<PlanAction.OnPathWork> = [], transfers: WeightTransfers = .upstream,
        make: @escaping @Sendable (VirtualClock, SimulationSetup) -> Policy
    ) where Policy.C == VirtualClock {
        self.name = name
        self.stagesOnEnginePath = stagesOnEnginePath
        self.transfers = transfers
        simulate = { setup in
            let clock = VirtualClock()
            return Simulator.run(make(clock, setup), clock: clock, setup: setup)
        }
        simulateFleet = { setup, fleet in FleetSimulator.run(policy: name, setup: setup, fleet: fleet) { make($0, setup) } }
    }

    public func run(_ setup: SimulationSetup) -> SimulationResult { simulate(prepared(setup)) }

    /// The policy on a fleet of engines sharing one queue; nil for an entry built from a single-engine closure.
    public func runFleet(_ setup: SimulationSetup, fleet: FleetOptions) -> FleetResult? { simulateFleet?(prepared(setup), fleet) }

    private func prepared(_ setup: SimulationSetup) -> SimulationSetup {
        var setup = setup
        setup.stagesOnEnginePath = stagesOnEnginePath
        setup.cost.transfers = transfers
        return setup
    }
}

public enum PolicyCatalog {
    /// The policies `all` runs, in the order the comparison table lists them; `serial` first (the reference for
    /// ratios). `optionalNames` run only when named.
    public static var names: [String] { baselineNames + extraNames }
    /// The policies TurboServe is compared against (the workloads README's first three).
    public static let baselineNames = ["serial", "seed", "dynamic-batch"]

    /// The entries for `names` (or all) built for this calibration; `baselineTransfers` is the engine the
    /// baselines drive (upstream's unless asked otherwise) and `dynamicBatch` the rule `dynamic-batch` batches by
    /// (its defaults unless asked otherwise: a setting of the baseline can be moved to show a result does not rest
    /// on it).
    public static func entries(
        _ names: [String]? = nil, calibration: Calibration, baselineTransfers: WeightTransfers = .upstream,
        dynamicBatch: DynamicBatchRule = DynamicBatchRule()
    ) throws -> [PolicyEntry] {
        try (names ?? Self.names).map { name in
            guard var entry = entry(named: name, calibration: calibration, dynamicBatch: dynamicBatch) else { throw unknownPolicy(name) }
            if baselineNames.contains(name) { entry.transfers = baselineTransfers }
            return entry
        }
    }

    /// Throws the refusal of the first of `names` that names no policy, or of an empty list (`all` is expanded
    /// before this), so a caller can refuse a `--policy` before building anything.
    public static func checkNames(_ names: [String]) throws {
        guard !names.isEmpty else { throw WorkloadError(file: "--policy", message: "names no policy; allowed: \(allowed)") }
        let known = Set(Self.names + optionalNames)
        if let unknown = names.first(where: { !known.contains($0) }) { throw unknownPolicy(unknown) }
    }

    static func unknownPolicy(_ name: String) -> WorkloadError {
        WorkloadError(file: "--policy", message: "'\(name)' is not a policy; allowed: \(allowed)")
    }

    /// The names `--policy` takes, for refusals.
    static var allowed: String { (Self.names + optionalNames).joined(separator: ", ") + ", all" }

    public static func entry(named name: String, calibration: Calibration, dynamicBatch: DynamicBatchRule = DynamicBatchRule()) -> PolicyEntry? {
        let published = calibration.publishedExperiment.scheduledPolicy
        switch name {
        case "serial":
            return PolicyEntry(name: name, stagesOnEnginePath: [.parse, .mux]) { clock, setup in
                SerialPolicy<VirtualClock>.serial(clock: clock, memory: setup.cost, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
            }
        case "seed":
            return PolicyEntry(name: name) { clock, setup in
                SeedPolicy(clock: clock, memory: setup.cost, published: published, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
            }
        case "dynamic-batch":
            return PolicyEntry(name: name) { clock, setup in
                DynamicBatchPolicy<VirtualClock>.dynamicBatch(clock: clock, memory: setup.cost, rule: dynamicBatch, deviceMemoryBytes: setup.cost.deviceMemoryBytes)
            }
        default:
            return extraEntry(named: name, calibration: calibration)
        }
    }
}
