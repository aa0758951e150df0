import Foundation

/// Turns a `JobSpec` into a `ValidatedJob`, resolving defaults from the model's descriptor.
///
/// Every rejection is a `TurboServeError` whose `field` names the request field and whose message lists the
/// allowed values, so a client (or the web UI) can show it next to that field. Pure: the only outside input is
/// `randomSeed`, called once when the request has no seed.
///
/// Guarantees for hostile input: no value of any field traps (every numeric conversion is range-checked first),
/// text fields are bounded in characters (Unicode scalars, as JSON Schema's `maxLength` counts) and in UTF-8
/// bytes, refuse NUL, and error messages quote at most `quoteLimit` characters of what the caller sent.
public struct JobValidator: Sendable {
    public static let seedRange: ClosedRange<Int64> = 0...4_294_967_295
    public static let maxPromptCharacters = 2_000
    /// The longest `seconds` accepted (the frame count is clamped to the model's maximum anyway).
    public static let maxSeconds = 600.0
    static let quoteLimit = 64

    /// Models that may be requested; defaults to the whole catalog.
    public let availableModels: [ModelDescriptor]
    public let defaultModel: String
    /// The model of a request with an image and no `model`: `defaultModel` when it is image-to-video, else the
    /// first available image-to-video model of the same kind (tiny or real) as `defaultModel`, else the first
    /// available one (clients written for vLLM-Omni send an image and never a model).
    public var defaultImageModel: String {
        let fallback = availableModels.first { $0.id == defaultModel }
        if fallback?.task == .imageToVideo { return defaultModel }
        let imageModels = availableModels.filter { $0.task == .imageToVideo }
        return (imageModels.first { $0.isTiny == fallback?.isTiny } ?? imageModels.first)?.id ?? defaultModel
    }
    /// Whether sparse attention / int8 kernels are installed on the engines (else those choices are refused).
    public let acceleratedKernels: Bool
    /// `prompt` and `negative_prompt` are refused beyond this many UTF-8 bytes (`limits.max_prompt_bytes`).
    public let maxPromptBytes: Int

    public init(availableModels: [ModelDescriptor] = ModelCatalog.all, defaultModel: String = "tiny-t2v", acceleratedKernels: Bool = false, maxPromptBytes: Int = 16_384) {
        self.availableModels = availableModels
        self.defaultModel = defaultModel
        self.acceleratedKernels = acceleratedKernels
        self.maxPromptBytes = maxPromptBytes
    }

