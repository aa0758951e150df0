import SchedulingCore
import TurboServeDomain

/// A Triton-style dynamic batcher: FIFO; the oldest job's shape (model, size, frames, steps, sampler) forms the
/// batch with the other queued jobs of exactly that shape, up to `preferredBatchSize` (and what fits in memory).
/// A smaller batch waits until the oldest job has queued `maxQueueDelaySeconds`, then goes as it is.
public struct DynamicBatchRule: BatchRule {
    public var preferredBatchSize: Int
    public var maxQueueDelaySeconds: Double

    public init(preferredBatchSize: Int = 4, maxQueueDelaySeconds: Double = 0.5) {
        self.preferredBatchSize = preferredBatchSize
        self.maxQueueDelaySeconds = maxQueueDelaySeconds
    }

    public func select(_ queue: [QueuedJob], context: BatchContext) -> BatchChoice? {
        guard let head = queue.first else { return nil }
        let same = queue.filter {
            $0.spec.shapeKey == head.spec.shapeKey && $0.spec.steps == head.spec.steps
                && $0.spec.sampler == head.spec.sampler && $0.spec.expertPlan == head.spec.expertPlan
        }
        let limit = min(preferredBatchSize, context.memoryBound(head.spec.shapeKey, expert: head.spec.firstExpert))
        if same.count < limit, head.waitedSeconds < maxQueueDelaySeconds {
            return .wait(seconds: maxQueueDelaySeconds - head.waitedSeconds)
        }
        return .run(same.prefix(limit).map(\.id))
    }
}

/// `dynamic-batch` — `DynamicBatchRule` (preferred batch 4, max queue delay 0.5 s); models loaded as needed and
/// kept while they fit (least recently used evicted); each batch runs to completion; asynchronous video saving.
public typealias DynamicBatchPolicy<C: Clock> = BaselinePolicy<C, DynamicBatchRule> where C.Duration == Duration

extension BaselinePolicy where Rule == DynamicBatchRule {
    public static func dynamicBatch(clock: C, memory: any MemoryEstimating, rule: DynamicBatchRule = DynamicBatchRule(), deviceMemoryBytes: Int64 = 48_000_000_000) -> Self {
        var options = BaselineOptions()
        options.deviceMemoryBytes = deviceMemoryBytes
        return Self(name: "dynamic-batch", clock: clock, rule: rule, memory: memory, options: options)
    }
}
