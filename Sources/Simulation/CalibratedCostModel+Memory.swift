import SchedulingCore
import TurboServeDomain

/// The memory model: what a policy may keep on the device at once.
///
/// Assumptions (also in docs/benchmarks.md):
/// - Weights are `ModelCatalog.weightBytesPerExpert` (bf16): 1.3B 2.84 GB, each 14B network 28.6 GB. The shared
///   UMT5 encoder + VAE (`ModelCatalog.sharedComponentBytes`, 11.9 GB) stay resident all the time.
/// - Peak activation per sample during a denoise step = tokens × 2 FFN-wide bf16 tensors (flash/sparse attention
///   keeps no L×L matrix): `tokens × 4 bytes × ffn_dim` with ffn_dim 8,960 (1.3B) or 13,824 (14B): 1.17 GB for a
///   1.3B 480p sample, 1.81 GB for a 14B 480p sample, 4.18 GB for a 14B 720p sample.
/// - Between steps a job holds its latents (16 channels, fp32), its text embeddings (512 × 4096 bf16) and, for I2V,
///   the conditioning `y` (20 channels, fp32): about 13 MB at 480p, 58 MB at 720p.
/// - Consequences on 48 GB: the 1.3B fits beside one 14B network (43.3 GB of weights), two 14B networks never fit
///   together, and the 1.3B alone leaves 33 GB for batching.
///
/// These are larger than the calibration's measured peaks (11–40 GB), which were taken with the text encoder
/// offloaded after encoding; the simulator keeps it resident, which is the conservative choice for batching.
extension CalibratedCostModel: MemoryEstimating {
    public func weightBytes(_ expert: ModelKey) -> Int64 {
        ModelCatalog.descriptor(for: expert.model)?.weightBytesPerExpert ?? 0
    }

    public func activationBytes(shape: ShapeKey) -> Int64 {
        Int64(shape.tokens) * 4 * Int64(Self.ffnDimension(of: shape.model))
    }

    public func residentStateBytes(shape: ShapeKey) -> Int64 {
        let latentCells = Int64(shape.latentFrames * (shape.height / 8) * (shape.width / 8))
        let text: Int64 = 512 * 4096 * 2
        let conditioning: Int64 = ModelCatalog.descriptor(for: shape.model)?.task == .imageToVideo ? 20 * latentCells * 4 : 0
        return 16 * latentCells * 4 + text + conditioning
    }

    /// Shared encoders that are always on the device.
    public var sharedBytes: Int64 { ModelCatalog.sharedComponentBytes }

    /// The DiT's feed-forward width: 8,960 for the 1.3B, 13,824 for the 14B networks, 32 for the tiny profiles.
    static func ffnDimension(of model: String) -> Int {
        guard let descriptor = ModelCatalog.descriptor(for: model) else { return 13_824 }
        if descriptor.isTiny { return 32 }
        return descriptor.weightBytesPerExpert < 5_000_000_000 ? 8_960 : 13_824
    }
}
