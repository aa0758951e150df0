import TurboServeDomain

/// TurboServe's one cost profile: what each engine action costs before anything is measured, for `serve`'s and
/// `worker`'s scheduler (wrapped in `LearnedCostModel`, which replaces step times with measured ones) and derived the
/// same way the simulator derives its engine.
///
/// - Real models: `CalibratedCostModel(calibration: .rtx5090)` — the simulator's derivation from the repository's
///   calibration — with `transfers: .streamed`, the way TurboServe's engine moves weights (host copies kept, loads
///   streamed under compute). Nothing is copied by hand: change the calibration and both follow.
/// - Tiny CPU models: `tinyCPU`, the costs measured on a 2-core CPU (`../shared/reference/turbodiffusion.md`: 64×64,
///   17 frames — 80 tokens — text encode 2 ms, a denoise step 5 ms, VAE decode ≈ 80 ms, MP4 ≈ 10 ms, a load 50 ms),
///   scaled linearly with tokens. They only seed the estimates: a busy CPU runs far slower, which the learned step
///   times catch within a few plans.
///
/// Pure and cheap; `Sendable`. Memory is `WanMemoryModel` for every model.
public struct CostProfile: CostEstimating, MemoryEstimating, Sendable {
    public var calibrated: CalibratedCostModel
    public var tinyCPU: CalibratedCostModel

    public init(calibrated: CalibratedCostModel, tinyCPU: CalibratedCostModel = CostProfile.measuredTinyCPU) {
        self.calibrated = calibrated
        self.tinyCPU = tinyCPU
    }

    /// The profile `serve` plans with: the repository's calibration, streamed transfers, the measured tiny costs.
    public static let serving: CostProfile = {
        do {
            var calibrated = try CalibratedCostModel(calibration: .rtx5090)
            calibrated.transfers = .streamed
            return CostProfile(calibrated: calibrated)
        } catch {
            preconditionFailure("the repository's calibration does not derive a cost model: \(error)")
        }
    }()

    /// The tiny models on a CPU, as measured (see the type's comment).
    public static let measuredTinyCPU: CalibratedCostModel = {
        let tokens = 80
        let step = CalibratedCostModel.StepProfile(seconds: 0.005, referenceTokens: tokens, batchExponent: 0.9)
        let none = CalibratedCostModel.CPUStage(seconds: 0, referenceTokens: tokens)
        let mux = CalibratedCostModel.CPUStage(seconds: 0.01, referenceTokens: tokens)
        var model = CalibratedCostModel(
            stepProfiles: ["tiny-t2v": step, "tiny-i2v": step], tokenExponent: 1,
            textEncodeSeconds: 0.002, textEncodeBatchFactor: 0.35,
            decode: CalibratedCostModel.CPUStage(seconds: 0.08, referenceTokens: tokens),
            parse: [.textToVideo: none, .imageToVideo: none], mux: [.textToVideo: mux, .imageToVideo: mux],
            transferFixedSeconds: 0.05, transferBytesPerSecond: 1e12, deviceMemoryBytes: 8_000_000_000, releaseSeconds: 0.005)
        model.transfers = .streamed
        return model
    }()

    /// The model that prices `model`'s work.
    public func costs(of model: String) -> CalibratedCostModel {
        ModelCatalog.descriptor(for: model)?.isTiny == true ? tinyCPU : calibrated
    }

    public func isolatedLatency(of job: ValidatedJob) -> Duration { costs(of: job.model).isolatedLatency(of: job) }
    public func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration { costs(of: shape.model).stepTime(shape: shape, expert: expert, batchSize: batchSize) }
    public func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration { costs(of: shape.model).admitTime(shape: shape, task: task, batchSize: batchSize) }
    public func decodeTime(shape: ShapeKey) -> Duration { costs(of: shape.model).decodeTime(shape: shape) }
    public func loadTime(_ expert: ModelKey) -> Duration { costs(of: expert.model).loadTime(expert) }
    public func unloadTime(_ expert: ModelKey) -> Duration { costs(of: expert.model).unloadTime(expert) }
    public func outputTime(shape: ShapeKey) -> Duration { costs(of: shape.model).outputTime(shape: shape) }

    public func weightBytes(_ expert: ModelKey) -> Int64 { calibrated.weightBytes(expert) }
    public func activationBytes(shape: ShapeKey) -> Int64 { calibrated.activationBytes(shape: shape) }
    public func residentStateBytes(shape: ShapeKey) -> Int64 { calibrated.residentStateBytes(shape: shape) }
}
