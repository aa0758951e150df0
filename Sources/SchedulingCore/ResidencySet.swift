import TurboServeDomain

/// Which experts a policy keeps on the device and what it evicts to make room: least recently used first,
/// preferring a victim whose removal alone makes room (so loading the I2V low-noise expert evicts the high-noise
/// one, not the small model beside it). Optional limits: at most `maxModels` distinct models (the seed policy's
/// 2-model cache) and a `keepAlive` after which an unused, unpinned model is unloaded.
///
/// Memory is planned against `capacity` = device memory − shared encoders: resident weights + `extraBytes` (job
/// state and the next step's activations) must fit. `pinned` experts are never evicted; `keepWarm` experts
/// (preloaded ones) are exempt from keep-alive but may be evicted when memory is needed.
///
/// A pure value type: it records what the owner reports (`loaded`, `unloaded`, `touch`) and answers what to do
/// next (`move(toward:)`); it never performs a move itself.
public struct ResidencySet<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public enum Move: Equatable, Sendable {
        case ready
        case load(ModelKey)
        case unload(ModelKey)
        /// Even evicting everything unprotected would not make room.
        case impossible
    }

    public let memory: any MemoryEstimating
    public let capacity: Int64
    public var maxModels: Int?
    public var keepAlive: Duration?
    /// Exempt from keep-alive (preloaded models); still evictable when memory is needed.
    public var keepWarm: Set<ModelKey> = []
    /// Never evicted, neither by keep-alive nor to make room.
    public var pinned: Set<ModelKey> = []
    public private(set) var lastUse: [ModelKey: Instant] = [:]

    public init(memory: any MemoryEstimating, capacity: Int64, maxModels: Int? = nil, keepAlive: Duration? = nil) {
        self.memory = memory
        self.capacity = capacity
        self.maxModels = maxModels
        self.keepAlive = keepAlive
    }

    public var keys: Set<ModelKey> { Set(lastUse.keys) }
    public func contains(_ key: ModelKey) -> Bool { lastUse[key] != nil }
    public var weightBytes: Int64 { lastUse.keys.reduce(0) { $0 + memory.weightBytes($1) } }

    public mutating func loaded(_ key: ModelKey, at instant: Instant) { lastUse[key] = instant }
    public mutating func unloaded(_ key: ModelKey) { lastUse[key] = nil }
    public mutating func touch(_ key: ModelKey, at instant: Instant) { if lastUse[key] != nil { lastUse[key] = instant } }
    public mutating func clear() { lastUse.removeAll() }

    /// Free bytes with the current residents and `heldBytes` of job state.
    public func freeBytes(heldBytes: Int64) -> Int64 { capacity - weightBytes - heldBytes }

    /// Free bytes once `key` is resident (after the evictions `move(toward:)` would make with nothing extra).
    public func freeBytes(ifResident key: ModelKey, heldBytes: Int64) -> Int64 {
        let current = weightBytes
        if contains(key), current + heldBytes <= capacity { return capacity - current - heldBytes }
        var copy = self
        var guardrail = 0
        while guardrail < 16, case let .unload(victim) = copy.move(toward: key, extraBytes: heldBytes, protecting: []) {
            copy.unloaded(victim)
            guardrail += 1
        }
        let weights = copy.weightBytes + (copy.contains(key) ? 0 : memory.weightBytes(key))
        return capacity - weights - heldBytes
    }

    /// The next action towards having `key` resident with `extraBytes` free besides it.
    public func move(toward key: ModelKey, extraBytes: Int64, protecting: Set<ModelKey>) -> Move {
        if contains(key) {
            return weightBytes + extraBytes <= capacity ? .ready : evict(need: weightBytes + extraBytes - capacity, keeping: protecting.union([key]))
        }
        let candidates = lastUse.keys.filter { !protecting.contains($0) && !pinned.contains($0) && $0 != key }
        if let maxModels {
            let models = Set(lastUse.keys.map(\.model)).union([key.model])
            if models.count > maxModels, let victim = leastRecent(candidates.filter { $0.model != key.model }) {
                return .unload(victim)
            }
        }
        let need = weightBytes + memory.weightBytes(key) + extraBytes - capacity
        return need <= 0 ? .load(key) : evict(need: need, keeping: protecting.union([key]))
    }

    /// The least recently used unpinned expert that `isCandidate` accepts (nil: none).
    public func leastRecentUnpinned(where isCandidate: (ModelKey) -> Bool) -> ModelKey? {
        leastRecent(lastUse.keys.filter { !pinned.contains($0) && isCandidate($0) })
    }

    /// An unpinned model unused for `keepAlive`, not in `protecting`.
    public func expired(at now: Instant, protecting: Set<ModelKey>) -> ModelKey? {
        guard let keepAlive else { return nil }
        let due = lastUse.filter { !pinned.contains($0.key) && !keepWarm.contains($0.key) && !protecting.contains($0.key) && $0.value.advanced(by: keepAlive) <= now }
        return leastRecent(Array(due.keys))
    }

    /// When the next keep-alive eviction falls due.
    public func nextExpiry() -> Instant? {
        guard let keepAlive else { return nil }
        return lastUse.filter { !pinned.contains($0.key) && !keepWarm.contains($0.key) }.values.map { $0.advanced(by: keepAlive) }.min()
    }

    private func evict(need: Int64, keeping: Set<ModelKey>) -> Move {
        let candidates = lastUse.keys.filter { !keeping.contains($0) && !pinned.contains($0) }
        guard !candidates.isEmpty else { return .impossible }
        let sufficient = candidates.filter { memory.weightBytes($0) >= need }
        if let victim = leastRecent(sufficient) ?? leastRecent(candidates) { return .unload(victim) }
        return .impossible
    }

    private func leastRecent(_ keys: [ModelKey]) -> ModelKey? {
        keys.min { a, b in
            let (ta, tb) = (lastUse[a]!, lastUse[b]!)
            return ta == tb ? a < b : ta < tb
        }
    }
}
