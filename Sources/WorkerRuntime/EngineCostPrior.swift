import Foundation
import SchedulingCore
import TurboServeDomain

/// What the server's scheduler assumes engine work costs before it has measured anything: per-model priors for a
/// denoise step at a reference token count, scaled linearly with tokens and by `batch^exponent` with batch size,
/// plus text encode, VAE decode, weight transfer and the output pipeline.
///
/// Real models use the RTX 5090 figures the simulator is calibrated on (`docs/benchmarks.md`: 1.3B step 1.20 s,
/// 14B 4.25 s at 480p, I2V 15.67 s per expert step at 720p; transfers 0.15 s + bytes / 7.19 GB/s). The tiny CPU
/// profiles use what they take on a 2-core CPU (step ≈ 5 ms at 64×64×17, decode ≈ 80 ms, mux ≈ 10 ms). Deadlines
/// are `SLO factor × isolatedLatency`, so for tiny jobs they are about a second.
///
/// Memory is `WanMemoryModel`. Pure and cheap; `Sendable`.
public struct EngineCostPrior: CostEstimating, MemoryEstimating, Sendable {
    struct Step: Sendable {
        let seconds: Double
        let referenceTokens: Int
        let batchExponent: Double
    }

    let memory = WanMemoryModel()

    public init() {}

    static let steps: [String: Step] = [
        "wan2.1-t2v-1.3b": Step(seconds: 1.20, referenceTokens: 32_760, batchExponent: 0.60),
        "wan2.1-t2v-14b": Step(seconds: 4.25, referenceTokens: 32_760, batchExponent: 0.92),
        "wan2.2-i2v-a14b": Step(seconds: 15.67, referenceTokens: 75_600, batchExponent: 0.97),
    ]
    static let tinyStep = Step(seconds: 0.005, referenceTokens: 80, batchExponent: 0.9)

    func isTiny(_ model: String) -> Bool { ModelCatalog.descriptor(for: model)?.isTiny ?? false }

    /// `seconds` at `reference` tokens, scaled linearly to `shape`'s tokens.
    func scaled(_ seconds: Double, reference: Int, _ shape: ShapeKey) -> Duration {
        .seconds(seconds * Double(shape.tokens) / Double(max(1, reference)))
    }

    public func isolatedLatency(of job: ValidatedJob) -> Duration {
        let shape = job.shapeKey
        let steps = job.expertPlan.reduce(Duration.zero) { total, expert in
            total + stepTime(shape: shape, expert: ModelKey(model: job.model, expert: expert), batchSize: 1)
        }
        return admitTime(shape: shape, task: job.task, batchSize: 1) + steps + decodeTime(shape: shape) + outputTime(shape: shape)
    }

    public func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration {
        let step = isTiny(shape.model) ? Self.tinyStep : (Self.steps[shape.model] ?? Self.steps["wan2.1-t2v-14b"]!)
        return scaled(step.seconds * pow(Double(max(1, batchSize)), step.batchExponent), reference: step.referenceTokens, shape)
    }

    public func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration {
        let text = isTiny(shape.model) ? 0.002 : 0.15
        let encode = task == .imageToVideo ? decodeTime(shape: shape) * batchSize : .zero
        return .seconds(text * (1 + 0.35 * Double(max(0, batchSize - 1)))) + encode
    }

    public func decodeTime(shape: ShapeKey) -> Duration {
        isTiny(shape.model) ? scaled(0.08, reference: 80, shape) : scaled(0.5, reference: 32_760, shape)
    }

    public func loadTime(_ expert: ModelKey) -> Duration {
        isTiny(expert.model) ? .milliseconds(50) : .seconds(0.15 + Double(memory.weightBytes(expert)) / 7.19e9)
    }

    /// The engine keeps a host copy of every expert it loaded, so unloading only frees device memory.
    public func unloadTime(_ expert: ModelKey) -> Duration {
        isTiny(expert.model) ? .milliseconds(5) : .milliseconds(150)
    }

    public func outputTime(shape: ShapeKey) -> Duration {
        isTiny(shape.model) ? scaled(0.01, reference: 80, shape) : scaled(0.5, reference: 32_760, shape)
    }

    public func weightBytes(_ expert: ModelKey) -> Int64 { memory.weightBytes(expert) }
    public func activationBytes(shape: ShapeKey) -> Int64 { memory.activationBytes(shape: shape) }
    public func residentStateBytes(shape: ShapeKey) -> Int64 { memory.residentStateBytes(shape: shape) }
}
