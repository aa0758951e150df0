import SchedulingCore
import TurboServeDomain

extension PolicyCatalog {
    /// TurboServe's own scheduler (`TurboScheduler`), configured as `turboserve serve` would be on this GPU: the
    /// cost model as both estimators, the workload's deadlines (every job carries its own), the published policy's
    /// preload list and 300 s keep-alive, batches bounded by the memory model.
    static var extraNames: [String] { ["turboserve"] }

    static func extraEntry(named name: String, calibration: Calibration) -> PolicyEntry? {
        guard name == "turboserve" else { return nil }
        let published = calibration.publishedExperiment.scheduledPolicy
        return PolicyEntry(name: name) { setup in
            let clock = VirtualClock()
            let policy = TurboScheduler(clock: clock, cost: setup.cost, memory: setup.cost, configuration: turboConfiguration(setup: setup, published: published))
            return Simulator.run(policy, clock: clock, setup: setup)
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
