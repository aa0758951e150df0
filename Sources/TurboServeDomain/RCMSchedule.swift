import Foundation

/// TurboDiffusion's rCM sampling times, built in TrigFlow time and converted to rectified-flow (RF) time:
/// `trig = [atan(σ_max), 1.5, 1.4, 1.0][:steps] + [0]`, `t = sin(trig) / (sin(trig) + cos(trig))`.
///
/// The first `steps` entries are the times at which the network is evaluated; the last is always 0.
/// Only the first time depends on σ_max. Pure and deterministic; shared by the scheduler (expert phases)
/// and checked against the Python engine's table in golden tests.
public enum RCMSchedule {
    public static let allowedSteps = 1...4

    public static func times(steps: Int, sigmaMax: Double) -> [Double] {
        precondition(allowedSteps.contains(steps), "steps must be 1...4")
        let trig = Array([atan(sigmaMax), 1.5, 1.4, 1.0].prefix(steps)) + [0]
        return trig.map { sin($0) / (sin($0) + cos($0)) }
    }

    /// The expert that evaluates step `index` (0-based) of a job: for two-expert models the high-noise expert runs
    /// while `t_cur ≥ boundary`, then the low-noise expert; single-expert models always use `.main`.
    public static func expert(forStep index: Int, steps: Int, sigmaMax: Double, boundary: Double, experts: [Expert]) -> Expert {
        guard experts.count == 2 else { return .main }
        let t = times(steps: steps, sigmaMax: sigmaMax)[index]
        return t >= boundary ? .highNoise : .lowNoise
    }

    /// The experts of every step, in order (e.g. `[high, high, low, low]` for 4-step I2V at boundary 0.9).
    public static func expertPlan(steps: Int, sigmaMax: Double, boundary: Double, experts: [Expert]) -> [Expert] {
        (0..<steps).map { expert(forStep: $0, steps: steps, sigmaMax: sigmaMax, boundary: boundary, experts: experts) }
    }
}