    public func validate(_ spec: JobSpec, randomSeed: () -> Int64) throws(TurboServeError) -> ValidatedJob {
        let modelID = spec.model ?? (spec.imagePath == nil ? defaultModel : defaultImageModel)
        guard let model = availableModels.first(where: { $0.id == modelID }) else {
            let allowed = availableModels.map(\.id).joined(separator: ", ")
            throw TurboServeError(.unknownModel, field: "model", "model '\(Self.quote(modelID))' is not available; allowed: \(allowed)")
        }

        let prompt = (spec.prompt ?? "").trimmingWhitespace()
        if prompt.isEmpty {
            throw TurboServeError(.missingField, field: "prompt", "prompt is required and must not be empty")
        }
        try checkText(prompt, field: "prompt")
        if let negative = spec.negativePrompt { try checkText(negative, field: "negative_prompt") }

        switch (model.task, spec.imagePath) {
        case (.imageToVideo, nil):
            throw TurboServeError(.missingField, field: "input_reference", "model '\(model.id)' is image-to-video and needs an input_reference image")
        case (.textToVideo, .some):
            throw TurboServeError(.unsupportedForModel, field: "input_reference", "model '\(model.id)' is text-to-video and takes no input_reference; use an i2v model (\(Self.ids(of: .imageToVideo, in: availableModels)))")
        default: break
        }

        let size = try resolveSize(spec, model: model)
        let fps = try resolveFPS(spec, model: model)
        let frames = try resolveFrames(spec, model: model, fps: fps)

        let steps = spec.steps ?? model.defaultSteps
        guard RCMSchedule.allowedSteps.contains(steps) else {
            throw TurboServeError(.invalidValue, field: "steps", "steps must be an integer from 1 to 4; got \(steps)")
        }

        let seed = spec.seed ?? randomSeed()
        guard Self.seedRange.contains(seed) else {
            throw TurboServeError(.invalidValue, field: "seed", "seed must be an integer from 0 to \(Self.seedRange.upperBound); got \(seed)")
        }

        let sampler = try Self.enumValue(SamplerKind.self, spec.sampler, default: .sde, field: "sampler")
        let sigmaMax = spec.sigmaMax ?? model.defaultSigmaMax
        guard sigmaMax.isFinite, sigmaMax >= 1, sigmaMax <= 5_000 else {
            throw TurboServeError(.invalidValue, field: "sigma_max", "sigma_max must be a number from 1 to 5000; got \(sigmaMax)")
        }
        let boundary = spec.boundary ?? model.defaultBoundary
        guard boundary.isFinite, boundary > 0, boundary < 1 else {
            throw TurboServeError(.invalidValue, field: "boundary", "boundary must be a number strictly between 0 and 1; got \(boundary)")
        }
        if spec.boundary != nil, model.experts.count < 2 {
            throw TurboServeError(.unsupportedForModel, field: "boundary", "boundary applies only to two-expert models (\(Self.ids(of: .imageToVideo, in: availableModels))); model '\(model.id)' has one network")
        }
        if spec.adaptiveResolution == true, model.task != .imageToVideo {
            throw TurboServeError(.unsupportedForModel, field: "adaptive_resolution", "adaptive_resolution applies only to image-to-video models")
        }
        let attention = try Self.enumValue(AttentionKind.self, spec.attention, default: .original, field: "attention")
        if attention != .original, !acceleratedKernels {
            throw TurboServeError(.unsupportedForModel, field: "attention", "attention '\(attention.rawValue)' needs the SLA GPU kernels, which are not installed on this server; allowed: original")
        }
        let quant = spec.quantLinear ?? false
        if quant, !acceleratedKernels {
            throw TurboServeError(.unsupportedForModel, field: "quant_linear", "quant_linear needs the int8 GPU kernels, which are not installed on this server; allowed: false")
        }
        let priority = try Self.enumValue(PriorityClass.self, spec.priority, default: .standard, field: "priority")
        if let deadline = spec.deadlineSeconds, !(deadline.isFinite && deadline > 0 && deadline <= 86_400) {
            throw TurboServeError(.invalidValue, field: "deadline_seconds", "deadline_seconds must be a number greater than 0 and at most 86400; got \(deadline)")
        }

        return ValidatedJob(
            model: model.id, task: model.task, prompt: prompt, imagePath: spec.imagePath,
            width: size.width, height: size.height, frames: frames, fps: fps, steps: steps, seed: seed,
            sampler: sampler, sigmaMax: sigmaMax, boundary: boundary, attention: attention, quantLinear: quant,
            adaptiveResolution: spec.followsImage, negativePrompt: spec.negativePrompt,
            priority: priority, deadlineSeconds: spec.deadlineSeconds)
    }

    // MARK: - Fields

