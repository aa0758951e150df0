import TurboServeDomain

/// One kind of request in a workload mix (`classes` in the workload files): what is asked for, how often, at
/// which priority, and how tight its deadline is (`slo_factor` × the class's isolated latency).
public struct WorkloadClass: Codable, Sendable, Hashable {
    public var name: String
    public var weight: Double
    public var model: String
    public var resolution: String
    public var aspectRatio: String
    public var frames: Int
    public var steps: Int
    public var priority: String
    public var sloFactor: Double

    enum CodingKeys: String, CodingKey {
        case name, weight, model, resolution, aspectRatio = "aspect_ratio", frames, steps, priority
        case sloFactor = "slo_factor"
    }

    public init(name: String, weight: Double, model: String, resolution: String, aspectRatio: String = "16:9", frames: Int = 81, steps: Int, priority: String, sloFactor: Double) {
        self.name = name
        self.weight = weight
        self.model = model
        self.resolution = resolution
        self.aspectRatio = aspectRatio
        self.frames = frames
        self.steps = steps
        self.priority = priority
        self.sloFactor = sloFactor
    }

    /// The request this class stands for, through the same validation the API uses (so a workload cannot ask for
    /// something the server would refuse). Attention is `sagesla`, as in the calibration runs. I2V requests carry a
    /// placeholder image path: the simulator never opens it.
    public func validatedJob(seed: Int64, deadlineSeconds: Double?) throws(TurboServeError) -> ValidatedJob {
        let spec = JobSpec(
            prompt: "simulated request of class \(name)", model: model,
            imagePath: ModelCatalog.descriptor(for: model)?.task == .imageToVideo ? "simulated-reference.png" : nil,
            resolution: resolution, aspectRatio: aspectRatio, frames: frames, steps: steps, seed: seed,
            attention: AttentionKind.sagesla.rawValue, priority: priority, deadlineSeconds: deadlineSeconds)
        return try JobValidator(acceleratedKernels: true).validate(spec, randomSeed: { 0 })
    }
}
