import TurboServeDomain

/// Choosing the next engine action. Order of business at a step boundary: releases, decodes of finished jobs,
/// then the denoise work of one step group (with the admit and weight moves it needs first), then — only when no
/// job needs the engine — keep-alive evictions and preloads.
extension TurboScheduler {

    /// The next action, and the step group it serves. The group to run is the most urgent one (the lead), unless a
    /// rescue or a slack passer goes first; before a weight switch for it, started work of another group goes first
    /// (not under `.deadlines`).
    mutating func nextAction() -> (PlanAction, StepGroup?)? {
        if !toRelease.isEmpty {
            defer { toRelease = [] }
            return (.release(jobs: toRelease), nil)
        }
        if !toDecode.isEmpty {
            // A suspect decodes alone; the others together, up to the ceiling the engine taught.
            if let suspect = toDecode.first(where: { jobs[$0]?.suspect == true }) { return (.decode(jobs: [suspect]), nil) }
            return (.decode(jobs: Array(toDecode.prefix(max(1, decodeCeiling)))), nil)
        }
        let now = clock.now
        decisionMissedYield = configuration.objective == .tail && overload.isOverloaded ? configuration.missedYield ?? .zero : .zero
        let candidates = collectCandidates(now: now)
        guard let lead = candidates.min(by: { $0.key < $1.key }) else { return idleAction(now: now).map { ($0, nil) } }
        var choice = rescue(from: lead, among: candidates, now: now) ?? lead
        if choice.group == lead.group, let passer = slackPasser(ahead: lead, among: candidates, now: now) { choice = passer }
        if configuration.objective != .deadlines, !residency.contains(choice.group.expert), let started = startedWork(besides: choice.group, among: candidates) {
            choice = started
        }
        let start = roomForNewJobs > 0 ? frontier(ofGroup: groupNumbers[choice.group]) : []
        return plan(for: choice, frontier: start, now: now)
    }

    /// Slack reclaiming: resident work that may go before `lead`, the most urgent by deadline first, or nil. It may
    /// while the lead's slack to its target (after any switch the lead needs) covers it; short work
    /// (`shortPassFraction` of the lead's work, not under `.arrival`) also while the lead's slack to its deadline
    /// does. A non-resident lead lets any such work pass (that saves a switch now); a resident lead only work due
    /// before its own deadline. The other expert phase of the lead's own model is the exception: it goes first only
    /// when the two switches it saves cost more than the lead's wait, never on target slack alone.
    func slackPasser(ahead lead: Candidate, among candidates: [Candidate], now: C.Instant) -> Candidate? {
        guard let leadJob = jobs[lead.lead] else { return nil }
        let leadResident = residency.contains(lead.group.expert)
        let switchCost = switchTime(to: lead.group.expert)
        let targetSlack = leadJob.slack(at: now) - switchCost
        let deadlineSlack = leadJob.deadlineSlack(at: now) - switchCost
        let shortWork = configuration.objective == .arrival ? .zero : leadJob.work * configuration.shortPassFraction
        return candidates.filter { candidate in
            guard candidate.group != lead.group, residency.contains(candidate.group.expert),
                  !leadResident || candidate.deadline < offset(leadJob.deadline) else { return false }
            let time = estimatedTime(of: candidate)
            // Grouping an expert phase pays only when the two switches it saves cost more than the lead's wait: with
            // streamed loads a switch is nearly free, and grouping would make every job of the model finish as late
            // as the last one (I2V jobs taking turns by phase while each has slack to its target).
            if candidate.group.expert.model == lead.group.expert.model, candidate.group.expert != lead.group.expert {
                return !leadResident && time <= switchCost * 2 && time <= deadlineSlack
            }
            return time <= targetSlack || (time <= shortWork && time <= deadlineSlack)
        }.min { $0.deadline < $1.deadline }
    }

