import SchedulingCore
import ServerConfiguration
import TurboServeDomain

extension TurboSchedulerConfiguration {
    /// The scheduler of one `serve` engine, from the node's settings and what its engine reported at the handshake:
    /// device memory from the engine (shared encoders counted only when a real model is enabled), the model cache
    /// (`max_resident` distinct models, keep-alive, preload of each model's first expert, pinning of every expert),
    /// batch size, SLO factors, objective (and the arrival objective's factor) and tenant weights, queue bound and
    /// attempts.
    init(settings: ServerConfiguration, deviceMemoryBytes: Int64) {
        self.init()
        let enabled = settings.engines.enabled.compactMap(ModelCatalog.descriptor(for:))
        self.deviceMemoryBytes = deviceMemoryBytes
        sharedBytes = enabled.contains { !$0.isTiny } ? ModelCatalog.sharedComponentBytes : 0
        maxQueued = settings.limits.maxQueuedJobs
        maxBatchSize = settings.scheduler.maxBatchSize
        for (name, factor) in settings.scheduler.sloFactors {
            if let priority = PriorityClass(rawValue: name) { sloFactors[priority] = factor }
        }
        objective = settings.scheduler.objective
        arrivalLatencyFactor = settings.scheduler.arrivalLatencyFactor
        tenantWeights = Dictionary(uniqueKeysWithValues: settings.scheduler.tenantWeights.map { (TenantID($0.key), $0.value) })
        keepAlive = settings.modelCache.keepAliveSeconds > 0 ? .seconds(settings.modelCache.keepAliveSeconds) : nil
        maxResident = settings.modelCache.maxResident
        preload = settings.modelCache.preload.compactMap { id in
            ModelCatalog.descriptor(for: id).map { ModelKey(model: id, expert: $0.experts.first ?? .main) }
        }
        pinned = Set(settings.modelCache.pinned.compactMap(ModelCatalog.descriptor(for:)).flatMap(\.modelKeys))
    }
}
