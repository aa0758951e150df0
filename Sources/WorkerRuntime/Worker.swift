import Artifacts
import Foundation
import EngineBridge
import JobStore
import Logging
import SchedulingCore
import TurboServeDomain

/// The imperative shell around one engine: claims jobs from the store, feeds them to the scheduling policy,
/// performs the policy's plans on the engine, hands decoded frames to the output pipeline, and records every
/// state change in the store.
///
/// Guarantees (the ownership rules are `JobStore`'s):
/// - The policy holds the one copy of each claimed job's spec; the shell keeps none. Every store write is fenced
///   on this worker holding the job; a refused write, a heartbeat that reports a job lost, a cancel, or a retry
///   the store ends (attempts used up) drops the job from the policy before the next plan.
/// - The engine runs one plan at a time, back to back while the policy has work; store writes and video encoding
///   never sit between two plans (they run on their own tasks).
/// - A heartbeat renews the lease of everything this worker knows it holds (the policy's jobs and those with an
///   event still to write) every `heartbeatInterval`, so a job held longer than the lease is never rescued from
///   under a live worker; a job the store gave it without its knowing (a claim whose answer was lost) is not
///   renewed, and its lease runs out.
/// - On start, jobs this worker held when its process died go back to the shared queue (one attempt more for a
///   started one), so nothing is lost; fencing means nothing is delivered twice.
/// - Fencing is by worker id, so each process signs its heartbeats with an incarnation of its own; one that finds
///   another process's beat between two of its own claims nothing new until none has come for two leases
///   (`identityConflict`).
/// - `stop()` drains: no more claims, jobs that have not started go back to the shared queue at once, started ones
///   run to the end while `drainGrace` lasts, then what is left is released too; `run()` returns once every
///   event is written.
///
/// Thread-safety: an actor; `wake()` and `cancel(_:)` may be called from any task (the HTTP handlers do).
public actor Worker<Policy: SchedulingPolicy> where Policy.C == ContinuousClock {
    public struct Configuration: Sendable {
        /// Stable per node, so a restart recovers the jobs of the previous process.
        public var workerID: String
        /// Where the job's input image is read from and its MP4 and thumbnail are put.
        public var artifacts: any ArtifactStore
        /// Local scratch space for artifacts staged to or from a backend without local files (unused by the
        /// directory backend, whose files the engine and encoder use in place).
        public var scratchDirectory: URL
        /// Jobs claimed from the store at most at once (the rest wait in the store for any worker).
        public var maxClaimed = 256
        /// Engine attempts per job; the store counts them.
        public var maxAttempts = 3
        /// How long a claim or heartbeat holds the worker's jobs (store clock).
        public var leaseDuration: Duration = .seconds(60)
        public var heartbeatInterval: Duration = .seconds(10)
        /// How long `stop()` lets started jobs run before releasing them.
        public var drainGrace: Duration = .seconds(60)
        /// Model affinity's bound: a claim prefers queued jobs for the models this engine holds, but a job queued
        /// this long is taken by any worker (`ClaimPreferences.affinityWait`; zero: no affinity).
        public var affinityWait: Duration = .seconds(10)
        /// Fair-share weights by tenant for claims across the fleet (absent tenants weigh 1).
        public var tenantWeights: [TenantID: Double] = [:]

        public init(workerID: String, artifacts: any ArtifactStore, scratchDirectory: URL = FileManager.default.temporaryDirectory) {
            self.workerID = workerID
            self.artifacts = artifacts
            self.scratchDirectory = scratchDirectory
        }
    }

    private var policy: Policy
    private let store: any JobStore
    private let engine: any PlanExecuting
    private let encoder: any VideoEncoding
    private let configuration: Configuration
    private let recorder: EventRecorder
    private let metrics: ServiceMetrics?
    private let startedAt = ContinuousClock.now
    /// Wall time during which this worker held at least one unfinished job, and the last time it was accounted.
    private var pendingWall: Duration = .zero
    private var lastTick = ContinuousClock.now
    private let signal: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>
    private let lost = LostJobs()
    /// Whether the last claim failed because the store could not answer (logged once per outage).
    private var claimsFailing = false
    private let logger: Logger?
    private var pendingOutputs: [JobID: Task<Void, Never>] = [:]
    private var stopping = false
    private var observers: [@Sendable (WorkerStatus) -> Void] = []
    private(set) public var status = WorkerStatus()
    /// Recent plan intervals and the experts on the device, for the operations view (`activity`).
    private var timeline = PlanTimeline(capacity: 240)
    private var resident: Set<ModelKey> = []
    /// Jobs whose `decoding` was recorded when their decode plan started; the core's own `decoding` event for them
    /// (emitted when the plan ends) is then not recorded again.
    private var decodingRecorded: Set<JobID> = []
    /// An operator asked for an engine restart (`restartEngine`): the engine loss that follows costs no attempt.
    private var restartRequested = false
    /// This process's id in its heartbeats (`EngineActivity.incarnation`), drawn at start.
    private let incarnation = UUID().uuidString
    /// Whether a heartbeat of this process was stored (the one before it may be a previous process's: no conflict).
    private var hasBeaten = false
    /// When a heartbeat last found another process's beat between two of this one's, and that process's incarnation.
    private var identityConflictSeen: (at: ContinuousClock.Instant, other: String)?

    public init(policy: Policy, store: any JobStore, engine: any PlanExecuting, encoder: any VideoEncoding, configuration: Configuration, metrics: ServiceMetrics? = nil, logger: Logger? = nil, onStoreError: @escaping @Sendable (JobID, any Error) -> Void = { _, _ in }, onRecorded: @escaping @Sendable (JobRecord) -> Void = { _ in }) {
        self.metrics = metrics
        self.logger = logger
        self.policy = policy
        self.store = store
        self.engine = engine
        self.encoder = encoder
        self.configuration = configuration
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (self.signals, self.signal) = (signals, signal)
        let lost = lost
        recorder = EventRecorder(store: store, worker: configuration.workerID, maxAttempts: configuration.maxAttempts, onError: onStoreError,
            onRecorded: { record in
                metrics?.recorded(record)
                onRecorded(record)
            },
            onLost: { id in
                lost.add(id)
                signal.yield()
            })
    }

    /// Something changed outside (a job was created): look again.
    public nonisolated func wake() { signal.yield() }

    /// Called after the API cancelled a job in the store: drop it from the policy (frees its engine state). The
    /// heartbeat finds the same for cancels made by another process.
    public nonisolated func cancel(_ id: JobID) {
        lost.add(id)
        signal.yield()
    }

    public func stop() {
        stopping = true
        signal.yield()
    }

    /// Observes progress (every plan): for metrics and the operations view.
    /// Fraction of this worker's life the engine spent executing plans.
    public var busyRatio: Double {
        let alive = (ContinuousClock.now - startedAt).seconds
        return alive > 0 ? min(1, status.busy.seconds / alive) : 0
    }

    /// Fraction of the time work was pending (this worker held unfinished jobs) that the engine was executing
    /// plans: 1.0 means the engine never waited while there was something to do.
    public var busyRatioWhilePending: Double {
        let pending = (pendingWall + (policy.heldJobs.isEmpty ? .zero : ContinuousClock.now - lastTick)).seconds
        return pending > 0 ? min(1, status.busy.seconds / pending) : 0
    }

    /// Adds the time since the last tick to `pendingWall` if jobs were held during it.
    private func tick() {
        let now = ContinuousClock.now
        if !policy.heldJobs.isEmpty || !pendingOutputs.isEmpty { pendingWall += now - lastTick }
        lastTick = now
    }

    /// A snapshot for the operations view: the running plan and its jobs, resident experts, recent plans.
    public var activity: EngineActivity {
        let learned = policy.learnedSteps
        let stages = policy.learnedStages
        return EngineActivity(
            worker: configuration.workerID, runningStage: status.currentPlan.map(ServiceMetrics.stage(of:)),
            runningJobs: status.currentPlan.map { Set($0.jobs).map(\.rawValue).sorted() } ?? [],
            heldJobs: policy.heldJobs.map(\.rawValue).sorted(), residentModels: resident.map(\.description).sorted(),
            timeline: timeline.intervals, busyRatio: busyRatio, plansExecuted: status.plansStarted,
            learnedSteps: learned.isEmpty ? nil : learned, learnedStages: stages.isEmpty ? nil : stages,
            deadlineHealth: policy.deadlineHealth, incarnation: incarnation)
    }

    private func noteActivity(_ action: PlanAction, startedAt: Date, duration: Duration, outcome: PlanOutcome) {
        let ok = if case .completed = outcome { true } else { false }
        timeline.append(.init(stage: ServiceMetrics.stage(of: action), startedAt: startedAt.timeIntervalSince1970,
                              seconds: duration.seconds, jobs: Set(action.jobs).count, ok: ok))
        switch (action, ok) {
        case let (.load(key), true): resident.insert(key)
        case let (.unload(key), true): resident.remove(key)
        default: break
        }
        if case .failed(.engineCrashed, _, _, _) = outcome { resident.removeAll() }
    }

    public func observe(_ observer: @escaping @Sendable (WorkerStatus) -> Void) { observers.append(observer) }

    public func run() async throws {
        let recording = Task { await recorder.run() }
        metrics?.workerStarted(worker: configuration.workerID)
        reportDeadlineHealth()
        let recovered = try await store.releaseHeld(by: configuration.workerID, maxAttempts: configuration.maxAttempts)
        if !recovered.isEmpty { logger?.info("released the jobs a previous run of this worker held", metadata: ["jobs": "\(recovered.count)"]) }
        await restoreLearnedSteps()
        let heartbeats = Task { await beatUntilStopped() }
        let telemetry = Task { [engine, metrics, configuration] in
            await Self.sampleTelemetry(of: engine, into: metrics, worker: configuration.workerID, every: configuration.heartbeatInterval)
        }
        var signals = self.signals.makeAsyncIterator()
        var drainDeadline: ContinuousClock.Instant?
        while true {
            tick()
            dropLostJobs()
            if stopping {
                if drainDeadline == nil {
                    drainDeadline = ContinuousClock.now.advanced(by: configuration.drainGrace)
                    await releaseUnstarted()
                }
                if let drainDeadline, ContinuousClock.now >= drainDeadline { await releaseUnstarted(all: true) }
                if policy.heldJobs.isEmpty { break }
            } else {
                await claimNewJobs()
            }
            if let plan = policy.nextPlan() {
                try await perform(plan)
                continue
            }
            await waitForWork(&signals, until: drainDeadline)
        }
        heartbeats.cancel()
        telemetry.cancel()
        for task in pendingOutputs.values { await task.value }
        recorder.finish()
        await recording.value
    }

    /// Starts the policy from the step and stage times this worker id reported in its last heartbeat (a restart
    /// keeps what it measured). A store that cannot answer only means starting from the prior.
    private func restoreLearnedSteps() async {
        guard let beats = try? await store.workers(),
              let activity = beats.first(where: { $0.worker == configuration.workerID })?.activity else { return }
        if let steps = activity.learnedSteps, !steps.isEmpty {
            policy.restoreLearnedSteps(steps)
            logger?.info("planning with the step times measured before this restart", metadata: ["groups": "\(steps.count)"])
        }
        if let stages = activity.learnedStages, !stages.isEmpty {
            policy.restoreLearnedStages(stages)
            logger?.info("planning deadlines with the admit and decode times measured before this restart", metadata: ["stages": "\(stages.count)"])
        }
    }

    // MARK: - Steps of the loop

    /// Claims what fits; a store that cannot answer (locked, unreachable) is logged and tried again at the next
    /// turn of the loop, never fatal.
    private func claimNewJobs() async {
        let room = configuration.maxClaimed - policy.heldJobs.count
        guard room > 0, identityConflict == nil else { return }
        let claimed: [JobRecord]
        do {
            claimed = try await store.claim(worker: configuration.workerID, limit: room, lease: configuration.leaseDuration, preferences: claimPreferences)
            claimsFailing = false
        } catch {
            if !claimsFailing { logger?.warning("the job store is unavailable; claims wait for it", metadata: ["error": "\(error)"]) }
            claimsFailing = true
            retryClaimSoon()
            return
        }
        for record in claimed {
            let job = SchedulerJob(id: record.id, tenant: record.tenant, spec: record.spec, arrival: ContinuousClock.now, attempts: record.attempts)
            do {
                for event in try policy.submit(job) { recorder.record(event) }
            } catch {
                // The core refused it (its queue is full): give the job back to the shared queue (no attempt used).
                _ = try? await store.release(record.id, worker: configuration.workerID, reason: "the worker's core did not take the job: \(error.message)")
            }
        }
    }

    /// What this worker's claims prefer: the models its engine holds now, the affinity bound and the tenants' weights;
    /// and what they must not hand it: every job it still runs, encodes or has a write in flight for. A hold that ran
    /// out while this worker was paused or cut off leaves its run going until it hears so; the rescued job then goes
    /// to another claim, never back to this stale run, whose late writes are thus all refused as not held.
    var claimPreferences: ClaimPreferences {
        ClaimPreferences(residentModels: Set(resident.map(\.model)), affinityWait: configuration.affinityWait, tenantWeights: configuration.tenantWeights,
                         excluded: Set(policy.heldJobs).union(recorder.unwrittenJobs).union(pendingOutputs.keys))
    }

    /// Wakes the loop in a moment, so a failed claim is tried again without a busy loop.
    private func retryClaimSoon() {
        Task { [signal] in
            try? await Task.sleep(for: .milliseconds(500))
            signal.yield()
        }
    }

    /// Drops from the policy every job the worker learned it lost (frees engine state by a later plan).
    private func dropLostJobs() {
        for id in lost.take() {
            policy.forget(id)
            pendingOutputs[id]?.cancel()
        }
    }

    /// Draining: jobs that hold no engine work yet (or, with `all`, every job but those muxing) go back to the
    /// shared queue for any worker.
    private func releaseUnstarted(all: Bool = false) async {
        let states = await store.records(policy.heldJobs)
        for record in states where record.workerID == configuration.workerID && (record.phase == .queued || (all && record.phase != .muxing)) {
            policy.forget(record.id)
            if let released = try? await store.release(record.id, worker: configuration.workerID, reason: all ? "the worker stopped before the job finished" : "the worker is stopping") {
                metrics?.recorded(released)
            }
        }
    }

    /// Renews the leases of everything held every `heartbeatInterval` until the task is cancelled.
    private func beatUntilStopped() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            guard !Task.isCancelled else { return }
            await heartbeat()
        }
    }

    /// Reads the engine's GPU telemetry into the metrics every `interval` until cancelled. Off the actor and apart
    /// from the heartbeat: a reading waits for the plan in flight, which must never delay a lease renewal.
    private nonisolated static func sampleTelemetry(of engine: any PlanExecuting, into metrics: ServiceMetrics?, worker: String, every interval: Duration) async {
        guard let metrics else { return }
        while !Task.isCancelled {
            if let telemetry = await engine.telemetry() { metrics.gpuTelemetry(telemetry, worker: worker) }
            try? await Task.sleep(for: interval)
        }
    }

    /// One heartbeat: renew the lease of every job this worker knows it holds (the policy's, and those with an event
    /// still to write), publish this worker's activity, drop from the policy what the store says it lost (a job
    /// only waiting for its last write is the recorder's to settle).
    public func heartbeat() async {
        do {
            let scheduled = Set(policy.heldJobs)
            let beat = try await store.heartbeat(worker: configuration.workerID, holding: scheduled.union(recorder.unwrittenJobs),
                                                 lease: configuration.leaseDuration, activity: activity)
            noteIncarnation(before: beat.previousIncarnation)
            let dropped = beat.lost.keys.filter(scheduled.contains)
            for id in dropped { lost.add(id) }
            if !dropped.isEmpty {
                logger?.info("heartbeat: jobs no longer held by this worker", metadata: ["jobs": "\(dropped.map(\.rawValue).sorted())"])
                signal.yield()
            }
            metrics?.heartbeat(worker: configuration.workerID)
        } catch {
            logger?.warning("heartbeat failed; leases were not renewed", metadata: ["error": "\(error)"])
        }
    }

    /// Why this worker claims nothing now although it could: another process sends heartbeats under its worker id
    /// (a misconfiguration: the store fences writes by worker id, so the two would pass each other's checks). Set by
    /// a heartbeat that finds another incarnation's beat before it; cleared by the first heartbeat after two leases
    /// without one. Its `/readyz` and `turboserve_worker_id_conflict` say the same, changed at the same beat.
    public private(set) var identityConflict: String?

    /// After a stored heartbeat: the beat it replaced should be this process's own once it has beaten before; another
    /// incarnation there means another live process beats under the same id. Logs and exports each change.
    private func noteIncarnation(before previous: String?) {
        let now = ContinuousClock.now
        if hasBeaten, let previous, previous != incarnation { identityConflictSeen = (now, previous) }
        hasBeaten = true
        let window = configuration.leaseDuration * 2
        let conflict = identityConflictSeen.flatMap { seen in
            now - seen.at < window
                ? "another process is running as worker id '\(configuration.workerID)' (incarnation \(seen.other) sends heartbeats between this one's): "
                    + "give each worker process its own --worker-id; this one claims no new jobs until that stops for \(Int(window.seconds)) s"
                : nil
        }
        let changed = (conflict != nil) != (identityConflict != nil)
        identityConflict = conflict
        guard changed else { return }
        if let conflict {
            logger?.error("worker id in use by another process", metadata: ["problem": "\(conflict)"])
        } else {
            logger?.notice("no other process has sent heartbeats under this worker id for two leases; claiming again")
        }
        metrics?.workerIDConflict(conflict != nil, worker: configuration.workerID)
    }

    private func perform(_ plan: Plan) async throws {
        var jobs: [JobID: ValidatedJob] = [:]
        for id in plan.action.jobs { jobs[id] = policy.spec(of: id) }
        status.plansStarted += 1
        status.currentPlan = plan.action
        if case let .decode(ids) = plan.action { recordDecodingStarted(ids, jobs: jobs) }
        var staging = InputStaging.Staged(jobs: jobs, files: [])
        if case .admit = plan.action {
            staging = await InputStaging(artifacts: configuration.artifacts, scratch: configuration.scratchDirectory, logger: logger).stage(jobs)
        }
        let (started, startedAt) = (ContinuousClock.now, Date())
        let executed = await engine.execute(plan.action, jobs: staging.jobs)
        staging.removeFiles()  // the engine reads its input image while it admits
        let duration = ContinuousClock.now - started
        status.busy += duration
        noteActivity(plan.action, startedAt: startedAt, duration: duration, outcome: executed.outcome)
        metrics?.planExecuted(plan.action, duration: duration, outcome: executed.outcome, worker: configuration.workerID)
        status.currentPlan = nil
        let events: [JobEvent<ContinuousClock.Instant>]
        if case let .failed(code, message, _, named) = executed.outcome {
            logFailure(plan.action, code: code, message: message, named: named, jobs: jobs)
        }
        if case let .failed(.engineCrashed, message, _, _) = executed.outcome {
            // The engine died or hung: every job holding engine state goes back to the queue (the store bounds the
            // attempts of the plan's jobs; bystanders lose none).
            events = engineLost(reason: message)
        } else if restartRequested {
            events = engineLost(reason: "")  // the plan ended before the operator's kill landed: its results are gone too
        } else {
            events = policy.planFinished(plan.id, outcome: executed.outcome)
        }
        for event in events {
            if event.to == .queued { metrics?.jobRetried(reason: event.reason?.code.rawValue ?? "unknown") }
            handle(event, frames: executed.frames[event.job])
        }
        for observer in observers { observer(status) }
    }

    /// One log line per failed plan; memory refusals say `OOM` and the batch shape, so they are easy to grep.
    private func logFailure(_ action: PlanAction, code: TurboServeError.Code, message: String, named: [JobID]?, jobs: [JobID: ValidatedJob]) {
        var metadata: Logger.Metadata = [
            "stage": "\(ServiceMetrics.stage(of: action))", "code": "\(code.rawValue)", "batch": "\(Set(action.jobs).count)",
            "jobs": "\(action.jobs.map(\.rawValue))", "named": "\(named.map { $0.map(\.rawValue) } ?? [])", "error": "\(message)",
        ]
        if let spec = action.jobs.first.flatMap({ jobs[$0] }) {
            metadata["shape"] = "\(spec.model) \(spec.width)x\(spec.height)x\(spec.frames)"
        }
        if code == .engineOutOfMemory {
            metrics?.outOfMemory(worker: configuration.workerID)
            logger?.warning("OOM: the engine ran out of device memory", metadata: metadata)
        } else {
            logger?.warning("engine plan failed", metadata: metadata)
        }
    }

    /// Every job holding engine state goes back to the queue. After an operator's restart the reason is
    /// `engine_restarted`, which costs no attempt (`TurboServeError.Code.countsAsAttempt`).
    private func engineLost(reason: String) -> [JobEvent<ContinuousClock.Instant>] {
        let asked = restartRequested
        restartRequested = false
        status.engineRestarts += 1
        metrics?.engineRestarted(worker: configuration.workerID)
        let events = policy.engineLost(reason: asked ? "an operator restarted the engine" : reason)
        guard asked else { return events }
        let why = JobEvent<ContinuousClock.Instant>.Reason(code: .engineRestarted, message: "an operator restarted the engine; the job runs again")
        return events.map { $0.to == .queued ? JobEvent(job: $0.job, from: $0.from, to: .queued, at: $0.at, reason: why) : $0 }
    }

    /// Operator action: kills the engine process and requeues every job it held, at no attempt's cost; the next
    /// plan starts a fresh engine. A plan in flight fails when the process dies and `perform` requeues its jobs;
    /// an idle engine's jobs are requeued here. Runs without suspending, so no plan starts half-way through.
    public func restartEngine() {
        restartRequested = true
        if status.currentPlan == nil {
            for event in engineLost(reason: "") { handle(event, frames: nil) }
        }
        engine.restart()
        signal.yield()
    }

    /// `decoding` is recorded when decoding starts, so progress shows it while the engine decodes.
    private func recordDecodingStarted(_ ids: [JobID], jobs: [JobID: ValidatedJob]) {
        for id in ids where !decodingRecorded.contains(id) {
            guard let steps = jobs[id]?.steps else { continue }
            decodingRecorded.insert(id)
            recorder.record(JobEvent(job: id, from: .denoising(completed: steps, total: steps), to: .decoding, at: ContinuousClock.now))
        }
    }

    private func handle(_ event: JobEvent<ContinuousClock.Instant>, frames: FramesFile?) {
        if decodingRecorded.remove(event.job) != nil, event.to == .decoding { return }
        if event.to == .muxing, let frames { startOutput(event.job, frames: frames) }
        guard event.to != .succeeded else { return } // recorded with its artifacts by the output task
        recorder.record(event)
    }

    /// Encodes off the engine path into the artifact store (in place for the directory backend; through scratch
    /// files otherwise), then reports back to the policy. The record names the artifacts by their references.
    private func startOutput(_ job: JobID, frames: FramesFile) {
        let (artifacts, scratch) = (configuration.artifacts, configuration.scratchDirectory)
        let (encoder, metrics) = (self.encoder, self.metrics)
        pendingOutputs[job] = Task {
            let started = ContinuousClock.now
            defer { metrics?.outputEncoded(duration: ContinuousClock.now - started) }
            var failure: TurboServeError?
            var recorded: EventRecorder.Artifacts?
            if let videoKey = ArtifactKey.video(of: job.rawValue), let thumbnailKey = ArtifactKey.thumbnail(of: job.rawValue) {
                let (video, thumbnail) = (artifacts.destination(for: videoKey, scratch: scratch), artifacts.destination(for: thumbnailKey, scratch: scratch))
                for folder in Set([video.url.deletingLastPathComponent(), thumbnail.url.deletingLastPathComponent()]) {
                    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                }
                do {
                    try await encoder.encode(frames, video: video.url.path, thumbnail: thumbnail.url.path)
                    try await video.commit(to: artifacts)
                    try await thumbnail.commit(to: artifacts)
                } catch let error as TurboServeError {
                    failure = error
                } catch let error as ArtifactStoreError {
                    failure = TurboServeError(.encodingFailed, "storing the encoded video failed (\(error.code.rawValue))")
                } catch {
                    failure = TurboServeError(.encodingFailed, "video encoding failed: \(error)")
                }
                video.discard()
                thumbnail.discard()
                recorded = .init(video: artifacts.reference(for: videoKey), thumbnail: artifacts.reference(for: thumbnailKey))
            } else {
                failure = TurboServeError(.encodingFailed, "job id '\(job)' cannot name an artifact")
            }
            try? FileManager.default.removeItem(atPath: frames.path)
            self.outputFinished(job, error: failure, artifacts: recorded)
        }
    }

    private func outputFinished(_ job: JobID, error: TurboServeError?, artifacts: EventRecorder.Artifacts?) {
        pendingOutputs[job] = nil
        for event in policy.outputFinished(job, error: error) {
            recorder.record(event, artifacts: event.to == .succeeded ? artifacts : nil)
            if event.to == .succeeded { status.jobsSucceeded += 1 }
        }
        reportDeadlineHealth()
        signal.yield()
    }

    /// Exports the policy's deadline outcomes and overload judgement (nothing for a policy that does not judge it).
    private func reportDeadlineHealth() {
        if let health = policy.deadlineHealth { metrics?.deadlineHealth(health, worker: configuration.workerID) }
    }

    /// Sleeps until a signal arrives or the policy's next timer (or `until`) is due.
    private func waitForWork(_ signals: inout AsyncStream<Void>.Iterator, until: ContinuousClock.Instant?) async {
        status.idleWaits += 1
        let due = [policy.nextWakeup(), until].compactMap { $0 }.min()
        let timer: Task<Void, Never>? = due.map { due in
            Task { [signal] in
                try? await Task.sleep(until: due, clock: .continuous)
                signal.yield()
            }
        }
        _ = await signals.next(isolation: self)
        tick()
        timer?.cancel()
    }
}

/// Counters the worker keeps for metrics and the operations view.
public struct WorkerStatus: Sendable {
    public var plansStarted = 0
    public var jobsSucceeded = 0
    public var idleWaits = 0
    public var engineRestarts = 0
    /// Time the engine spent executing plans.
    public var busy: Duration = .zero
    public var currentPlan: PlanAction?
    public init() {}
}

extension JobStore {
    /// The current records of `ids` (unknown ones left out; a store error leaves that job out too).
    func records(_ ids: [JobID]) async -> [JobRecord] {
        var result: [JobRecord] = []
        for id in ids { if let record = try? await get(id) { result.append(record) } }
        return result
    }
}
