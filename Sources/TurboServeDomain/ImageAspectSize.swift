/// How an image-to-video job follows its input image's shape (`adaptive_resolution`). The one home of the rule:
/// the gateway applies it when the upload arrives, so the job's spec, its API object, the scheduler's shape key
/// and the engine (which renders at the size the job carries) all agree on the size actually produced.
extension FrameSize {
    /// The image's aspect ratio at about `area` pixels, both sides rounded to the nearest multiple of 16 (ties to
    /// even) and at least 16. A 1024×576 image at the 64×64 area gives 80×48.
    public static func following(image: FrameSize, area: Int) -> FrameSize {
        let scale = (Double(area) / Double(image.width * image.height)).squareRoot()
        func side(_ length: Int) -> Int {
            max(16, Int((Double(length) * scale / 16).rounded(.toNearestOrEven)) * 16)
        }
        return FrameSize(width: side(image.width), height: side(image.height))
    }
}

extension ValidatedJob {
    /// The size this job produces for an input image of `image` pixels: with `adaptiveResolution`, the image's
    /// aspect ratio at the area of the size chosen from the request; otherwise that size unchanged.
    public func fitted(toImage image: FrameSize) -> ValidatedJob {
        guard adaptiveResolution, image.width > 0, image.height > 0 else { return self }
        let size = FrameSize.following(image: image, area: width * height)
        return ValidatedJob(
            model: model, task: task, prompt: prompt, imagePath: imagePath, width: size.width, height: size.height,
            frames: frames, fps: fps, steps: steps, seed: seed, sampler: sampler, sigmaMax: sigmaMax, boundary: boundary,
            attention: attention, quantLinear: quantLinear, adaptiveResolution: adaptiveResolution,
            negativePrompt: negativePrompt, priority: priority, deadlineSeconds: deadlineSeconds)
    }
}

extension JobSpec {
    /// Image-to-video follows the input image unless the request fixes a size (`size`, `width`/`height` or
    /// `aspect_ratio`) or sets `adaptive_resolution` itself.
    public var followsImage: Bool {
        adaptiveResolution ?? (imagePath != nil && size == nil && width == nil && height == nil && aspectRatio == nil)
    }
}
