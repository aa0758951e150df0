import TurboServeDomain

/// Jobs the suites share.
public enum Fixtures {
    /// A validated tiny job (seed 1), as the API would store it.
    public static func spec(_ prompt: String = "a fox", model: String = "tiny-t2v", priority: String? = nil, steps: Int = 2) -> ValidatedJob {
        try! JobValidator().validate(JobSpec(prompt: prompt, model: model, steps: steps, seed: 1, priority: priority), randomSeed: { 0 })
    }
}
