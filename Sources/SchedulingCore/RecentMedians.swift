/// The last `window` measured durations of each key and their median: one outlier (a GC pause, a page-in) moves an
/// estimate not at all, a lasting change moves it after half a window. The one windowing rule behind every learned
/// time (`StepTimings` for denoise steps, `LearnedCostModel`'s admit and decode times). Pure value; `Codable` as
/// `{window, samples}` so the shell can persist it.
///
/// Guarantees: `record` keeps at most `window` samples per key, dropping the oldest; `median` is nil for a key never
/// recorded; non-finite or non-positive durations are ignored (a bad measurement never poisons the estimate).
public struct RecentMedians<Key: Hashable & Sendable & Codable>: Sendable, Hashable, Codable {
    public let window: Int
    /// Newest last, at most `window` seconds values per key.
    public private(set) var samples: [Key: [Double]] = [:]
    private var medians: [Key: Double] = [:]

    public init(window: Int = 15) { self.window = max(1, window) }

    enum CodingKeys: String, CodingKey { case window, samples }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(window: try container.decode(Int.self, forKey: .window))
        for (key, list) in try container.decode([Key: [Double]].self, forKey: .samples) {
            for seconds in list.suffix(window) { record(key, seconds: seconds) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(window, forKey: .window)
        try container.encode(samples, forKey: .samples)
    }

    public static func == (a: RecentMedians, b: RecentMedians) -> Bool { a.window == b.window && a.samples == b.samples }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(window)
        hasher.combine(samples)
    }

    public var isEmpty: Bool { samples.isEmpty }

    /// Adds one measurement; returns the key's new median, or nil when the measurement was ignored.
    @discardableResult
    public mutating func record(_ key: Key, seconds: Double) -> Double? {
        guard seconds.isFinite, seconds > 0 else { return nil }
        var list = samples[key, default: []]
        list.append(seconds)
        if list.count > window { list.removeFirst(list.count - window) }
        samples[key] = list
        let sorted = list.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        medians[key] = median
        return median
    }

    /// The median of the kept samples of `key` (the mean of the middle two for an even count).
    public func median(_ key: Key) -> Double? { medians[key] }
}
