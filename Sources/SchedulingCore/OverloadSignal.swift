/// Whether the engine is overloaded, judged by how the last finished jobs fared against their deadlines, with
/// hysteresis: it turns on once more than `enterMissFraction` of the last `window` jobs to finish missed their
/// deadline (and at least half the window has been seen), and off again only once at most `exitMissFraction` did.
/// A value type owned by the scheduler; O(1) per record and per question.
public struct OverloadSignal: Sendable {
    public let window: Int
    public let enterMissFraction: Double
    public let exitMissFraction: Double
    private var outcomes: [Bool] = []
    private var next = 0
    private var misses = 0
    public private(set) var isOverloaded = false
    /// Finished jobs recorded so far, up to `window` (the most recent ones).
    public var counted: Int { outcomes.count }
    /// Of those, the jobs that missed their deadline.
    public var missed: Int { misses }

    public init(window: Int, enterMissFraction: Double, exitMissFraction: Double) {
        self.window = max(1, window)
        self.enterMissFraction = enterMissFraction
        self.exitMissFraction = min(exitMissFraction, enterMissFraction)
    }

    /// A job finished; `missed` when past its deadline.
    public mutating func record(missed: Bool) {
        if outcomes.count < window {
            outcomes.append(missed)
        } else {
            if outcomes[next] { misses -= 1 }
            outcomes[next] = missed
            next = (next + 1) % window
        }
        if missed { misses += 1 }
        guard outcomes.count * 2 >= window else { return }
        let share = Double(misses) / Double(outcomes.count)
        if share > enterMissFraction { isOverloaded = true } else if share <= exitMissFraction { isOverloaded = false }
    }
}
