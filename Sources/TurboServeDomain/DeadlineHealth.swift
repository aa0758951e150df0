/// How the last jobs a worker's scheduler finished fared against their deadlines, and whether it judges its engine
/// overloaded from that (`SchedulingCore.OverloadSignal`; by default on once more than 70% of the last 20 missed,
/// off once at most 30% did). Carried in the heartbeat (`EngineActivity.deadlineHealth`), so `/v1/operations` shows it, and
/// exported as `turboserve_scheduler_overloaded` and `turboserve_scheduler_deadline_miss_ratio`.
///
/// A snapshot value: built on request, never changed afterwards. Invariant: `0 ≤ jobsMissed ≤ jobsCounted ≤ window`.
public struct DeadlineHealth: Sendable, Hashable, Codable {
    /// How many finished jobs the judgement looks back on at most.
    public var window: Int
    /// Finished jobs counted so far (up to `window`, the most recent ones).
    public var jobsCounted: Int
    /// Of those, the jobs that finished past their deadline.
    public var jobsMissed: Int
    /// Whether the scheduler is in overload mode: under the `tail` objective, jobs already past their deadline then
    /// yield to jobs that can still make theirs.
    public var overloaded: Bool

    public init(window: Int, jobsCounted: Int, jobsMissed: Int, overloaded: Bool) {
        self.window = window
        self.jobsCounted = jobsCounted
        self.jobsMissed = jobsMissed
        self.overloaded = overloaded
    }

    /// The share of the counted jobs that missed their deadline (0 before any finished).
    public var missRatio: Double { jobsCounted == 0 ? 0 : Double(jobsMissed) / Double(jobsCounted) }
}
