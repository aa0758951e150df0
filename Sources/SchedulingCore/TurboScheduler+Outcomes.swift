import TurboServeDomain

/// Applying what the engine reports. A completed plan moves its jobs on; a failed one is contained to the jobs it
/// names: a memory refusal of a batch lowers that group's batch ceiling and retries smaller (a single job that
/// cannot fit fails `engine_out_of_memory`), a retryable or unattributed failure requeues its jobs to run alone (the
/// store bounds the attempts), anything else fails the jobs it names and frees their state; batch-mates it does not
/// name run again.
extension TurboScheduler {
    public mutating func planFinished(_ id: PlanID, outcome: PlanOutcome) -> [Event] {
        guard let (plan, group) = outstanding, plan.id == id else { return [] }
        outstanding = nil
        switch outcome {
        case let .completed(engineTime, freeMemoryBytes):
            if configuration.learnStepTimes { learn(from: plan.action, group: group, engineTime: engineTime) }
            let events = completed(plan.action, engineTime: engineTime)
            if let reported = freeMemoryBytes {
                let estimate = residency.freeBytes(heldBytes: heldBytes)
                memoryCorrection = min(0, reported - estimate)
            }
            return events
        case let .failed(code, message, retryable, named):
            return failed(plan.action, group: group, reason: .init(code: code, message: message), retryable: retryable, named: named)
        }
    }

    /// Feeds a completed plan's measured engine time to the cost model: denoise steps by group and batch size,
    /// admit and decode per job when every job of the plan has one shape (and, for admit, one task).
    private mutating func learn(from action: PlanAction, group: StepGroup?, engineTime: Duration) {
        switch action {
        case let .step(_, steps):
            if let group { cost.recordStep(group, batchSize: steps.count, seconds: engineTime.seconds) }
        case let .admit(ids, _):
            let specs = ids.compactMap { jobs[$0]?.job.spec }
            guard specs.count == ids.count, let first = specs.first,
                  specs.allSatisfy({ $0.shapeKey == first.shapeKey && $0.task == first.task }) else { return }
            cost.recordAdmit(shape: first.shapeKey, task: first.task, jobs: specs.count, seconds: engineTime.seconds)
        case let .decode(ids):
            let shapes = ids.compactMap { jobs[$0]?.job.spec.shapeKey }
            guard shapes.count == ids.count, let first = shapes.first, shapes.allSatisfy({ $0 == first }) else { return }
            cost.recordDecode(shape: first, jobs: shapes.count, seconds: engineTime.seconds)
        default:
            return
        }
    }

    private mutating func completed(_ action: PlanAction, engineTime: Duration) -> [Event] {
        let now = clock.now
        var events: [Event] = []
        func append(_ event: Event?) { if let event { events.append(event) } }
        switch action {
        case let .load(key):
            residency.loaded(key, at: now)
        case let .unload(key):
            residency.unloaded(key)
        case let .admit(ids, _):
            let live = ids.filter { jobs[$0]?.state == .queued }
            charge(live, engineTime)
            for id in live {
                append(move(id, to: .admitted))
                active.append(id)
            }
        case let .step(expert, steps):
            residency.touch(expert, at: now)
            let live = steps.filter { step in jobs[step.job].map { $0.completed == step.index && $0.state != .queued } ?? false }
            charge(live.map(\.job), engineTime)
            for step in live {
                append(move(step.job, to: .denoising(completed: step.index + 1, total: step.total)))
                if step.index + 1 == step.total {
                    active.removeAll { $0 == step.job }
                    toDecode.append(step.job)
                }
            }
        case let .decode(ids):
            charge(ids.filter { jobs[$0] != nil }, engineTime)
            for id in ids {
                unhold(id)
                toDecode.removeAll { $0 == id }
                guard jobs[id]?.state.phase == .denoising else { continue }
                append(move(id, to: .decoding))
                append(move(id, to: .muxing))
            }
        case let .release(ids):
            for id in ids {
                unhold(id)
                if let reason = failing.removeValue(forKey: id) { append(move(id, to: .failed, reason: reason)) }
                if requeueAfterRelease.remove(id) != nil, let job = jobs[id], job.state == .queued { enqueue(job) }
                if preempting.remove(id) != nil, let job = jobs[id] {
                    append(requeue(job, reason: Event.Reason(code: .preempted, message: "preempted to make room on the device; it runs again from the start")))
                }
            }
        case .onEnginePath:
            break
        }
        return events
    }