    /// The frame size from exactly one way of saying it: `size`, `width` + `height`, or `resolution` +
    /// `aspect_ratio` (each defaulting from the model). Two ways that name different sizes are
    /// `conflicting_fields`; two that agree are accepted.
    private func resolveSize(_ spec: JobSpec, model: ModelDescriptor) throws(TurboServeError) -> FrameSize {
        var explicit = spec
        explicit.resolution = nil
        explicit.aspectRatio = nil
        guard spec.size != nil || spec.width != nil || spec.height != nil else { return try namedSize(spec, model: model) }
        let exact = try exactSize(explicit, model: model)
        if spec.resolution != nil || spec.aspectRatio != nil {
            let named = try namedSize(spec, model: model)
            if named != exact {
                let field = spec.aspectRatio != nil ? "aspect_ratio" : "resolution"
                let said = [spec.resolution.map { "resolution \(Self.quote($0))" }, spec.aspectRatio.map { "aspect_ratio \(Self.quote($0))" }].compactMap { $0 }.joined(separator: " and ")
                throw TurboServeError(.conflictingFields, field: field, "\(spec.size != nil ? "size" : "width×height") \(exact) conflicts with \(said), which give \(named) for \(model.id); send one of them")
            }
        }
        return exact
    }

    private func exactSize(_ spec: JobSpec, model: ModelDescriptor) throws(TurboServeError) -> FrameSize {
        let allowedSizes = model.allSizes.map(\.description).joined(separator: ", ")
        if let size = spec.size {
            guard let parsed = Self.parseSize(size) else {
                throw TurboServeError(.invalidValue, field: "size", "size must look like WIDTHxHEIGHT (e.g. \(model.allSizes.first!)); got '\(Self.quote(size))'; allowed for \(model.id): \(allowedSizes)")
            }
            guard model.allSizes.contains(parsed) else {
                throw TurboServeError(.invalidValue, field: "size", "size \(parsed) is not allowed for \(model.id); allowed: \(allowedSizes)")
            }
            if spec.width != nil || spec.height != nil, FrameSize(width: spec.width ?? -1, height: spec.height ?? -1) != parsed {
                throw TurboServeError(.conflictingFields, field: spec.width != nil ? "width" : "height", "size \(parsed) conflicts with width \(spec.width.map(String.init) ?? "-") × height \(spec.height.map(String.init) ?? "-"); send one of them")
            }
            return parsed
        }
        if spec.width != nil || spec.height != nil {
            guard let w = spec.width, let h = spec.height else {
                let field = spec.width == nil ? "width" : "height"
                throw TurboServeError(.missingField, field: field, "width and height must be given together")
            }
            let parsed = FrameSize(width: w, height: h)
            guard model.allSizes.contains(parsed) else {
                throw TurboServeError(.invalidValue, field: "width", "width×height \(parsed) is not allowed for \(model.id); allowed: \(allowedSizes)")
            }
            return parsed
        }
        return try namedSize(spec, model: model)
    }

    private func namedSize(_ spec: JobSpec, model: ModelDescriptor) throws(TurboServeError) -> FrameSize {
        let resolutionName = spec.resolution ?? model.defaultResolution
        guard let resolution = model.resolution(named: resolutionName) else {
            let allowed = model.resolutions.map(\.name).joined(separator: ", ")
            throw TurboServeError(.invalidValue, field: "resolution", "resolution '\(Self.quote(resolutionName))' is not available for \(model.id); allowed: \(allowed)")
        }
        let ratio = spec.aspectRatio ?? model.defaultAspectRatio
        guard let size = resolution.sizes[ratio] else {
            let allowed = resolution.sizes.keys.sorted().joined(separator: ", ")
            throw TurboServeError(.invalidValue, field: "aspect_ratio", "aspect_ratio '\(Self.quote(ratio))' is not available at \(resolution.name); allowed: \(allowed)")
        }
        return size
    }

    private func resolveFPS(_ spec: JobSpec, model: ModelDescriptor) throws(TurboServeError) -> Int {
        let fps = spec.fps ?? model.fps
        guard (1...60).contains(fps) else {
            throw TurboServeError(.invalidValue, field: "fps", "fps must be an integer from 1 to 60; got \(fps)")
        }
        return fps
    }

