import Foundation

/// The typed messages of engine protocol v1 (docs/engine-protocol.md). Replies decode leniently: unknown fields
/// are ignored so the engine can add fields without breaking the control plane.
public enum EngineMessages {
    public static let protocolVersion = 1

    struct Request<Args: Encodable>: Encodable {
        let id: UInt64
        let op: String
        let args: Args
    }

    struct Reply<Result: Decodable>: Decodable {
        let id: UInt64?
        let ok: Bool
        let result: Result?
        let error: ErrorBody?
        let computeMs: Double?
    }

    struct ReplyHeader: Decodable {
        let id: UInt64?
    }

    struct ErrorBody: Decodable {
        let code: String
        let message: String
        let retryable: Bool?
        let jobs: [String]?
        let problems: [String: String]?
    }

    public struct Empty: Codable, Sendable { public init() {} }

    public struct Hello: Decodable, Sendable {
        public let `protocol`: Int
        public let engineVersion: String
        public let pid: Int
        public let device: String
        public let deviceName: String
        public let totalMemoryBytes: Int64
        public let freeMemoryBytes: Int64
        public let models: [Model]
        /// TEST-ONLY fault settings in force (empty or absent in production).
        public let testFaults: TestFaults?
        public let gpuTelemetry: GpuTelemetry?

        public struct Model: Decodable, Sendable {
            public let id: String
            public let task: String
            public let experts: [String]
            public let source: String?
        }
    }

    /// The engine's TEST-ONLY fault settings (`TURBOSERVE_ENGINE_TEST_*`).
    public struct TestFaults: Decodable, Sendable, Equatable {
        public let maxBatch: Int?
        public let maxFrames: Int?
        public let callDelayMs: Int?
        public let delayVerbs: [String]?
    }

    /// NVML readings of the engine's GPU. `available == false` (CPU, no NVML): `devices` is absent and `reason` says
    /// why. A reading the GPU does not support is nil, never zero.
    public struct GpuTelemetry: Decodable, Sendable {
        public let available: Bool
        public let reason: String?
        /// `nvml`, or `fake` (TEST-ONLY `TURBOSERVE_ENGINE_FAKE_NVML`).
        public let source: String?
        public let devices: [GpuDevice]?
    }

    public struct GpuDevice: Decodable, Sendable {
        public let index: Int
        /// The engine's device label, e.g. `cuda:0`.
        public let device: String
        public let name: String?
        public let utilizationPercent: Double?
        public let memoryUsedBytes: Int64?
        public let memoryTotalBytes: Int64?
        public let temperatureCelsius: Double?
        public let powerWatts: Double?
        /// Energy since the driver loaded (a counter).
        public let energyJoules: Double?

        /// Utilisation as 0…1 (the Prometheus `_ratio` convention).
        public var utilizationRatio: Double? { utilizationPercent.map { $0 / 100 } }
    }

    /// The `stats` reply.
    public struct Stats: Decodable, Sendable {
        public let freeMemoryBytes: Int64
        public let totalMemoryBytes: Int64
        public let rssBytes: Int64?
        public let resident: [ModelExpert]
        public let jobs: [String]
        public let gpuTelemetry: GpuTelemetry?
    }

    public struct ModelExpert: Codable, Sendable {
        public let model: String
        public let expert: String
        public init(model: String, expert: String) {
            self.model = model
            self.expert = expert
        }
    }

    public struct Residency: Decodable, Sendable {
        public let resident: [ModelExpert]
        public let freeMemoryBytes: Int64?
    }

    public struct EnsureTiny: Decodable, Sendable {
        public let built: [String]
        public let present: [String]
    }

    /// One job to admit, with every knob resolved.
    public struct AdmitJob: Encodable, Sendable {
        public let jobId: String
        public let model: String
        public let prompt: String
        public let imagePath: String?
        public let width: Int
        public let height: Int
        public let frames: Int
        public let fps: Int
        public let steps: Int
        public let seed: Int64
        public let sampler: String
        public let sigmaMax: Double
        public let boundary: Double
        public let adaptiveResolution: Bool
        public let attention: String
        public let quantLinear: Bool

        public init(jobId: String, model: String, prompt: String, imagePath: String?, width: Int, height: Int, frames: Int, fps: Int, steps: Int, seed: Int64, sampler: String, sigmaMax: Double, boundary: Double, adaptiveResolution: Bool, attention: String, quantLinear: Bool) {
            self.jobId = jobId; self.model = model; self.prompt = prompt; self.imagePath = imagePath
            self.width = width; self.height = height; self.frames = frames; self.fps = fps; self.steps = steps
            self.seed = seed; self.sampler = sampler; self.sigmaMax = sigmaMax; self.boundary = boundary
            self.adaptiveResolution = adaptiveResolution; self.attention = attention; self.quantLinear = quantLinear
        }
    }

    public struct Admitted: Decodable, Sendable {
        public let jobs: [Job]
        public struct Job: Decodable, Sendable {
            public let jobId: String
            public let width: Int
            public let height: Int
            public let experts: [String]
        }
    }

    public struct StepEntry: Codable, Sendable {
        public let jobId: String
        public let index: Int
        public init(jobId: String, index: Int) {
            self.jobId = jobId
            self.index = index
        }
    }

    public struct Stepped: Decodable, Sendable {
        public let jobs: [Done]
        public struct Done: Decodable, Sendable {
            public let jobId: String
            public let completed: Int
        }
    }

    public struct Decoded: Decodable, Sendable {
        public let jobs: [Frames]
        public let freeMemoryBytes: Int64?
        public struct Frames: Decodable, Sendable {
            public let jobId: String
            public let framesPath: String
            public let width: Int
            public let height: Int
            public let frames: Int
            public let fps: Int
            public let expertCalls: [String: Int]?
        }
    }

    public struct Released: Decodable, Sendable {
        public let released: [String]
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}
