import Foundation

/// What was measured on one GPU with TurboDiffusion (`calibration-rtx5090.json`, `Calibration.rtx5090`), read as it is. The cost model is
/// derived from it (`CalibratedCostModel(calibration:)`), and the calibration check compares the simulator against
/// `isolatedRuns` and `serialTimeShares`.
public struct Calibration: Codable, Sendable, Hashable {
    public struct GPU: Codable, Sendable, Hashable {
        public var name: String
        public var memoryGB: Double
        enum CodingKeys: String, CodingKey { case name, memoryGB = "memory_gb" }
    }

    /// One request run alone, end to end (parse → video on disk).
    public struct IsolatedRun: Codable, Sendable, Hashable {
        public var model: String
        public var resolution: String
        public var frames: Int
        public var steps: Int
        public var latencySeconds: Double
        public var memoryGB: Double
        enum CodingKeys: String, CodingKey {
            case model, resolution, frames, steps, latencySeconds = "latency_s", memoryGB = "memory_gb"
        }
        /// "model/resolution/steps", as `diffusion_only_latency_s` names them.
        public var key: String { "\(model)/\(resolution)/\(steps)" }
    }

    /// Where the serial server's time went on the published mix (fractions summing to 1).
    public struct SerialTimeShares: Codable, Sendable, Hashable {
        public var parsing: Double
        public var switching: Double
        public var encodingAndIO: Double
        public var compute: Double
        enum CodingKeys: String, CodingKey {
            case parsing = "request_parsing_and_validation", switching = "model_switch_and_cache_load"
            case encodingAndIO = "video_encoding_and_io", compute = "core_compute"
        }
    }

    public struct Outcome: Codable, Sendable, Hashable {
        public var meanResponseSeconds: Double
        public var p95ResponseSeconds: Double
        public var smUtilisation: Double
        public var videosPerWh: Double?
        enum CodingKeys: String, CodingKey {
            case meanResponseSeconds = "mean_response_s", p95ResponseSeconds = "p95_response_s"
            case smUtilisation = "sm_utilisation", videosPerWh = "videos_per_wh"
        }
    }

    public struct ModelCache: Codable, Sendable, Hashable {
        public var maxSize: Int
        public var keepAliveSeconds: Double
        public var preload: [String]
        enum CodingKeys: String, CodingKey { case maxSize = "max_size", keepAliveSeconds = "keep_alive_s", preload }
    }

    /// The published scheduled ("seed") policy.
    public struct ScheduledPolicy: Codable, Sendable, Hashable {
        public var priority: String
        public var batching: String
        /// `[[free GB threshold, batch size]]`, highest threshold first.
        public var batchSizeByFreeMemoryGB: [[Double]]
        public var modelCache: ModelCache
        public var videoSaving: String
        enum CodingKeys: String, CodingKey {
            case priority, batching, batchSizeByFreeMemoryGB = "batch_size_by_free_memory_gb"
            case modelCache = "model_cache", videoSaving = "video_saving"
        }
    }

    public struct PublishedExperiment: Codable, Sendable, Hashable {
        public var load: String
        public var serial: Outcome
        public var scheduled: Outcome
        public var scheduledPolicy: ScheduledPolicy
        enum CodingKeys: String, CodingKey { case load, serial, scheduled, scheduledPolicy = "scheduled_policy" }
    }

    public var gpu: GPU
    public var isolatedRuns: [IsolatedRun]
    public var i2vColdStartShare: Double
    public var serialTimeShares: SerialTimeShares
    /// "model/resolution/steps" → seconds of denoising alone (text encoding and VAE excluded).
    public var diffusionOnlyLatencySeconds: [String: Double]
    public var publishedExperiment: PublishedExperiment

    enum CodingKeys: String, CodingKey {
        case gpu, isolatedRuns = "isolated_runs", i2vColdStartShare = "i2v_cold_start_share"
        case serialTimeShares = "serial_time_shares", diffusionOnlyLatencySeconds = "diffusion_only_latency_s"
        case publishedExperiment = "published_experiment"
    }

    /// The measured isolated run for a model / resolution / frames / steps, if the file has one.
    public func isolatedRun(model: String, resolution: String, frames: Int, steps: Int) -> IsolatedRun? {
        isolatedRuns.first { $0.model == model && $0.resolution == resolution && $0.frames == frames && $0.steps == steps }
    }

    /// The isolated run for `model` (any steps), preferring `steps`: used to pick reference shapes.
    public func run(model: String, steps: Int) -> IsolatedRun? {
        isolatedRuns.first { $0.model == model && $0.steps == steps }
    }
}

/// A calibration the cost model cannot be derived from, with the reason.
public struct CalibrationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "calibration \(message)" }
}
