/// A generation request as a client sent it: every field optional except what the task needs. Validation turns
/// it into a `ValidatedJob` with every default resolved, or a `TurboServeError` naming the offending field.
public struct JobSpec: Sendable, Hashable, Codable {
    public var prompt: String?
    public var model: String?
    /// Path of the conditioning image on local disk (I2V). The gateway stores uploads before validation.
    public var imagePath: String?
    /// "WxH"; alternative to resolution + aspect ratio, or to width + height.
    public var size: String?
    public var width: Int?
    public var height: Int?
    public var resolution: String?
    public var aspectRatio: String?
    public var frames: Int?
    /// OpenAI-style duration; converted to `seconds × fps + 1` frames when `frames` is absent.
    public var seconds: Double?
    public var fps: Int?
    public var steps: Int?
    public var seed: Int64?
    public var sampler: String?
    public var sigmaMax: Double?
    public var boundary: Double?
    public var attention: String?
    public var quantLinear: Bool?
    public var adaptiveResolution: Bool?
    public var negativePrompt: String?
    public var priority: String?
    public var deadlineSeconds: Double?

    public init(
        prompt: String? = nil, model: String? = nil, imagePath: String? = nil, size: String? = nil,
        width: Int? = nil, height: Int? = nil, resolution: String? = nil, aspectRatio: String? = nil,
        frames: Int? = nil, seconds: Double? = nil, fps: Int? = nil, steps: Int? = nil, seed: Int64? = nil,
        sampler: String? = nil, sigmaMax: Double? = nil, boundary: Double? = nil, attention: String? = nil,
        quantLinear: Bool? = nil, adaptiveResolution: Bool? = nil, negativePrompt: String? = nil,
        priority: String? = nil, deadlineSeconds: Double? = nil
    ) {
        self.prompt = prompt; self.model = model; self.imagePath = imagePath; self.size = size
        self.width = width; self.height = height; self.resolution = resolution; self.aspectRatio = aspectRatio
        self.frames = frames; self.seconds = seconds; self.fps = fps; self.steps = steps; self.seed = seed
        self.sampler = sampler; self.sigmaMax = sigmaMax; self.boundary = boundary; self.attention = attention
        self.quantLinear = quantLinear; self.adaptiveResolution = adaptiveResolution
        self.negativePrompt = negativePrompt; self.priority = priority; self.deadlineSeconds = deadlineSeconds
    }
}

/// A request with every knob resolved and checked against the model's capabilities. Immutable once made; the
/// scheduler, the store and the engine all work from this.
public struct ValidatedJob: Sendable, Hashable, Codable {
    public let model: String
    public let task: TaskKind
    public let prompt: String
    public let imagePath: String?
    public let width: Int
    public let height: Int
    public let frames: Int
    public let fps: Int
    public let steps: Int
    public let seed: Int64
    public let sampler: SamplerKind
    public let sigmaMax: Double
    /// RF-time boundary between the high- and low-noise experts (two-expert models only; kept for the record).
    public let boundary: Double
    public let attention: AttentionKind
    public let quantLinear: Bool
    public let adaptiveResolution: Bool
    public let negativePrompt: String?
    public let priority: PriorityClass
    public let deadlineSeconds: Double?

    public init(
        model: String, task: TaskKind, prompt: String, imagePath: String?, width: Int, height: Int, frames: Int,
        fps: Int, steps: Int, seed: Int64, sampler: SamplerKind, sigmaMax: Double, boundary: Double,
        attention: AttentionKind, quantLinear: Bool, adaptiveResolution: Bool, negativePrompt: String?,
        priority: PriorityClass, deadlineSeconds: Double?
    ) {
        self.model = model; self.task = task; self.prompt = prompt; self.imagePath = imagePath
        self.width = width; self.height = height; self.frames = frames; self.fps = fps; self.steps = steps
        self.seed = seed; self.sampler = sampler; self.sigmaMax = sigmaMax; self.boundary = boundary
        self.attention = attention; self.quantLinear = quantLinear; self.adaptiveResolution = adaptiveResolution
        self.negativePrompt = negativePrompt; self.priority = priority; self.deadlineSeconds = deadlineSeconds
    }

    public var shapeKey: ShapeKey { ShapeKey(model: model, width: width, height: height, frames: frames) }

    /// The expert of each denoise step, in order.
    public var expertPlan: [Expert] {
        let experts = ModelCatalog.descriptor(for: model)?.experts ?? [.main]
        return RCMSchedule.expertPlan(steps: steps, sigmaMax: sigmaMax, boundary: boundary, experts: experts)
    }
}
