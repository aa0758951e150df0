import TurboServeDomain

/// The memory model of Wan DiTs on a device, shared by the simulator's cost model and the server's runtime prior.
///
/// Assumptions (also in docs/benchmarks.md):
/// - Weights are `ModelCatalog.weightBytesPerExpert` (bf16): 1.3B 2.84 GB, each 14B network 28.6 GB; the tiny CPU
///   profiles a few hundred KB.
/// - Peak activation per sample during a denoise step = tokens × 2 FFN-wide bf16 tensors (flash/sparse attention
///   keeps no L×L matrix): `tokens × 4 bytes × ffn_dim` with ffn_dim 8,960 (1.3B), 13,824 (14B) or 32 (tiny):
///   1.17 GB for a 1.3B 480p sample, 1.81 GB for a 14B 480p sample, 4.18 GB for a 14B 720p sample.
/// - Between steps a job holds its latents (16 channels, fp32), its text embeddings (512 × text width, bf16) and,
///   for I2V, the conditioning `y` (20 channels, fp32): about 13 MB at 480p, 58 MB at 720p.
///
/// Pure and cheap.
public struct WanMemoryModel: MemoryEstimating, Sendable, Hashable {
    public init() {}

    public func weightBytes(_ expert: ModelKey) -> Int64 {
        ModelCatalog.descriptor(for: expert.model)?.weightBytesPerExpert ?? 0
    }

    public func activationBytes(shape: ShapeKey) -> Int64 {
        Int64(shape.tokens) * 4 * Int64(Self.ffnDimension(of: shape.model))
    }

    public func residentStateBytes(shape: ShapeKey) -> Int64 {
        let descriptor = ModelCatalog.descriptor(for: shape.model)
        let latentCells = Int64(shape.latentFrames * (shape.height / 8) * (shape.width / 8))
        let text: Int64 = 512 * (descriptor?.isTiny == true ? 32 : 4096) * 2
        let conditioning: Int64 = descriptor?.task == .imageToVideo ? 20 * latentCells * 4 : 0
        return 16 * latentCells * 4 + text + conditioning
    }

    /// The DiT's feed-forward width: 8,960 for the 1.3B, 13,824 for the 14B networks, 32 for the tiny profiles.
    public static func ffnDimension(of model: String) -> Int {
        guard let descriptor = ModelCatalog.descriptor(for: model) else { return 13_824 }
        if descriptor.isTiny { return 32 }
        return descriptor.weightBytesPerExpert < 5_000_000_000 ? 8_960 : 13_824
    }
}
