import TurboServeDomain

/// The simulator's memory model is `WanMemoryModel` (its assumptions are written there), with the shared UMT5
/// encoder + VAE (`ModelCatalog.sharedComponentBytes`, 11.9 GB) resident all the time. Consequences on 48 GB: the
/// 1.3B fits beside one 14B network (43.3 GB of weights), two 14B networks never fit together, and the 1.3B alone
/// leaves 33 GB for batching.
///
/// These are larger than the calibration's measured peaks (11–40 GB), which were taken with the text encoder
/// offloaded after encoding; the simulator keeps it resident, which is the conservative choice for batching.
extension CalibratedCostModel: MemoryEstimating {
    public func weightBytes(_ expert: ModelKey) -> Int64 { WanMemoryModel().weightBytes(expert) }
    public func activationBytes(shape: ShapeKey) -> Int64 { WanMemoryModel().activationBytes(shape: shape) }
    public func residentStateBytes(shape: ShapeKey) -> Int64 { WanMemoryModel().residentStateBytes(shape: shape) }

    /// Shared encoders that are always on the device.
    public var sharedBytes: Int64 { ModelCatalog.sharedComponentBytes }
}
