/// What `TurboScheduler` trades when the engine cannot serve everyone in time.
///
/// - `tail` (the default) keeps the slowest responses down: work a job has started finishes before another
///   model's weights are loaded (no switch strands a half-denoised job), lateness is judged against the job's
///   target rather than its deadline, and a late job yields by twice its own work (engine and output time), so a
///   long job gives way to short ones more than a short one does (the longest-job-first sacrifice that minimises
///   the number of slow responses). The yield is bounded, so nothing starves.
/// - `deadlines` maximises the share of jobs that finish by their deadline when the engine is overloaded: a job
///   that can no longer make its deadline yields to jobs that still can (by `latePenalty`), and the most urgent job
///   may take the device's weights at any step boundary, even from a half-denoised job. Long jobs with generous
///   deadlines wait longer, so the tail grows.
/// - `arrival` stays closest to first come, first served, for services whose users wait for each answer before they
///   ask again (a closed loop, where every fast answer brings the next request sooner): a job goes before one that
///   arrived earlier only when it arrived less than `arrivalLatencyFactor` (0.3) × the difference of their
///   isolated latencies later, a late job never yields, and resident short work never slips in ahead of the most
///   urgent job. It keeps `tail`'s rule that started work finishes before a weight switch. The slowest responses
///   are close to FIFO's; the mean and the share of deadlines met give back part of what `tail` wins.
public enum SchedulingObjective: String, Sendable, CaseIterable {
    case tail
    case deadlines
    case arrival

    /// The default of `arrivalLatencyFactor` (the scheduler's and `scheduler.arrival_latency_factor`): the best trade
    /// between mean and tail on seed-mix's eight seeds in `docs/benchmarks.md`.
    public static let defaultArrivalLatencyFactor = 0.3
}