    private mutating func failed(_ action: PlanAction, group: StepGroup?, reason: Event.Reason, retryable: Bool, named: [JobID]?) -> [Event] {
        var events: [Event] = []
        let planned = action.jobs
        if reason.code == .engineOutOfMemory, named == nil, planned.count > 1 {
            // The device had less room than planned for this many: never try this group (or decode) this large
            // again; the jobs are planned again in smaller batches and nobody fails.
            switch action {
            case .step, .admit:
                if let group { batchCeiling[group] = planned.count - 1 }
            case .decode:
                decodeCeiling = planned.count - 1
            default:
                break
            }
            if case .admit = action { for id in planned { putBackUnadmitted(id) } }
            return []
        }
        switch action {
        case .load, .unload:
            // The weights did not move. Fail the jobs that needed them (a retry would meet the same refusal).
            guard let group, case .load = action else { return [] }
            let victims = jobs.values.filter { $0.group == group }.map(\.id)
            for id in victims.sorted() { events += failJob(id, reason: reason) }
            return events
        default:
            // A failed step leaves its expert's weights in doubt (the engine drops an expert whose streamed copy
            // failed): count it as gone, so the next step on it loads it again — a no-op if it was still there.
            if case let .step(expert, _) = action { residency.unloaded(expert) }
            // An error that names no job of a batch is not pinned on anyone: every member runs again, alone, with an
            // attempt counted, so the one at fault is found and the others finish.
            let unattributed = named == nil && planned.count > 1
            let affected = named ?? planned
            for id in affected {
                guard let job = jobs[id] else { continue }
                if reason.code == .engineOutOfMemory {
                    events += failJob(id, reason: Event.Reason(code: .engineOutOfMemory, message: Self.tooLarge(job, reason.message)))
                } else if retryable || unattributed {
                    // Its state (if any) is released first; it is not offered again until that release is done.
                    jobs[id]?.suspect = true
                    dropFromEngine(id)
                    if let event = requeue(jobs[id] ?? job, reason: reason) { events.append(event) }
                } else {
                    events += failJob(id, reason: reason)
                }
            }
            // Batch-mates the error did not name were not at fault; a step or decode they were in simply did not
            // happen and runs again; an admit that did not happen queues them again.
            if case .admit = action {
                let blamed = Set(affected)
                for id in planned where !blamed.contains(id) { putBackUnadmitted(id) }
            }
            return events
        }
    }

    /// A job whose admit did not happen waits in the queue again (after the release of any state the engine
    /// might hold for it).
    mutating func putBackUnadmitted(_ id: JobID) {
        guard let job = jobs[id], job.state == .queued else { return }
        if held[id] != nil {
            dropFromEngine(id)
            requeueAfterRelease.insert(id)
        } else if job.ticket == nil {
            enqueue(job)
        }
    }

    /// The message for a job the engine cannot fit even alone: what ran out, and what to lower.
    static func tooLarge(_ job: TrackedJob<C.Instant>, _ engineMessage: String) -> String {
        let spec = job.spec
        return "the job does not fit in device memory even alone (\(spec.model), \(spec.width)x\(spec.height), \(spec.frames) frames): "
            + "lower num_frames or seconds, choose a smaller size or resolution, or enable quant_linear; the engine said: \(engineMessage)"
    }

    /// Fails a job now; its engine state (if any) is released by the next plan.
    mutating func failJob(_ id: JobID, reason: Event.Reason) -> [Event] {
        dropFromEngine(id)
        return move(id, to: .failed, reason: reason).map { [$0] } ?? []
    }

    /// Charges `engineTime` to the tenants of `ids`, split evenly.
    mutating func charge(_ ids: [JobID], _ engineTime: Duration) {
        guard !ids.isEmpty else { return }
        let share = engineTime.seconds / Double(ids.count)
        for id in ids { if let tenant = jobs[id]?.tenantNumber { fairness.charge(tenant, seconds: share) } }
    }
}
