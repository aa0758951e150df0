import TurboServeDomain

/// Choosing the next engine action. Order of business at a step boundary: releases, decodes of finished jobs,
/// then the denoise work of one step group (with the admit and weight moves it needs first), then — only when no
/// job needs the engine — keep-alive evictions and preloads.
extension TurboScheduler {
    /// The best candidate of one step group at this boundary.
    struct Candidate {
        let group: StepGroup
        /// Urgency: deadline (+ late penalty, + fair-share lag); smaller is more urgent.
        var key: C.Instant
        var lead: JobID
        /// Jobs of the group ready now (active ones + queued bucket heads seen).
        var size: Int
        var hasQueued: Bool
        /// Earliest deadline among the group's jobs seen.
        var deadline: C.Instant
    }

    mutating func nextAction() -> (PlanAction, StepGroup?)? {
        if !toRelease.isEmpty {
            defer { toRelease = [] }
            return (.release(jobs: toRelease), nil)
        }
        if !toDecode.isEmpty { return (.decode(jobs: toDecode), nil) }
        let now = clock.now
        let candidates = collectCandidates(now: now)
        guard let lead = candidates.values.min(by: { $0.key < $1.key }) else { return idleAction(now: now).map { ($0, nil) } }
        var choice = lead
        if let leadJob = jobs[lead.lead] {
            // Slack reclaiming: resident work may go before the lead — the most urgent by deadline first — while
            // the lead's slack to its target (after any switch it needs) covers it; short work and the other expert
            // phase of the lead's own model may also use the lead's slack to its deadline. A non-resident lead lets
            // any such work pass (that saves a switch now and keeps an I2V expert phase together); a resident lead
            // only work due before its own deadline.
            let leadResident = residency.contains(lead.group.expert)
            let switchCost = switchTime(to: lead.group.expert)
            let targetSlack = leadJob.slack(at: now) - switchCost
            let deadlineSlack = leadJob.deadlineSlack(at: now) - switchCost
            let shortWork = leadJob.work * configuration.shortPassFraction
            let passer = candidates.values.filter { candidate in
                guard candidate.group != lead.group, residency.contains(candidate.group.expert),
                      !leadResident || candidate.deadline < leadJob.deadline else { return false }
                let time = estimatedTime(of: candidate)
                let samePhaseGroup = !leadResident && candidate.group.expert.model == lead.group.expert.model
                return time <= targetSlack || ((time <= shortWork || samePhaseGroup) && time <= deadlineSlack)
            }.min { $0.deadline < $1.deadline }
            if let passer { choice = passer }
        }
        return plan(for: choice, now: now)
    }

    /// Candidates by step group: active jobs not in flight, and the heads of every queued bucket.
    mutating func collectCandidates(now: C.Instant) -> [StepGroup: Candidate] {
        var result: [StepGroup: Candidate] = [:]
        let floor = fairness.floor
        func offer(_ group: StepGroup, _ job: TrackedJob<C.Instant>, _ key: C.Instant, queued: Bool) {
            if var existing = result[group] {
                existing.size += 1
                existing.hasQueued = existing.hasQueued || queued
                if key < existing.key { existing.key = key; existing.lead = job.id }
                existing.deadline = min(existing.deadline, job.deadline)
                result[group] = existing
            } else {
                result[group] = Candidate(group: group, key: key, lead: job.id, size: 1, hasQueued: queued, deadline: job.deadline)
            }
        }
        for id in active {
            guard let job = jobs[id], let group = job.group else { continue }
            offer(group, job, urgencyKey(job, now: now, floor: floor), queued: false)
        }
        let (jobs, held) = (self.jobs, self.held)
        for key in Array(queue.keys) {
            let heads = queue.heads(key, isWaiting: { Self.isWaiting($0, jobs: jobs, held: held) }, isLate: { jobs[$0]?.isLate(at: now) ?? false })
            for item in [heads.feasible, heads.late].compactMap({ $0 }) {
                guard let job = jobs[item.id] else { continue }
                offer(key.group, job, urgencyKey(job, now: now, floor: floor), queued: true)
            }
        }
        return result
    }

    /// A queued job not yet handed to the engine (nor waiting for its old state to be released).
    static func isWaiting(_ id: JobID, jobs: [JobID: TrackedJob<C.Instant>], held: [JobID: Int64]) -> Bool {
        guard let job = jobs[id] else { return false }
        return job.state == .queued && held[id] == nil
    }

    func urgencyKey(_ job: TrackedJob<C.Instant>, now: C.Instant, floor: Double) -> C.Instant {
        var key = job.target.advanced(by: fairness.lag(job.tenant, floor: floor))
        if job.isLate(at: now) { key = key.advanced(by: configuration.latePenalty) }
        return key
    }

    /// Engine time to make `expert` resident: the evictions it needs plus the load.
    func switchTime(to expert: ModelKey) -> Duration {
        guard !residency.contains(expert) else { return .zero }
        var copy = residency
        var total = Duration.zero
        for _ in 0..<8 {
            switch copy.move(toward: expert, extraBytes: heldBytes, protecting: []) {
            case let .unload(victim):
                total += cost.unloadTime(victim)
                copy.unloaded(victim)
            case .load, .ready, .impossible:
                return total + cost.loadTime(expert)
            }
        }
        return total + cost.loadTime(expert)
    }

    /// Roughly how long running `candidate`'s next step (with its admit) holds the engine.
    func estimatedTime(of candidate: Candidate) -> Duration {
        let size = min(candidate.size, configuration.maxBatchSize)
        let admit = candidate.hasQueued ? cost.admitTime(shape: candidate.group.shape, task: taskOf(candidate.group), batchSize: 1) : .zero
        return admit + cost.stepTime(shape: candidate.group.shape, expert: candidate.group.expert, batchSize: size)
    }

