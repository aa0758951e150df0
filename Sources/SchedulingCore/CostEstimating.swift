import TurboServeDomain

/// What the core may ask about costs, without doing I/O: the simulator answers from its calibrated cost model,
/// the worker runtime from measured engine timings (with a calibrated prior until it has measurements).
/// Implementations must be pure and cheap (called while planning).
public protocol CostEstimating: Sendable {
    /// End-to-end latency of the job run alone on an idle engine with its model resident. Deadlines are
    /// `SLO factor × isolatedLatency` after arrival.
    func isolatedLatency(of job: ValidatedJob) -> Duration
    /// One batched denoise step of `batchSize` samples of `shape` on `expert`.
    func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration
    /// Text encode (+ image encode for I2V) + initial noise for `batchSize` jobs of `shape`.
    func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration
    /// VAE decode of one job of `shape`.
    func decodeTime(shape: ShapeKey) -> Duration
    /// Moving `expert`'s weights onto the device.
    func loadTime(_ expert: ModelKey) -> Duration
    /// Moving `expert`'s weights off the device (default: the same as loading, as when they are copied back to host).
    func unloadTime(_ expert: ModelKey) -> Duration
    /// The CPU output pipeline (MP4 encode, thumbnail, storage) for one job of `shape`, after its decode. Off the
    /// engine path, but part of the time a job needs before its deadline (default: zero).
    func outputTime(shape: ShapeKey) -> Duration
}

extension CostEstimating {
    public func unloadTime(_ expert: ModelKey) -> Duration { loadTime(expert) }
    public func outputTime(shape: ShapeKey) -> Duration { .zero }
}

/// Device memory the core plans against: weights per residency unit and activation bytes per sample.
/// Batch size is bounded so that resident weights + Σ activations ≤ free device memory − reserve.
public protocol MemoryEstimating: Sendable {
    func weightBytes(_ expert: ModelKey) -> Int64
    /// Peak extra bytes one sample of `shape` needs during a denoise step (activations, latents, text states).
    func activationBytes(shape: ShapeKey) -> Int64
    /// Bytes a job holds on the device between steps (latents, text embeddings, generator state).
    func residentStateBytes(shape: ShapeKey) -> Int64
}
