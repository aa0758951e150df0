import TurboServeDomain

/// Measured denoise-step durations per (step group, batch size): the last `window` plan timings of each, from which
/// the estimate is their median — one outlier (a GC pause, a page-in) moves it not at all, a lasting change after
/// half a window. Pure value; `Codable` so the shell can persist it across restarts (`LearnedCostModel`).
///
/// Guarantees: `record` keeps at most `window` samples per key, dropping the oldest; `median` is nil for a key never
/// recorded; non-finite or non-positive durations are ignored (a bad measurement never poisons the estimate).
public struct StepTimings: Sendable, Hashable, Codable {
    /// One step group at one batch size.
    public struct Key: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
        public let expert: ModelKey
        public let shape: ShapeKey
        public let batchSize: Int
        public init(expert: ModelKey, shape: ShapeKey, batchSize: Int) {
            self.expert = expert
            self.shape = shape
            self.batchSize = batchSize
        }
        public var description: String { "\(StepGroup(expert: expert, shape: shape))×\(batchSize)" }
        public static func < (a: Key, b: Key) -> Bool { (a.description, a.batchSize) < (b.description, b.batchSize) }
    }

    /// One step group (any batch size).
    struct GroupKey: Hashable, Sendable {
        let expert: ModelKey
        let shape: ShapeKey
    }

    /// Samples kept per key.
    public var window: Int { recent.window }
    /// Newest last, at most `window` seconds values per key.
    public var samples: [Key: [Double]] { recent.samples }
    /// The windows and their medians, and per step group the medians by batch size (derived on every `record`, so
    /// planning reads them without sorting or scanning).
    private var recent: RecentMedians<Key>
    private var byGroup: [GroupKey: [Int: Double]] = [:]

    public init(window: Int = 15) { recent = RecentMedians(window: window) }

    public init(from decoder: any Decoder) throws {
        recent = try RecentMedians<Key>(from: decoder)
        for key in recent.samples.keys {
            byGroup[GroupKey(expert: key.expert, shape: key.shape), default: [:]][key.batchSize] = recent.median(key)
        }
    }

    public func encode(to encoder: any Encoder) throws { try recent.encode(to: encoder) }

    public static func == (a: StepTimings, b: StepTimings) -> Bool { a.recent == b.recent }
    public func hash(into hasher: inout Hasher) { hasher.combine(recent) }

    /// Whether nothing was recorded yet.
    public var isEmpty: Bool { recent.isEmpty }

    public mutating func record(_ key: Key, seconds: Double) {
        guard let median = recent.record(key, seconds: seconds) else { return }
        byGroup[GroupKey(expert: key.expert, shape: key.shape), default: [:]][key.batchSize] = median
    }

    /// The median of the kept samples of `key` (the mean of the middle two for an even count).
    public func median(_ key: Key) -> Double? { recent.median(key) }

    /// The measured batch size of one step group nearest to `batchSize` (the smaller on a tie), with its median.
    public func nearest(expert: ModelKey, shape: ShapeKey, batchSize: Int) -> (batchSize: Int, seconds: Double)? {
        guard let sizes = byGroup[GroupKey(expert: expert, shape: shape)] else { return nil }
        var best: (batchSize: Int, seconds: Double)?
        for (size, seconds) in sizes {
            guard let current = best else { best = (size, seconds); continue }
            let distance = abs(size - batchSize), bestDistance = abs(current.batchSize - batchSize)
            if distance < bestDistance || (distance == bestDistance && size < current.batchSize) { best = (size, seconds) }
        }
        return best
    }
}