    func taskOf(_ group: StepGroup) -> TaskKind { ModelCatalog.descriptor(for: group.shape.model)?.task ?? .textToVideo }

    /// Free device bytes for activations once `expert` is resident, after `extraHeld` more bytes of job state.
    func freeBytes(ifResident expert: ModelKey, extraHeld: Int64) -> Int64 {
        residency.freeBytes(ifResident: expert, heldBytes: heldBytes + extraHeld) + memoryCorrection
    }
}

extension TurboScheduler {
    /// The plan that advances `choice`'s group: a weight move if its expert is not resident, the admit of its
    /// queued members, or the batched step. The batch takes the group's most urgent jobs while they fit in memory,
    /// stay under `maxBatchSize` (and any ceiling the engine taught), and — while the lead can still make its
    /// deadline — while the longer step does not cost the lead its deadline.
    mutating func plan(for choice: Candidate, now: C.Instant) -> (PlanAction, StepGroup?)? {
        let group = choice.group
        let shape = group.shape
        let floor = fairness.floor
        let limit = max(1, min(configuration.maxBatchSize, batchCeiling[group] ?? .max))
        var options: [(id: JobID, key: C.Instant, bucket: QueueBuckets<C.Instant>.Key?, item: QueueBuckets<C.Instant>.Item?)] = []
        for id in active {
            guard let job = jobs[id], job.group == group else { continue }
            options.append((id, urgencyKey(job, now: now, floor: floor), nil, nil))
        }
        let (jobs, held) = (self.jobs, self.held)
        for key in Array(queue.keys) where key.group == group {
            for item in queue.take(key, limit: limit, isWaiting: { Self.isWaiting($0, jobs: jobs, held: held) }) {
                guard let job = jobs[item.id] else { continue }
                options.append((item.id, urgencyKey(job, now: now, floor: floor), key, item))
            }
        }
        options.sort { $0.key < $1.key }
        let perActivation = memory.activationBytes(shape: shape)
        let perState = memory.residentStateBytes(shape: shape)
        let roomForNew = max(0, configuration.maxActiveJobs - active.count - toDecode.count)
        var batch: [JobID] = []
        var fresh: [JobID] = []
        var leadSlack = Duration.zero
        var leadSteps = 1
        for option in options {
            guard batch.count < limit else { break }
            let isNew = option.bucket != nil
            if isNew, fresh.count >= roomForNew { continue }
            let newState = Int64(fresh.count + (isNew ? 1 : 0)) * perState
            guard freeBytes(ifResident: group.expert, extraHeld: newState) >= Int64(batch.count + 1) * perActivation else { break }
            if let leadID = batch.first, let lead = jobs[leadID] {
                if batch.count == 1 {
                    leadSlack = lead.slack(at: now) - switchTime(to: group.expert)
                    leadSteps = lead.experts[lead.completed...].prefix { $0 == group.expert }.count
                }
                if leadSlack >= .zero {
                    let longer = cost.stepTime(shape: shape, expert: group.expert, batchSize: batch.count + 1)
                        - cost.stepTime(shape: shape, expert: group.expert, batchSize: batch.count)
                    let delay = longer * leadSteps
                    if delay > leadSlack { break }
                    leadSlack -= delay
                }
            }
            batch.append(option.id)
            if isNew { fresh.append(option.id) }
        }
        // Queued jobs taken from their buckets but not admitted now go back.
        let admitting = Set(fresh)
        func putBackAll(except keep: Set<JobID>) {
            for option in options {
                if let bucket = option.bucket, let item = option.item, !keep.contains(option.id) { queue.putBack([item], key: bucket) }
            }
        }
        guard let leadID = batch.first else {
            putBackAll(except: [])
            return unfittable(choice.lead, group: group)
        }
        let extra = heldBytes + Int64(fresh.count) * perState + Int64(batch.count) * perActivation - memoryCorrection
        switch residency.move(toward: group.expert, extraBytes: extra, protecting: []) {
        case let .load(key):
            putBackAll(except: [])
            return (.load(key), group)
        case let .unload(key):
            putBackAll(except: [])
            return (.unload(key), group)
        case .impossible:
            putBackAll(except: [])
            return unfittable(leadID, group: group)
        case .ready:
            break
        }
        putBackAll(except: admitting)
        if !fresh.isEmpty {
            for id in fresh { hold(id, shape: shape) }
            return (.admit(jobs: fresh, model: shape.model), group)
        }
        let steps = batch.compactMap { id in jobs[id].map { JobStep(job: id, index: $0.completed, total: $0.experts.count) } }
        return (.step(expert: group.expert, steps: steps), group)
    }

    /// The lead job cannot fit on the device even alone: release it; it fails when the release is done.
    mutating func unfittable(_ id: JobID, group: StepGroup) -> (PlanAction, StepGroup?) {
        failing[id] = Event.Reason(code: .engineOutOfMemory, message: "the job (\(group.shape)) does not fit in device memory")
        active.removeAll { $0 == id }
        hold(id, shape: group.shape)
        return (.release(jobs: [id]), nil)
    }

    /// Nothing needs the engine: evict what keep-alive says is stale, else preload what is missing.
    mutating func idleAction(now: C.Instant) -> PlanAction? {
        let wanted = Set(active.compactMap { jobs[$0]?.nextExpert })
        if let expired = residency.expired(at: now, protecting: wanted) { return .unload(expired) }
        for key in configuration.preload + configuration.pinned.sorted() where !residency.contains(key) {
            if case .load = residency.move(toward: key, extraBytes: heldBytes, protecting: residency.keys) { return .load(key) }
        }
        return nil
    }
}
