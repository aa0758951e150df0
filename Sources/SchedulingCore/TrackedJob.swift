import TurboServeDomain

/// The scheduler's record of one job: the request, its state, its deadline and what it still costs, computed once
/// at submission from the cost model. `state` changes only through `TurboScheduler.move`, which checks the
/// transition table.
struct TrackedJob<Instant: InstantProtocol> where Instant.Duration == Duration {
    var job: SchedulerJob<Instant>
    var state: JobState
    let deadline: Instant
    /// When the scheduler aims to finish it: `deadline`, or earlier when isolated latency + `targetWait` after
    /// arrival comes first (`arrivalLatencyFactor` × isolated latency under the `arrival` objective). Ordering and
    /// slack use the target; lateness uses `lateAt`.
    let target: Instant
    /// The job counts as late once it could not finish by this even if it ran alone from now: its deadline, or its
    /// target under the `tail` and `arrival` objectives.
    let lateAt: Instant
    /// How far a late job's urgency moves back (`latePenalty`, a multiple of its own work under `tail`, none under
    /// `arrival`).
    let yield: Duration
    /// Expert of each denoise step, in order.
    let experts: [ModelKey]
    /// `remaining[k]`: engine + output time still needed once `k` steps are done (steps k..<n alone, decode,
    /// output pipeline). `remaining.count == steps + 1`.
    let remaining: [Duration]
    /// Text (+ image) encode of this job alone.
    let admitWork: Duration
    /// Submission order; ties in deadline go to the earlier job.
    let sequence: Int
    /// Interned numbers of its tenant and of its next step's group (`TurboScheduler.intern`); nil when no step is left.
    var tenantNumber = 0
    var groupNumber: Int?
    /// The job's live queue ticket while it waits in the queue (nil once handed to the engine).
    var ticket: Int?
    /// The job was in a plan that killed the engine or failed without naming a job (or it arrived with attempts
    /// used): it runs alone until it finishes, so a job that keeps killing the engine takes no batch-mates down.
    var suspect = false

    var id: JobID { job.id }
    var tenant: TenantID { job.tenant }
    var spec: ValidatedJob { job.spec }
    var rank: Int { job.spec.priority.rank }

    var completed: Int {
        if case let .denoising(k, _) = state { return k }
        return 0
    }

    /// The expert of the next denoise step, nil when every step is done.
    var nextExpert: ModelKey? { completed < experts.count ? experts[completed] : nil }

    /// The group this job's next step belongs to.
    var group: StepGroup? { nextExpert.map { StepGroup(expert: $0, shape: spec.shapeKey) } }

    /// Time this job still needs from `state` (admit too when still queued).
    var work: Duration { (state == .queued ? admitWork : .zero) + remaining[min(completed, remaining.count - 1)] }

    /// Whether the job can no longer finish by `lateAt` even if it ran alone from `now`.
    func isLate(at now: Instant) -> Bool { now.advanced(by: work) > lateAt }

    /// Whether it would miss its deadline even if it ran alone from `now`.
    func isMissed(at now: Instant) -> Bool { now.advanced(by: work) > deadline }

    /// Seconds to spare before the target if the job ran alone from `now` (negative when behind it).
    func slack(at now: Instant) -> Duration { now.advanced(by: work).duration(to: target) }

    /// Seconds to spare before the deadline if the job ran alone from `now`.
    func deadlineSlack(at now: Instant) -> Duration { now.advanced(by: work).duration(to: deadline) }
}
