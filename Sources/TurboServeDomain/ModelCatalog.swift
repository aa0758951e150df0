/// What a model can do. `textToVideo` models take a prompt; `imageToVideo` models also take a first frame.
public enum TaskKind: String, Sendable, Hashable, Codable, CaseIterable {
    case textToVideo = "t2v"
    case imageToVideo = "i2v"
}

/// One set of weights the engine loads as a unit. Wan2.2 I2V has two experts (high-noise, low-noise) that are
/// loaded, kept and evicted independently; every other model has one `main` expert.
public enum Expert: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case main
    case highNoise = "high"
    case lowNoise = "low"

    public static func < (a: Expert, b: Expert) -> Bool { a.order < b.order }
    private var order: Int { switch self { case .main: 0; case .highNoise: 1; case .lowNoise: 2 } }
}

/// The residency unit: one expert of one model. This is what `load` / `unload` move on and off the device.
public struct ModelKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let model: String
    public let expert: Expert
    public init(model: String, expert: Expert = .main) {
        self.model = model
        self.expert = expert
    }
    public var description: String { expert == .main ? model : "\(model)/\(expert.rawValue)" }
    public static func < (a: ModelKey, b: ModelKey) -> Bool { (a.model, a.expert) < (b.model, b.expert) }
}

/// A resolution class and the frame sizes (width × height) it allows per aspect ratio.
public struct ResolutionSpec: Sendable, Hashable {
    public let name: String
    /// Aspect ratio label ("16:9") → (width, height). Every size is a multiple of 16.
    public let sizes: [String: FrameSize]
    public init(name: String, sizes: [String: FrameSize]) {
        self.name = name
        self.sizes = sizes
    }
}

public struct FrameSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public let width: Int
    public let height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    public var description: String { "\(width)x\(height)" }
}

/// Everything the control plane knows about a model without loading it: task, experts, the sizes and frame
/// counts it accepts, its sampler defaults and its memory footprint (used by the memory model and the simulator).
public struct ModelDescriptor: Sendable, Hashable {
    public let id: String
    public let task: TaskKind
    /// `[.main]` for single-network models; `[.highNoise, .lowNoise]` for Wan2.2 A14B-style I2V.
    public let experts: [Expert]
    public let resolutions: [ResolutionSpec]
    public let defaultResolution: String
    public let defaultAspectRatio: String
    public let defaultFrames: Int
    public let maxFrames: Int
    public let defaultSteps: Int
    public let defaultSigmaMax: Double
    public let defaultBoundary: Double
    public let fps: Int
    /// Bytes of one expert's weights on the device (bf16 unless quantised).
    public let weightBytesPerExpert: Int64
    /// True for the tiny CPU profiles the engine builds itself (abstract noise videos, for tests and demos).
    public let isTiny: Bool

    public var modelKeys: [ModelKey] { experts.map { ModelKey(model: id, expert: $0) } }

    public func resolution(named name: String) -> ResolutionSpec? { resolutions.first { $0.name == name } }

    /// Every size this model accepts, across its resolutions.
    public var allSizes: [FrameSize] {
        resolutions.flatMap { $0.sizes.values }.sorted { ($0.width, $0.height) < ($1.width, $1.height) }
    }
}

/// The models TurboServe knows. Real profiles describe TurboDiffusion's released checkpoints; `tiny-*` profiles
/// have the same architecture with a few thousand random parameters and run on a CPU in seconds.
public enum ModelCatalog {
    static let gb: Int64 = 1_000_000_000

    static let res480p = ResolutionSpec(name: "480p", sizes: [
        "16:9": FrameSize(width: 832, height: 480), "9:16": FrameSize(width: 480, height: 832),
        "1:1": FrameSize(width: 640, height: 640), "4:3": FrameSize(width: 640, height: 480),
        "3:4": FrameSize(width: 480, height: 640),
    ])
    static let res720p = ResolutionSpec(name: "720p", sizes: [
        "16:9": FrameSize(width: 1280, height: 720), "9:16": FrameSize(width: 720, height: 1280),
        "1:1": FrameSize(width: 960, height: 960), "4:3": FrameSize(width: 960, height: 720),
        "3:4": FrameSize(width: 720, height: 960),
    ])
    static let resTiny = ResolutionSpec(name: "tiny", sizes: [
        "16:9": FrameSize(width: 112, height: 64), "9:16": FrameSize(width: 64, height: 112),
        "1:1": FrameSize(width: 64, height: 64), "4:3": FrameSize(width: 64, height: 48),
        "3:4": FrameSize(width: 48, height: 64),
    ])

    public static let all: [ModelDescriptor] = [
        ModelDescriptor(
            id: "wan2.1-t2v-1.3b", task: .textToVideo, experts: [.main], resolutions: [res480p],
            defaultResolution: "480p", defaultAspectRatio: "16:9", defaultFrames: 81, maxFrames: 81,
            defaultSteps: 4, defaultSigmaMax: 80, defaultBoundary: 0.9, fps: 16,
            weightBytesPerExpert: 2_840_000_000, isTiny: false),
        ModelDescriptor(
            id: "wan2.1-t2v-14b", task: .textToVideo, experts: [.main], resolutions: [res480p, res720p],
            defaultResolution: "480p", defaultAspectRatio: "16:9", defaultFrames: 81, maxFrames: 81,
            defaultSteps: 4, defaultSigmaMax: 80, defaultBoundary: 0.9, fps: 16,
            weightBytesPerExpert: 28_600_000_000, isTiny: false),
        ModelDescriptor(
            id: "wan2.2-i2v-a14b", task: .imageToVideo, experts: [.highNoise, .lowNoise], resolutions: [res720p],
            defaultResolution: "720p", defaultAspectRatio: "16:9", defaultFrames: 81, maxFrames: 81,
            defaultSteps: 4, defaultSigmaMax: 200, defaultBoundary: 0.9, fps: 16,
            weightBytesPerExpert: 28_600_000_000, isTiny: false),
        ModelDescriptor(
            id: "tiny-t2v", task: .textToVideo, experts: [.main], resolutions: [resTiny],
            defaultResolution: "tiny", defaultAspectRatio: "1:1", defaultFrames: 17, maxFrames: 33,
            defaultSteps: 4, defaultSigmaMax: 80, defaultBoundary: 0.9, fps: 16,
            weightBytesPerExpert: 120_000, isTiny: true),
        ModelDescriptor(
            id: "tiny-i2v", task: .imageToVideo, experts: [.highNoise, .lowNoise], resolutions: [resTiny],
            defaultResolution: "tiny", defaultAspectRatio: "1:1", defaultFrames: 17, maxFrames: 33,
            defaultSteps: 4, defaultSigmaMax: 200, defaultBoundary: 0.9, fps: 16,
            weightBytesPerExpert: 120_000, isTiny: true),
    ]

    public static func descriptor(for id: String) -> ModelDescriptor? { all.first { $0.id == id } }
    public static var ids: [String] { all.map(\.id) }

    /// Text encoder and VAE, shared by every model: loaded once, never evicted while any model is resident.
    public static let sharedComponentBytes: Int64 = 11_400_000_000 + 500_000_000
}
