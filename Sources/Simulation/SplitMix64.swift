import Foundation

/// A small seeded random number generator (SplitMix64). The simulator draws every random number from one of these,
/// never from the system generator, so the same seed gives the same arrivals, classes and think times on every run
/// and every platform.
///
/// Guarantees: `next()` is a pure function of the seed and the number of draws; `unit()` and `exponential(mean:)`
/// are computed here (not with the standard library's `random(in:)`, whose algorithm may change between releases).
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Exponentially distributed with the given mean (inter-arrival and think times).
    public mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }

    /// An index drawn with probability proportional to `weights` (all ≥ 0, not all 0).
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (index, weight) in weights.enumerated() {
            if x < weight { return index }
            x -= weight
        }
        return weights.count - 1
    }

    /// An independent generator for sub-stream `stream` (e.g. one per closed-loop user), stable for a given seed.
    public static func stream(_ stream: UInt64, of seed: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
