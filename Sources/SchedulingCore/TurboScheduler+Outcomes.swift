import TurboServeDomain

/// Applying what the engine reports. A completed plan moves its jobs on; a failed one is contained to the jobs it
/// names: a memory refusal of a batch lowers that group's batch ceiling and retries smaller, a retryable failure
/// requeues (attempts bounded), anything else fails the jobs and frees their state.
extension TurboScheduler {
    public mutating func planFinished(_ id: PlanID, outcome: PlanOutcome) -> [Event] {
        guard let (plan, group) = outstanding, plan.id == id else { return [] }
        outstanding = nil
        switch outcome {
        case let .completed(engineTime, freeMemoryBytes):
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
        switch action {
        case let .step(_, steps) where retryable && reason.code == .engineOutOfMemory && steps.count > 1 && named == nil:
            // The device had less room than planned: never try this group this large again; nobody fails.
            if let group { batchCeiling[group] = steps.count - 1 }
            return []
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
            let affected = named ?? action.jobs
            for id in affected {
                guard let job = jobs[id] else { continue }
                if retryable {
                    // Its state (if any) is released first; it is not offered again until that release is done.
                    dropFromEngine(id)
                    if let event = requeue(job, reason: reason) { events.append(event) }
                } else {
                    events += failJob(id, reason: reason)
                }
            }
            return events
        }
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
