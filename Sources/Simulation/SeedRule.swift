import SchedulingCore
import TurboServeDomain

/// The published scheduled policy's choice of work: priority levels (I2V first, then 4-step jobs, then the rest;
/// FIFO within a level); the head's model batches with every queued job of the same shape (and first expert), in
/// level-then-FIFO order, up to a batch size looked up from the free device memory once that model is resident.
public struct SeedRule: BatchRule {
    /// `(free GB threshold, batch size)`, highest threshold first: the first row whose threshold the free memory
    /// reaches gives the batch size.
    public var batchSizeByFreeGB: [(threshold: Double, size: Int)]

    public init(batchSizeByFreeGB: [(threshold: Double, size: Int)]) {
        self.batchSizeByFreeGB = batchSizeByFreeGB.sorted { $0.threshold > $1.threshold }
    }

    /// 0 = most urgent: I2V, then 4-step jobs, then the rest.
    public static func level(of spec: ValidatedJob) -> Int {
        if spec.task == .imageToVideo { return 0 }
        return spec.steps == 4 ? 1 : 2
    }

    public func batchSize(freeBytes: Int64) -> Int {
        let gb = Double(freeBytes) / 1e9
        return batchSizeByFreeGB.first { gb >= $0.threshold }?.size ?? 1
    }

    public func select(_ queue: [QueuedJob], context: BatchContext) -> BatchChoice? {
        let ordered = queue.sorted { (Self.level(of: $0.spec), $0.order) < (Self.level(of: $1.spec), $1.order) }
        guard let head = ordered.first else { return nil }
        let expert = head.spec.firstExpert
        let size = max(1, batchSize(freeBytes: context.freeBytesIfResident(expert)))
        let mates = ordered.filter { $0.spec.shapeKey == head.spec.shapeKey && $0.spec.firstExpert == expert }
        return .run(mates.prefix(size).map(\.id))
    }
}

/// `seed` — the published scheduled policy (calibration `scheduled_policy`): `SeedRule` batches; a cache of at
/// most 2 models with a 300 s keep-alive and the preload list (for I2V its first expert) loaded at start and kept
/// from keep-alive; asynchronous video saving (off the engine path). Each batch runs to completion.
public typealias SeedPolicy<C: Clock> = BaselinePolicy<C, SeedRule> where C.Duration == Duration

extension BaselinePolicy where Rule == SeedRule {
    public static func seed(clock: C, memory: any MemoryEstimating, published: Calibration.ScheduledPolicy, deviceMemoryBytes: Int64 = 48_000_000_000) -> Self {
        var options = BaselineOptions()
        options.deviceMemoryBytes = deviceMemoryBytes
        options.maxResidentModels = published.modelCache.maxSize
        options.keepAlive = .seconds(published.modelCache.keepAliveSeconds)
        options.preload = published.modelCache.preload.map { model in
            ModelKey(model: model, expert: ModelCatalog.descriptor(for: model)?.experts.first ?? .main)
        }
        let table = published.batchSizeByFreeMemoryGB.compactMap { row -> (threshold: Double, size: Int)? in
            row.count == 2 ? (row[0], Int(row[1])) : nil
        }
        return Self(name: "seed", clock: clock, rule: SeedRule(batchSizeByFreeGB: table), memory: memory, options: options)
    }
}