    /// Deadline rescue (`TurboSchedulerConfiguration.rescueHorizonFraction`): when the lead can no longer make its
    /// deadline, the candidate whose lead can still make its own but is about to stop being able to goes first; the
    /// one with the least slack. "About to" is a deadline slack, after any weight switch, of at most the fraction of
    /// its own work; under `.arrival` also at most the late lead's remaining work (running the lead first would make
    /// it miss). `.tail` leaves that second part out: there a late job yields already, by a bound
    /// (`tailYieldDeadlineFraction`), and passing it for every job its work would make late would take the bound
    /// away. nil when the lead can still make its deadline or nobody is due. Not under `.deadlines`, whose late jobs
    /// yield by `latePenalty` already.
    func rescue(from lead: Candidate, among candidates: [Candidate], now: C.Instant) -> Candidate? {
        guard configuration.objective != .deadlines, let fraction = configuration.rescueHorizonFraction,
              let leadJob = jobs[lead.lead], leadJob.deadlineSlack(at: now) < .zero else { return nil }
        let behindLateWork = configuration.objective == .arrival ? leadJob.work : .zero
        var best: (candidate: Candidate, slack: Duration)?
        for candidate in candidates where candidate.group != lead.group {
            guard let job = jobs[candidate.lead] else { continue }
            let slack = job.deadlineSlack(at: now) - switchTime(to: candidate.group.expert)
            guard slack >= .zero, slack <= max(behindLateWork, job.work * fraction) else { continue }
            if best.map({ slack < $0.slack }) ?? true { best = (candidate, slack) }
        }
        return best?.candidate
    }

    /// Candidates by step group: active jobs not in flight, and the heads of every queued bucket. The hot loop
    /// reads only plain fields of the cached bucket summaries and tallies plain numbers per group (`GroupTally`); a
    /// group's lead is resolved to its job, and the candidate built, once per group at the end.
    mutating func collectCandidates(now: C.Instant) -> [Candidate] {
        var tallies = [GroupTally?](repeating: nil, count: groupList.count)
        let floor = fairness.floor
        let lags = fairness.lags(floor: floor)
        decisionLags = lags
        func offer(_ number: Int, _ lead: GroupTally.Lead, _ key: Duration, deadline: Duration, queued: Bool) {
            guard var tally = tallies[number] else {
                tallies[number] = GroupTally(key: key, deadline: deadline, size: 1, hasQueued: queued, lead: lead)
                return
            }
            tally.size += 1
            if queued { tally.hasQueued = true }
            if deadline < tally.deadline { tally.deadline = deadline }
            if key < tally.key {
                tally.key = key
                tally.lead = lead
            }
            tallies[number] = tally
        }
        for (index, id) in active.enumerated() {
            guard let job = jobs[id], let number = job.groupNumber else { continue }
            offer(number, .active(index), offset(urgencyKey(job, now: now, floor: floor)), deadline: offset(job.deadline), queued: false)
        }
        // Queued jobs compete only while a new job may take engine state.
        if roomForNewJobs > 0 {
            queue.refresh(now: offset(now))
            for index in queue.summaries.indices {
                let summary = queue.summaries[index]
                let lag = lags[summary.key.tenant]
                if let (target, deadline) = summary.feasibleUrgency {
                    offer(summary.key.group, .queued(index, .feasible), target + lag, deadline: deadline, queued: true)
                }
                if let (urgency, deadline) = summary.lateUrgency {
                    offer(summary.key.group, .queued(index, .late), urgency + lag, deadline: deadline, queued: true)
                }
                if let (urgency, deadline) = summary.missedUrgency {
                    offer(summary.key.group, .queued(index, .missed), urgency + decisionMissedYield + lag, deadline: deadline, queued: true)
                }
            }
        }
        var result: [Candidate] = []
        for number in tallies.indices {
            guard let tally = tallies[number] else { continue }
            let lead: JobID
            switch tally.lead {
            case let .active(index): lead = active[index]
            case let .queued(index, kind): lead = queue.heads[index][kind]?.id ?? JobID("")
            }
            result.append(Candidate(group: groupList[number], key: tally.key, lead: lead, size: tally.size, hasQueued: tally.hasQueued, deadline: tally.deadline))
        }
        return result
    }

