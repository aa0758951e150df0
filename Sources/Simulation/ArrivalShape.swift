import Foundation

/// How an open-loop arrival process departs from a homogeneous Poisson process, keeping its mean rate: burstiness
/// (the coefficient of variation of inter-arrival times) and a diurnal cycle (a sinusoidal rate between a trough and
/// a peak). The default is plain Poisson.
///
/// Generation (`arrivalTimes`): a renewal process of unit rate is drawn in *operational time* — exponential gaps for
/// `cv == 1`, a balanced two-phase hyperexponential for `cv > 1` (the standard fit: both phases carry half the mean)
/// — and mapped to wall time through the inverse of the cumulative rate `Λ(t) = r·(t − a·P/2π·sin(2πt/P))`, where
/// `a = (peak − trough)/(peak + trough)`: rate `r·(1 − a·cos(2πt/P))`, trough at t = 0, peak at P/2. Deterministic
/// for a seed; pure.
public struct ArrivalShape: Sendable, Hashable {
    /// Coefficient of variation of inter-arrival times: 1 is Poisson, 3 is bursty. Must be ≥ 1.
    public var cv: Double
    /// Peak rate ÷ trough rate over one period (1: flat).
    public var peakToTrough: Double
    /// Length of one diurnal cycle.
    public var periodSeconds: Double

    public init(cv: Double = 1, peakToTrough: Double = 1, periodSeconds: Double = 86_400) {
        self.cv = cv
        self.peakToTrough = peakToTrough
        self.periodSeconds = periodSeconds
    }

    /// Relative amplitude `a` of the sinusoidal rate.
    var amplitude: Double { (peakToTrough - 1) / (peakToTrough + 1) }

    /// The arrival rate at wall time `t` (mean `ratePerSecond` over a period).
    public func rate(at t: Double, ratePerSecond: Double) -> Double {
        ratePerSecond * (1 - amplitude * cos(2 * .pi * t / periodSeconds))
    }

    /// Arrival instants in [0, `durationSeconds`) at mean rate `ratePerSecond`.
    public func arrivalTimes(ratePerSecond: Double, durationSeconds: Double, rng: inout SplitMix64) -> [Double] {
        precondition(ratePerSecond > 0 && cv >= 1 && peakToTrough >= 1, "rate > 0, cv ≥ 1, peak_to_trough ≥ 1")
        let meanGap = 1 / ratePerSecond
        // Balanced two-phase hyperexponential: phase 1 with probability p, each phase carrying half the mean.
        let squared = cv * cv
        let p = 0.5 * (1 + ((squared - 1) / (squared + 1)).squareRoot())
        var times: [Double] = []
        var operational = 0.0
        while true {
            if cv == 1 {
                operational += rng.exponential(mean: meanGap)
            } else {
                let first = rng.unit() < p
                operational += rng.exponential(mean: first ? meanGap / (2 * p) : meanGap / (2 * (1 - p)))
            }
            let t = wallTime(operational: operational)
            guard t < durationSeconds else { return times }
            times.append(t)
        }
    }

    /// The wall time `t` with `Λ(t)/r = target` (bisection on a monotone function; exact when flat).
    func wallTime(operational target: Double) -> Double {
        let a = amplitude
        guard a > 0 else { return target }
        let period = periodSeconds
        func cumulative(_ t: Double) -> Double { t - a * period / (2 * .pi) * sin(2 * .pi * t / period) }
        var low = max(0, target - a * period / (2 * .pi)), high = target + a * period / (2 * .pi)
        for _ in 0..<60 {
            let mid = (low + high) / 2
            if cumulative(mid) < target { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
