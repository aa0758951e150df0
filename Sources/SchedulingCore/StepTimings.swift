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
    public let window: Int
    /// Newest last, at most `window` seconds values per key.
    public private(set) var samples: [Key: [Double]] = [:]
    /// The median of each key's samples and, per step group, the medians by batch size: derived from `samples` on
    /// every `record`, so planning reads them without sorting or scanning.
    private var medians: [Key: Double] = [:]
    private var byGroup: [GroupKey: [Int: Double]] = [:]

    public init(window: Int = 15) { self.window = max(1, window) }

    enum CodingKeys: String, CodingKey { case window, samples }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        window = max(1, try container.decode(Int.self, forKey: .window))
        for (key, list) in try container.decode([Key: [Double]].self, forKey: .samples) {
            for seconds in list.suffix(window) { record(key, seconds: seconds) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(window, forKey: .window)
        try container.encode(samples, forKey: .samples)
    }

    public static func == (a: StepTimings, b: StepTimings) -> Bool { a.window == b.window && a.samples == b.samples }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(window)
        hasher.combine(samples)
    }

    /// Whether nothing was recorded yet.
    public var isEmpty: Bool { samples.isEmpty }

    public mutating func record(_ key: Key, seconds: Double) {
        guard seconds.isFinite, seconds > 0 else { return }
        var list = samples[key, default: []]
        list.append(seconds)
        if list.count > window { list.removeFirst(list.count - window) }
        samples[key] = list
        let sorted = list.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        medians[key] = median
        byGroup[GroupKey(expert: key.expert, shape: key.shape), default: [:]][key.batchSize] = median
    }

    /// The median of the kept samples of `key` (the mean of the middle two for an even count).
    public func median(_ key: Key) -> Double? { medians[key] }

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