    /// Under the `tail` and `arrival` objectives, work already started goes before a weight switch for anything else:
    /// the most urgent group (other than `group`) that holds a job with engine state, if any.
    func startedWork(besides group: StepGroup, among candidates: [Candidate]) -> Candidate? {
        let startedGroups = Set(active.compactMap { jobs[$0]?.groupNumber })
        return candidates.filter { $0.group != group && groupNumbers[$0.group].map(startedGroups.contains) == true }.min { $0.key < $1.key }
    }

    /// The bucket heads of step group `number`: where `plan(for:)` starts merging.
    func frontier(ofGroup number: Int?) -> [FrontierEntry] {
        guard let number else { return [] }
        var entries: [FrontierEntry] = []
        for index in queue.summaries.indices where queue.summaries[index].key.group == number {
            if let best = bestHead(queue.heads[index], key: queue.summaries[index].key) { entries.append(best) }
        }
        return entries
    }

    /// A job's urgency: its target, moved back by its yield once late and — when `yieldingMissed` and the decision
    /// is under overload — by the missed yield once past its deadline, plus its tenant's fair-share lag.
    func urgencyKey(_ job: TrackedJob<C.Instant>, now: C.Instant, floor: Double, yieldingMissed: Bool = true) -> C.Instant {
        let lag = job.tenantNumber < decisionLags.count ? decisionLags[job.tenantNumber] : fairness.lags(floor: floor)[job.tenantNumber]
        var key = job.target.advanced(by: lag)
        if job.isLate(at: now) { key = key.advanced(by: job.yield) }
        if yieldingMissed, decisionMissedYield > .zero, job.isMissed(at: now) { key = key.advanced(by: decisionMissedYield) }
        return key
    }

