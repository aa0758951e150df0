import SchedulingCore
import TurboServeDomain

/// Upstream's server: one job at a time, first come first served.
public struct SerialRule: BatchRule {
    public init() {}
    public func select(_ queue: [QueuedJob], context: BatchContext) -> BatchChoice? {
        queue.first.map { .run([$0.id]) }
    }
}

/// `serial` — what upstream TurboDiffusion's server does, generalised to several models: one job at a time, FIFO;
/// the job's model (for I2V, each expert in turn) is loaded when needed, evicting the least recently used model
/// only when memory runs out (two 14B networks never fit together, so I2V swaps its experts on every request);
/// request parsing and video saving run on the engine path.
public typealias SerialPolicy<C: Clock> = BaselinePolicy<C, SerialRule> where C.Duration == Duration

extension BaselinePolicy where Rule == SerialRule {
    public static func serial(clock: C, memory: any MemoryEstimating, deviceMemoryBytes: Int64 = 48_000_000_000) -> Self {
        var options = BaselineOptions()
        options.parseOnEnginePath = true
        options.muxOnEnginePath = true
        options.deviceMemoryBytes = deviceMemoryBytes
        return Self(name: "serial", clock: clock, rule: SerialRule(), memory: memory, options: options)
    }
}
