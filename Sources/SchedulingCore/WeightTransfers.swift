/// How an engine moves a model's weights on and off the device. The simulated engine and the cost model's
/// switch estimates both follow it.
public enum WeightTransfers: String, Sendable, Hashable, Codable, CaseIterable {
    /// Upstream TurboDiffusion: unloading copies the weights back to host memory (as long as a load), and a load
    /// holds the engine until every byte is on the device.
    case upstream
    /// TurboServe's engine (`engine/turboserve_engine/models.py`): it keeps a host copy of every expert it has
    /// loaded, so unloading only frees device memory; a load copies the transformer blocks in order on a side
    /// stream and returns at once, and each block of the next step waits only for its own weights. A step right
    /// after a load therefore waits only for the part of the transfer its compute cannot cover.
    case streamed
}
