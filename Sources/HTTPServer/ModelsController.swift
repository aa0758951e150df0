import Hummingbird
import TurboServeDomain

/// `GET /v1/models`: OpenAI's model list, one entry per model this server accepts, each carrying what a client
/// (the web UI) needs to build a valid request: task, sizes per resolution and aspect ratio, defaults, and which
/// knobs apply. Derived from the validator, so it lists exactly what `POST /v1/videos` accepts.
struct ModelsController<Context: RequestContext>: Sendable {
    let validator: JobValidator

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("models") { request, context in
            let models = validator.availableModels.map { ModelObject($0, validator: validator) }
            return try JSONCoding.encoder.encode(ModelList(data: models), from: request, context: context)
        }
    }
}

/// An OpenAI `model` object with TurboServe's capability fields.
struct ModelObject: Encodable, Sendable {
    struct Resolution: Encodable, Sendable {
        let name: String
        /// Aspect ratio → `WxH`.
        let sizes: [String: String]
    }

    let id: String
    let object = "model"
    let created = 0
    let ownedBy = "turboserve"
    let task: String
    let experts: [String]
    let tiny: Bool
    /// True for the model a request without `model` gets.
    let isDefault: Bool
    let resolutions: [Resolution]
    let defaultResolution: String
    let defaultAspectRatio: String
    let defaultFrames: Int
    let maxFrames: Int
    let fps: Int
    let steps: [Int]
    let defaultSteps: Int
    let samplers: [String]
    let defaultSampler = SamplerKind.sde.rawValue
    let defaultSigmaMax: Double
    /// The high/low-noise switch point; only two-expert models accept `boundary`.
    let defaultBoundary: Double?
    let attention: [String]
    let supportsInputReference: Bool
    let supportsBoundary: Bool
    let supportsAdaptiveResolution: Bool
    let supportsQuantLinear: Bool

    init(_ model: ModelDescriptor, validator: JobValidator) {
        id = model.id
        task = model.task.rawValue
        experts = model.experts.map(\.rawValue)
        tiny = model.isTiny
        isDefault = model.id == validator.defaultModel
        resolutions = model.resolutions.map { resolution in
            Resolution(name: resolution.name, sizes: resolution.sizes.mapValues(\.description))
        }
        defaultResolution = model.defaultResolution
        defaultAspectRatio = model.defaultAspectRatio
        defaultFrames = model.defaultFrames
        maxFrames = model.maxFrames
        fps = model.fps
        steps = RCMSchedule.allowedSteps.map { $0 }
        defaultSteps = model.defaultSteps
        samplers = SamplerKind.allCases.map(\.rawValue)
        defaultSigmaMax = model.defaultSigmaMax
        supportsBoundary = model.experts.count > 1
        defaultBoundary = supportsBoundary ? model.defaultBoundary : nil
        attention = validator.acceleratedKernels ? AttentionKind.allCases.map(\.rawValue) : [AttentionKind.original.rawValue]
        supportsInputReference = model.task == .imageToVideo
        supportsAdaptiveResolution = model.task == .imageToVideo
        supportsQuantLinear = validator.acceleratedKernels
    }
}

struct ModelList: Encodable, Sendable {
    let object = "list"
    let data: [ModelObject]
}
