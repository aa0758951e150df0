import Foundation
import TurboServeDomain

/// The simulator's cost model of one RTX 5090 (48 GB as the calibration file states) running TurboDiffusion:
/// how long every engine action and every CPU stage takes. Derived from `calibration-rtx5090.json` by
/// `init(calibration:)` (see `CalibratedCostModel+Calibration.swift` for the derivation and every assumption);
/// memory is in `CalibratedCostModel+Memory.swift`. `docs/benchmarks.md` repeats the assumptions.
///
/// The stages of one request and their costs:
/// - parse / validate on the CPU (`parseTime`): for I2V this includes decoding and resizing the reference image
///   and building the 81-frame conditioning clip, so it scales with the frame size;
/// - text encode (UMT5, batched across jobs) + image encode for I2V (a full-length VAE encode, costed as one
///   VAE decode) in `admitTime`;
/// - each denoise step (`stepTime`): `seconds × (tokens / referenceTokens)^tokenExponent × batch^batchExponent`,
///   sublinear in batch for the 1.3B at 480p, nearly linear for the 14B models;
/// - VAE decode (`decodeTime`), proportional to tokens (pixels × frames);
/// - video encode + storage on the CPU (`muxTime`);
/// - moving weights: a transfer is fixed + bytes / bandwidth. How much of it the engine waits for depends on
///   `transfers` (`WeightTransfers`): upstream copies the weights back to host memory on unload and waits for
///   every load; TurboServe's engine drops the device copy on unload and streams a load under the next step.
///
/// Pure and cheap: safe to call while planning. A value type; `Sendable`.
public struct CalibratedCostModel: CostEstimating, Sendable, Hashable {
    /// Denoise-step cost of one model at batch 1 and its batching behaviour.
    public struct StepProfile: Sendable, Hashable {
        /// Seconds of one step, batch 1, at `referenceTokens`.
        public var seconds: Double
        public var referenceTokens: Int
        /// `step(B) = step(1) × B^batchExponent`: 1 means batching gains nothing, 0.5 means 4 jobs cost 2×.
        public var batchExponent: Double
    }

    /// A CPU stage whose cost scales linearly with the frame size × frames (tokens).
    public struct CPUStage: Sendable, Hashable {
        public var seconds: Double
        public var referenceTokens: Int
        public func time(tokens: Int) -> Double { seconds * Double(tokens) / Double(referenceTokens) }
    }

    /// Step profiles by model id. Models without one (the tiny CPU profiles) are scaled from the 1.3B by weight.
    public var stepProfiles: [String: StepProfile]
    /// How a step's cost grows with tokens at a fixed model (from the diffusion-only 14B 480p → 720p ratio).
    public var tokenExponent: Double
    /// UMT5 text encode of one prompt; each further prompt in the same call adds `textEncodeBatchFactor` of it.
    public var textEncodeSeconds: Double
    public var textEncodeBatchFactor: Double
    /// VAE decode, per job, proportional to tokens. The I2V image encode costs the same as a decode of its shape.
    public var decode: CPUStage
    /// Request parsing / validation / preprocessing on the CPU, by task.
    public var parse: [TaskKind: CPUStage]
    /// Video encoding + storage on the CPU, by task.
    public var mux: [TaskKind: CPUStage]
    /// Weight transfer cost: `transferFixedSeconds + bytes / transferBytesPerSecond`.
    public var transferFixedSeconds: Double
    public var transferBytesPerSecond: Double
    /// Device memory (bytes) the memory model plans against.
    public var deviceMemoryBytes: Int64
    /// Engine bookkeeping for a `release` plan.
    public var releaseSeconds: Double
    /// How the engine moves weights (upstream's offload-and-wait, or TurboServe's host copy + streamed loads).
    public var transfers: WeightTransfers = .upstream
    /// Transformer blocks a streamed load arrives in (Wan 14B has 40, the 1.3B 30; the larger is the conservative
    /// choice): the first step after a load cannot finish before the last block has arrived and been computed.
    public var streamedBlocks = 40

    public init(
        stepProfiles: [String: StepProfile], tokenExponent: Double, textEncodeSeconds: Double,
        textEncodeBatchFactor: Double, decode: CPUStage, parse: [TaskKind: CPUStage], mux: [TaskKind: CPUStage],
        transferFixedSeconds: Double, transferBytesPerSecond: Double, deviceMemoryBytes: Int64, releaseSeconds: Double = 0.01
    ) {
        self.stepProfiles = stepProfiles
        self.tokenExponent = tokenExponent
        self.textEncodeSeconds = textEncodeSeconds
        self.textEncodeBatchFactor = textEncodeBatchFactor
        self.decode = decode
        self.parse = parse
        self.mux = mux
        self.transferFixedSeconds = transferFixedSeconds
        self.transferBytesPerSecond = transferBytesPerSecond
        self.deviceMemoryBytes = deviceMemoryBytes
        self.releaseSeconds = releaseSeconds
    }

    // MARK: - CostEstimating

    /// Parse + admit + every step + decode + mux, with the model resident; for two-expert models plus upstream's
    /// per-request expert swap (each expert copied in and back out), which the calibration's isolated I2V run
    /// includes (its "cold start"). This is the latency a request sees from the serial server when it is alone,
    /// whatever `transfers` says (deadlines and targets are set against upstream).
    public func isolatedLatency(of job: ValidatedJob) -> Duration {
        .seconds(isolatedSeconds(of: job))
    }

    public func isolatedSeconds(of job: ValidatedJob) -> Double {
        var total = residentSeconds(of: job)
        let distinct = Set(job.expertPlan)
        if distinct.count > 1 {
            for expert in distinct {
                let key = ModelKey(model: job.model, expert: expert)
                total += 2 * transferSeconds(bytes: weightBytes(key))
            }
        }
        return total
    }

