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

    /// Samples kept per key.
    public let window: Int
    /// Newest last, at most `window` seconds values per key.
    public private(set) var samples: [Key: [Double]] = [:]

    public init(window: Int = 15) { self.window = max(1, window) }

    public mutating func record(_ key: Key, seconds: Double) {
        guard seconds.isFinite, seconds > 0 else { return }
        var list = samples[key, default: []]
        list.append(seconds)
        if list.count > window { list.removeFirst(list.count - window) }
        samples[key] = list
    }

    /// The median of the kept samples of `key` (the mean of the middle two for an even count).
    public func median(_ key: Key) -> Double? {
        guard let list = samples[key], !list.isEmpty else { return nil }
        let sorted = list.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The measured batch sizes of one step group, ascending.
    public func batchSizes(expert: ModelKey, shape: ShapeKey) -> [Int] {
        samples.keys.filter { $0.expert == expert && $0.shape == shape }.map(\.batchSize).sorted()
    }
}