    /// `num_frames` (4k+1, k ≥ 0: one frame is a still the Wan VAE encodes on its own), or `seconds` rounded to
    /// the nearest 4k+1 frames (k ≥ 1) at the model's fps, which must fit the model's longest clip: nothing is
    /// clamped. Both given and naming different counts is `conflicting_fields`.
    private func resolveFrames(_ spec: JobSpec, model: ModelDescriptor, fps: Int) throws(TurboServeError) -> Int {
        let allowed = "4k+1 from 1 to \(model.maxFrames) (e.g. 1, 5, 9, 17, \(model.maxFrames))"
        var fromFrames: Int?
        if let frames = spec.frames {
            guard frames >= 1, frames <= model.maxFrames, (frames - 1) % 4 == 0 else {
                throw TurboServeError(.invalidValue, field: "num_frames", "num_frames must be \(allowed); got \(frames)")
            }
            fromFrames = frames
        }
        guard let seconds = spec.seconds else { return fromFrames ?? model.defaultFrames }
        let longest = Double(model.maxFrames - 1) / Double(model.fps)
        // Bounded before any conversion to Int: `Int(1e19)` traps.
        guard seconds.isFinite, seconds > 0, seconds <= Self.maxSeconds else {
            throw TurboServeError(.invalidValue, field: "seconds", "seconds must be a number greater than 0 and at most \(Self.format(longest)) for \(model.id); got \(Self.quote(String(seconds)))")
        }
        let k = max(1, Int((seconds * Double(model.fps) / 4).rounded()))
        let frames = 4 * k + 1
        guard frames <= model.maxFrames else {
            throw TurboServeError(.invalidValue, field: "seconds", "seconds must be at most \(Self.format(longest)) for \(model.id) (\(model.maxFrames) frames at \(model.fps) fps); got \(Self.format(seconds))")
        }
        if let fromFrames, fromFrames != frames {
            throw TurboServeError(.conflictingFields, field: "seconds", "seconds \(Self.format(seconds)) gives \(frames) frames at \(model.fps) fps, but num_frames is \(fromFrames); send one of them")
        }
        return frames
    }

    /// A duration for a message: `2`, `0.5`, `1.94`.
    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e9 ? String(Int(seconds)) : String(format: "%.2f", seconds).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }

    /// A free-text field: no NUL, at most `maxPromptCharacters` Unicode scalars and `maxPromptBytes` UTF-8 bytes
    /// (a grapheme can hold millions of combining marks, so characters alone bound nothing).
    private func checkText(_ text: String, field: String) throws(TurboServeError) {
        if text.unicodeScalars.contains("\u{0}") {
            throw TurboServeError(.invalidValue, field: field, "\(field) must not contain NUL characters")
        }
        let bytes = text.utf8.count
        if bytes > maxPromptBytes {
            throw TurboServeError(.invalidValue, field: field, "\(field) must be at most \(maxPromptBytes) bytes of UTF-8; got \(bytes)")
        }
        let characters = text.unicodeScalars.count
        if characters > Self.maxPromptCharacters {
            throw TurboServeError(.invalidValue, field: field, "\(field) must be at most \(Self.maxPromptCharacters) characters; got \(characters)")
        }
    }

    // MARK: - Helpers

    /// What the caller sent, cut to `quoteLimit` characters for an error message.
    public static func quote(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > quoteLimit else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(quoteLimit))) + "…"
    }

    public static func parseSize(_ text: String) -> FrameSize? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        return FrameSize(width: w, height: h)
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_: E.Type, _ raw: String?, default value: E, field: String) throws(TurboServeError) -> E where E.RawValue == String {
        guard let raw else { return value }
        guard let parsed = E(rawValue: raw.lowercased()) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw TurboServeError(.invalidValue, field: field, "\(field) must be one of \(allowed); got '\(quote(raw))'")
        }
        return parsed
    }

    static func ids(of task: TaskKind, in models: [ModelDescriptor]) -> String {
        models.filter { $0.task == task }.map(\.id).joined(separator: ", ")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
