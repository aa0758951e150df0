/// What `TurboScheduler` trades when the engine cannot serve everyone in time.
///
/// - `deadlines` (the default) maximises the share of jobs that finish by their deadline: a job that can no longer
///   make its deadline yields to jobs that still can (by `latePenalty`), and the most urgent job may take the
///   device's weights at any step boundary.
/// - `tail` keeps the slowest responses down: work a job has started finishes before another model's weights are
///   loaded (no switch strands a half-denoised job), lateness is judged against the job's target rather than its
///   deadline, and a late job yields by twice its own work (engine and output time), so a long job gives way to
///   short ones more than a short one does (the longest-job-first sacrifice that minimises the number of slow
///   responses). Jobs with tight deadlines miss more often; the yield is still bounded, so nothing starves.
public enum SchedulingObjective: String, Sendable, CaseIterable {
    case deadlines
    case tail
}