    /// The most urgent of a bucket's heads (the late one moved back by its yield, the missed one by its missed
    /// yield as well), with its urgency.
    func bestHead(_ heads: QueueBuckets.Heads, key: QueueBuckets.Key) -> FrontierEntry? {
        let lag = decisionLags[key.tenant]
        var best: FrontierEntry?
        for kind in HeadKind.allCases {
            guard let item = heads[kind] else { continue }
            let urgency = item.urgency(kind, missedYield: decisionMissedYield) + lag
            if best.map({ urgency < $0.urgency }) ?? true { best = FrontierEntry(key: key, item: item, urgency: urgency) }
        }
        return best
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

    /// How many more jobs may take engine state now (`maxActiveJobs`).
    var roomForNewJobs: Int { max(0, configuration.maxActiveJobs - active.count - toDecode.count) }

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
    mutating func plan(for choice: Candidate, frontier start: [FrontierEntry], now: C.Instant) -> (PlanAction, StepGroup?)? {
        let group = choice.group
        let shape = group.shape
        let floor = fairness.floor
        let limit = max(1, min(configuration.maxBatchSize, batchCeiling[group] ?? .max))
        var options: [(id: JobID, key: Duration, bucket: QueueBuckets.Key?, item: QueueBuckets.Item?)] = []
        let number = groupNumbers[group]
        for id in active {
            guard let job = jobs[id], job.groupNumber == number else { continue }
            // A started job keeps its place in its own group's batch even when missed (its work is sunk and it holds
            // engine state); the missed yield decides only which group goes next.
            options.append((id, offset(urgencyKey(job, now: now, floor: floor, yieldingMissed: false)), nil, nil))
        }
        let perActivation = memory.activationBytes(shape: shape)
        let perState = memory.residentStateBytes(shape: shape)
        let roomForNew = roomForNewJobs
        // Free device bytes once the expert is resident (with the evictions even one more sample needs), before this
        // batch's new job state and activations.
        let minimum = perActivation + perState
        let free = freeBytes(ifResident: group.expert, extraHeld: minimum) + minimum
        // Merge the group's buckets head by head: only the most urgent queued jobs that could join are popped (at most
        // `limit`, the free engine slots, and what memory holds with each new job's state and activations).
        // A queued job less urgent than the `limit`-th job already holding state in this group cannot make the batch.
        let memoryRoom = Int(max(0, free) / max(1, minimum))
        let cutoff = options.count >= limit ? options.map(\.key).sorted()[limit - 1] : nil
        var frontier = start
        var popped = 0
        while popped < min(limit, roomForNew, memoryRoom), let index = frontier.indices.min(by: { frontier[$0].urgency < frontier[$1].urgency }) {
            if let cutoff, frontier[index].urgency >= cutoff { break }
            let entry = frontier.remove(at: index)
            queue.pop(entry.item, from: entry.key)
            popped += 1
            options.append((entry.item.id, entry.urgency, entry.key, entry.item))
            // Two statements on purpose: in `bestHead(queue.heads(…))` the call copies `self` before the argument
            // mutates `queue`, and that copy makes the queue's buckets copy themselves on write (O(buckets)).
            let heads = queue.heads(entry.key, now: offset(now))
            if let best = bestHead(heads, key: entry.key) { frontier.append(best) }
        }
        options.sort { $0.key < $1.key }
        // Step times by batch size, each asked of the cost model once per plan (the loop below needs up to five).
        var stepTimes = [Duration?](repeating: nil, count: limit + 2)
        func stepTime(_ size: Int) -> Duration {
            if let known = stepTimes[size] { return known }
            let time = cost.stepTime(shape: shape, expert: group.expert, batchSize: size)
            stepTimes[size] = time
            return time
        }
        var batch: [JobID] = []
        var fresh: [JobID] = []
        var memoryFull = popped == memoryRoom && memoryRoom < min(limit, roomForNew) && !frontier.isEmpty
        var leadSlack = Duration.zero
        var leadSteps = 1
        for option in options {
            guard batch.count < limit else { break }
            // A suspect runs alone: it neither joins a batch nor lets others join its own.
            if let first = batch.first, jobs[first]?.suspect == true || jobs[option.id]?.suspect == true { continue }
            let isNew = option.bucket != nil
            if isNew, fresh.count >= roomForNew { continue }
            let newState = Int64(fresh.count + (isNew ? 1 : 0)) * perState
            guard free - newState >= Int64(batch.count + 1) * perActivation else {
                memoryFull = true
                break
            }
            // Batches that pay: the next sample must cost at most `batchPayFraction` of a solo step.
            if !batch.isEmpty, let fraction = configuration.batchPayFraction {
                if stepTime(batch.count + 1) - stepTime(batch.count) > stepTime(1) * fraction { break }
            }
            if let leadID = batch.first, let lead = jobs[leadID] {
                if batch.count == 1 {
                    leadSlack = lead.slack(at: now) - switchTime(to: group.expert)
                    leadSteps = lead.experts[lead.completed...].prefix { $0 == group.expert }.count
                }
                if leadSlack >= .zero {
                    let delay = (stepTime(batch.count + 1) - stepTime(batch.count)) * leadSteps
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
                if let bucket = option.bucket, let item = option.item, !keep.contains(option.id) { queue.putBack(item, key: bucket) }
            }
        }
        guard let leadID = batch.first else {
            putBackAll(except: [])
            return makeRoom(for: choice.lead, group: group)
        }
        // Jobs that could join a bigger batch: the group's jobs holding state, and as many waiting ones as may be admitted.
        let ready = options.count - popped + min(roomForNew, number.map(queue.waitingCount(group:)) ?? 0)
        if memoryFull, batch.count < limit,
           let idle = idleModelWorthEvicting(for: group, batchSize: batch.count, ready: ready, limit: limit, lead: leadID, stepTime: stepTime) {
            putBackAll(except: [])
            return (.unload(idle), group)
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
            for id in fresh {
                leaveQueue(id)
                hold(id, shape: shape)
            }
            return (.admit(jobs: fresh, model: shape.model), group)
        }
        let steps = batch.compactMap { id in jobs[id].map { JobStep(job: id, index: $0.completed, total: $0.experts.count) } }
        return (.step(expert: group.expert, steps: steps), group)
    }

    /// A resident expert of a model no job holds or waits for (the queue's waiting groups, not only the candidates of
    /// this decision: with every engine slot taken those omit the queue), whose eviction lets this batch grow by enough to
    /// pay for loading it again: the samples the freed memory adds (up to `limit` and the jobs ready) save more engine
    /// time over the lead's remaining steps of this expert than unloading it and loading it again cost. The least
    /// recently used such expert; nil when none is idle or the gain is smaller. Batching that pays (the 1.3B at
    /// 480p: about half a solo step per added sample) would otherwise stay capped by a warm model nobody is using.
    func idleModelWorthEvicting(
        for group: StepGroup, batchSize: Int, ready: Int, limit: Int, lead: JobID, stepTime: (Int) -> Duration
    ) -> ModelKey? {
        var busyModels = Set(queue.waitingGroups.map { groupList[$0].expert.model })
        busyModels.insert(group.expert.model)
        for id in active { if let model = jobs[id]?.spec.model { busyModels.insert(model) } }
        guard let victim = residency.leastRecentUnpinned(where: { !busyModels.contains($0.model) }) else { return nil }
        let perSample = memory.activationBytes(shape: group.shape) + memory.residentStateBytes(shape: group.shape)
        let added = min(limit, ready, batchSize + Int(memory.weightBytes(victim) / max(1, perSample))) - batchSize
        guard added > 0, let leadJob = jobs[lead] else { return nil }
        let steps = leadJob.experts[leadJob.completed...].prefix { $0 == group.expert }.count
        let saved = (stepTime(1) * added - (stepTime(batchSize + added) - stepTime(batchSize))) * max(1, steps)
        return saved > cost.unloadTime(victim) + cost.loadTime(victim) ? victim : nil
    }

    /// The lead does not fit beside the state other jobs hold: preempt the least urgent job of another group (its
    /// state is released and it queues again); if it would not fit even on an empty device, it fails.
    mutating func makeRoom(for lead: JobID, group: StepGroup) -> (PlanAction, StepGroup?) {
        let shape = group.shape
        let alone = memory.weightBytes(group.expert) + memory.activationBytes(shape: shape) + memory.residentStateBytes(shape: shape)
        let pinnedBytes = residency.pinned.subtracting([group.expert]).reduce(Int64(0)) { $0 + memory.weightBytes($1) }
        guard alone + pinnedBytes <= residency.capacity + memoryCorrection else { return unfittable(lead, group: group) }
        let now = clock.now, floor = fairness.floor
        let victim = active.filter { $0 != lead && jobs[$0]?.group != group }
            .max { (jobs[$0].map { urgencyKey($0, now: now, floor: floor) } ?? now) < (jobs[$1].map { urgencyKey($0, now: now, floor: floor) } ?? now) }
        guard let victim else { return unfittable(lead, group: group) }
        active.removeAll { $0 == victim }
        preempting.insert(victim)
        return (.release(jobs: [victim]), nil)
    }

    /// The lead job cannot fit on the device even alone: release it; it fails when the release is done.
    mutating func unfittable(_ id: JobID, group: StepGroup) -> (PlanAction, StepGroup?) {
        failing[id] = Event.Reason(code: .engineOutOfMemory, message: "the job (\(group.shape)) does not fit in device memory")
        leaveQueue(id)
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

typealias HeadKind = QueueBuckets.HeadKind

/// The best candidate of one step group at this boundary.
struct Candidate {
    let group: StepGroup
    /// Urgency: target (+ late penalty, + fair-share lag), as an offset from the epoch; smaller is more urgent.
    var key: Duration
    var lead: JobID
    /// Jobs of the group ready now (active ones + queued bucket heads seen).
    var size: Int
    var hasQueued: Bool
    /// Earliest deadline among the group's jobs seen (offset from the epoch).
    var deadline: Duration
}

/// What `collectCandidates` gathers for one step group while it reads every active job and bucket head: plain
/// values only (no job identifiers or group names, so no reference counting in the hot loop).
struct GroupTally {
    /// Where the group's most urgent job is: `active[index]`, or the head of `kind` of bucket `index`.
    enum Lead {
        case active(Int)
        case queued(Int, QueueBuckets.HeadKind)
    }

    var key: Duration
    var deadline: Duration
    var size: Int
    var hasQueued: Bool
    var lead: Lead
}

/// One queue bucket's most urgent waiting job.
struct FrontierEntry {
    let key: QueueBuckets.Key
    let item: QueueBuckets.Item
    let urgency: Duration
}