    /// Parse + admit + every step + decode + mux, one sample at a time, with every expert the job needs already on
    /// the device and nothing else to do: the fastest `job` can be answered on any engine this model describes (a
    /// batched step or admit never takes less than a solo one, and a weight move only adds).
    public func residentSeconds(of job: ValidatedJob) -> Double {
        let shape = job.shapeKey
        var total = parseSeconds(shape) + admitSeconds(shape: shape, task: job.task, batchSize: 1)
        for expert in job.expertPlan {
            total += stepSeconds(shape: shape, expert: ModelKey(model: job.model, expert: expert), batchSize: 1)
        }
        return total + decodeSeconds(shape) + muxSeconds(shape)
    }

    public func stepTime(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Duration {
        .seconds(stepSeconds(shape: shape, expert: expert, batchSize: batchSize))
    }

    public func admitTime(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Duration {
        .seconds(admitSeconds(shape: shape, task: task, batchSize: batchSize))
    }

    public func decodeTime(shape: ShapeKey) -> Duration { .seconds(decodeSeconds(shape)) }

    /// How long a switch to `expert` delays its first step: the whole transfer upstream; with streamed loads, only
    /// the part of the transfer that one batch-1 step at the model's reference shape does not cover.
    public func loadTime(_ expert: ModelKey) -> Duration {
        switch transfers {
        case .upstream: .seconds(loadSeconds(expert))
        case .streamed: .seconds(transferFixedSeconds + streamedWaitSeconds(expert, stepSeconds: stepProfile(for: expert.model).seconds))
        }
    }

    public func unloadTime(_ expert: ModelKey) -> Duration { .seconds(unloadSeconds(expert)) }

    public func outputTime(shape: ShapeKey) -> Duration { .seconds(muxSeconds(shape)) }

    // MARK: - Seconds (the simulator's units)

    public func stepSeconds(shape: ShapeKey, expert: ModelKey, batchSize: Int) -> Double {
        let profile = stepProfile(for: shape.model)
        let tokens = Double(shape.tokens) / Double(profile.referenceTokens)
        return profile.seconds * pow(tokens, tokenExponent) * pow(Double(max(1, batchSize)), profile.batchExponent)
    }

    public func admitSeconds(shape: ShapeKey, task: TaskKind, batchSize: Int) -> Double {
        let n = Double(max(1, batchSize))
        let text = textEncodeSeconds * (1 + textEncodeBatchFactor * (n - 1))
        let image = task == .imageToVideo ? n * decodeSeconds(shape) : 0
        return text + image
    }

    public func decodeSeconds(_ shape: ShapeKey) -> Double { decode.time(tokens: shape.tokens) }

    /// CPU: parse, validate and (I2V) preprocess the reference image.
    public func parseSeconds(_ shape: ShapeKey) -> Double { cpuStage(parse, shape).time(tokens: shape.tokens) }

    /// CPU: encode the MP4 + thumbnail and store it.
    public func muxSeconds(_ shape: ShapeKey) -> Double { cpuStage(mux, shape).time(tokens: shape.tokens) }

    /// The whole transfer of `expert`'s weights onto the device.
    public func loadSeconds(_ expert: ModelKey) -> Double { transferSeconds(bytes: weightBytes(expert)) }

    /// Upstream offloading copies the weights back to host memory: the same cost as a load. With a host copy kept,
    /// unloading frees the device memory only: the fixed part of a transfer (synchronise, return the allocation).
    public func unloadSeconds(_ expert: ModelKey) -> Double {
        switch transfers {
        case .upstream: transferSeconds(bytes: weightBytes(expert))
        case .streamed: transferFixedSeconds
        }
    }

    /// How much longer than `stepSeconds` a step takes when its weights are still arriving, `transferLeft`
    /// seconds of copying from now, in `streamedBlocks` equal blocks: block i can start once it has arrived and
    /// block i−1 is computed, so the step ends at max(step, last arrival + one block of compute).
    public func streamedWaitSeconds(transferLeft: Double, stepSeconds: Double) -> Double {
        max(0, transferLeft + stepSeconds / Double(streamedBlocks) - stepSeconds)
    }

    public func streamedWaitSeconds(_ expert: ModelKey, stepSeconds: Double) -> Double {
        streamedWaitSeconds(transferLeft: Double(weightBytes(expert)) / transferBytesPerSecond, stepSeconds: stepSeconds)
    }

    public func transferSeconds(bytes: Int64) -> Double {
        transferFixedSeconds + Double(bytes) / transferBytesPerSecond
    }

    // MARK: - Lookups

    public func stepProfile(for model: String) -> StepProfile {
        if let profile = stepProfiles[model] { return profile }
        // Unknown or tiny models: the 1.3B's profile scaled by weight bytes (tiny models cost microseconds).
        let small = stepProfiles[Self.smallModel] ?? StepProfile(seconds: 1, referenceTokens: 32_760, batchExponent: 0.6)
        let bytes = Double(ModelCatalog.descriptor(for: model)?.weightBytesPerExpert ?? 2_840_000_000)
        return StepProfile(seconds: small.seconds * bytes / 2_840_000_000, referenceTokens: small.referenceTokens, batchExponent: small.batchExponent)
    }

    public func cpuStage(_ table: [TaskKind: CPUStage], _ shape: ShapeKey) -> CPUStage {
        let task = ModelCatalog.descriptor(for: shape.model)?.task ?? .textToVideo
        return table[task] ?? table[.textToVideo] ?? CPUStage(seconds: 0, referenceTokens: 1)
    }

    public static let smallModel = "wan2.1-t2v-1.3b"
}
