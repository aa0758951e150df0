import SchedulingCore
import TurboServeDomain

extension PolicyCatalog {
    /// TurboServe's own scheduler (`TurboScheduler`), configured as `turboserve serve` would be on this GPU: the
    /// cost model as both estimators, the workload's deadlines (every job carries its own), the published policy's
    /// preload list and 300 s keep-alive, batches bounded by the memory model, on TurboServe's engine (host copies,
    /// streamed loads: `WeightTransfers.streamed`).
    static var extraNames: [String] { ["turboserve"] }
    /// Run only when named: the same scheduler with `objective: deadlines` or `objective: arrival`
    /// (`SchedulingObjective`).
    public static var optionalNames: [String] { ["turboserve-deadlines", "turboserve-arrival"] }

    static func extraEntry(named name: String, calibration: Calibration) -> PolicyEntry? {
        let objectives: [String: SchedulingObjective] = ["turboserve": .tail, "turboserve-deadlines": .deadlines,
                                                        "turboserve-arrival": .arrival]
        guard let objective = objectives[name] else { return nil }
        let published = calibration.publishedExperiment.scheduledPolicy
        return PolicyEntry(name: name, transfers: .streamed) { clock, setup in
            var configuration = turboConfiguration(setup: setup, published: published)
            configuration.objective = objective
            return TurboScheduler(name: name, clock: clock, cost: setup.cost, memory: setup.cost, configuration: configuration)
        }
    }

    static func turboConfiguration(setup: SimulationSetup, published: Calibration.ScheduledPolicy) -> TurboSchedulerConfiguration {
        var configuration = TurboSchedulerConfiguration()
        configuration.deviceMemoryBytes = setup.cost.deviceMemoryBytes
        configuration.sharedBytes = setup.cost.sharedBytes
        configuration.keepAlive = .seconds(published.modelCache.keepAliveSeconds)
        configuration.preload = published.modelCache.preload.compactMap { id in
            ModelCatalog.descriptor(for: id).map { ModelKey(model: id, expert: $0.experts.first ?? .main) }
        }
        configuration.maxQueued = 100_000
        return configuration
    }
}
