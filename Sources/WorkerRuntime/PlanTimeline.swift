import TurboServeDomain

/// The last `capacity` plan intervals the engine executed, oldest first: a fixed-size ring buffer, so a
/// long-running worker keeps a constant amount of history for the operations view's busy timeline.
///
/// Value type; the worker actor owns the only mutable copy.
struct PlanTimeline: Sendable {
    let capacity: Int
    private var storage: [EngineActivity.Interval] = []
    /// Index of the oldest interval once the buffer is full.
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a plan timeline needs room for at least one interval")
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    /// Adds the newest interval, dropping the oldest when full.
    mutating func append(_ interval: EngineActivity.Interval) {
        if storage.count < capacity {
            storage.append(interval)
        } else {
            storage[head] = interval
            head = (head + 1) % capacity
        }
    }

    /// Every kept interval, oldest first.
    var intervals: [EngineActivity.Interval] { Array(storage[head...] + storage[..<head]) }
}
