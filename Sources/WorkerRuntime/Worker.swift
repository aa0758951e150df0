import Foundation
import JobStore
import SchedulingCore
import TurboServeDomain

/// The imperative shell around one engine: claims jobs from the store, feeds them to the scheduling policy,
/// performs the policy's plans on the engine, hands decoded frames to the output pipeline, and records every
/// state change in the store.
///
/// Guarantees:
/// - The engine runs one plan at a time, back to back while the policy has work; store writes and video encoding
///   never sit between two plans (they run on their own tasks).
/// - On start, jobs this worker held when its process died are requeued (bounded attempts), so nothing is lost;
///   ownership fencing in the store means nothing is delivered twice.
/// - `stop()` lets the current plan finish, records its events, then returns from `run()`; jobs still held are
///   requeued for the next start.
///
/// Thread-safety: an actor; `wake()` and `cancel(_:)` may be called from any task (the HTTP handlers do).
public actor Worker<Policy: SchedulingPolicy> where Policy.C == ContinuousClock {
    public struct Configuration: Sendable {
        /// Stable per node, so a restart recovers the jobs of the previous process.
        public var workerID: String
        public var outputDirectory: URL
        /// Jobs claimed from the store at most at once (the rest wait in the store).
        public var maxClaimed = 256
        public var maxAttempts = 3
        public var leaseDuration: Duration = .seconds(300)

        public init(workerID: String, outputDirectory: URL) {
            self.workerID = workerID
            self.outputDirectory = outputDirectory
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
    private var specs: [JobID: ValidatedJob] = [:]
    private var pendingOutputs: [JobID: Task<Void, Never>] = [:]
    private var stopping = false
    private var observers: [@Sendable (WorkerStatus) -> Void] = []
    private(set) public var status = WorkerStatus()
    /// Recent plan intervals and the experts on the device, for the operations view (`activity`).
    private var timeline = PlanTimeline(capacity: 240)
    private var resident: Set<ModelKey> = []

    public init(policy: Policy, store: any JobStore, engine: any PlanExecuting, encoder: any VideoEncoding, configuration: Configuration, metrics: ServiceMetrics? = nil, onStoreError: @escaping @Sendable (JobID, any Error) -> Void = { _, _ in }, onRecorded: @escaping @Sendable (JobRecord) -> Void = { _ in }) {
        self.metrics = metrics
        self.policy = policy
        self.store = store
        self.engine = engine
        self.encoder = encoder
        self.configuration = configuration
        recorder = EventRecorder(store: store, worker: configuration.workerID, maxAttempts: configuration.maxAttempts, onError: onStoreError,
            onRecorded: { record in
                metrics?.recorded(record)
                onRecorded(record)
            })
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Something changed outside (a job was created): look again.
    public nonisolated func wake() { signal.yield() }

    /// Called after the API cancelled a job in the store: drop it from the policy (frees its engine state).
    public func cancel(_ id: JobID) {
        for event in policy.cancel(id) where event.to != .cancelled { recorder.record(event) }
        pendingOutputs[id]?.cancel()
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
        let pending = (pendingWall + (specs.isEmpty ? .zero : ContinuousClock.now - lastTick)).seconds
        return pending > 0 ? min(1, status.busy.seconds / pending) : 0
    }

    /// Adds the time since the last tick to `pendingWall` if jobs were held during it.
    private func tick() {
        let now = ContinuousClock.now
        if !specs.isEmpty || !pendingOutputs.isEmpty { pendingWall += now - lastTick }
        lastTick = now
    }

    /// A snapshot for the operations view: the running plan and its jobs, resident experts, recent plans.
    public var activity: EngineActivity {
        EngineActivity(
            worker: configuration.workerID, runningStage: status.currentPlan.map(ServiceMetrics.stage(of:)),
            runningJobs: status.currentPlan.map { Set($0.jobs).map(\.rawValue).sorted() } ?? [],
            heldJobs: specs.keys.map(\.rawValue).sorted(), residentModels: resident.map(\.description).sorted(),
            timeline: timeline.intervals, busyRatio: busyRatio, plansExecuted: status.plansStarted)
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
        _ = try await store.requeueExpired(now: Date(), worker: configuration.workerID, maxAttempts: configuration.maxAttempts)
        var signals = self.signals.makeAsyncIterator()
        while !stopping {
            tick()
            try await claimNewJobs()
            if let plan = policy.nextPlan() {
                try await perform(plan)
                continue
            }
            await waitForWork(&signals)
        }
        for task in pendingOutputs.values { await task.value }
        recorder.finish()
        await recording.value
    }

    // MARK: - Steps of the loop

    private func claimNewJobs() async throws {
        let room = configuration.maxClaimed - specs.count
        guard room > 0 else { return }
        let leaseUntil = Date().addingTimeInterval(configuration.leaseDuration.seconds)
        for record in try await store.claim(worker: configuration.workerID, limit: room, leaseUntil: leaseUntil) {
            let job = SchedulerJob(id: record.id, tenant: record.tenant, spec: record.spec, arrival: ContinuousClock.now, attempts: record.attempts)
            do {
                for event in try policy.submit(job) { recorder.record(event) }
                specs[record.id] = record.spec
            } catch {
                // The policy's queue is full: give the job back to the store for later (no attempt used).
                try await store.unclaim(record.id, worker: configuration.workerID)
            }
        }
    }

    private func perform(_ plan: Plan) async throws {
        let named = Set(plan.action.jobs)
        let jobs = specs.filter { named.contains($0.key) }
        status.plansStarted += 1
        status.currentPlan = plan.action
        let (started, startedAt) = (ContinuousClock.now, Date())
        let executed = await engine.execute(plan.action, jobs: jobs)
        let duration = ContinuousClock.now - started
        status.busy += duration
        noteActivity(plan.action, startedAt: startedAt, duration: duration, outcome: executed.outcome)
        metrics?.planExecuted(plan.action, duration: duration, outcome: executed.outcome)
        status.currentPlan = nil
        let events: [JobEvent<ContinuousClock.Instant>]
        if case let .failed(.engineCrashed, message, _, _) = executed.outcome {
            // The engine died: every job holding engine state goes back to the queue (bounded attempts).
            events = policy.engineLost(reason: message)
            status.engineRestarts += 1
        } else {
            events = policy.planFinished(plan.id, outcome: executed.outcome)
        }
        for event in events {
            handle(event, frames: executed.frames[event.job])
        }
        for observer in observers { observer(status) }
    }

    private func handle(_ event: JobEvent<ContinuousClock.Instant>, frames: FramesFile?) {
        if event.to.isTerminal || event.to == .queued { specs[event.job] = nil }
        if event.to == .muxing, let frames { startOutput(event.job, frames: frames) }
        guard event.to != .succeeded else { return } // recorded with its artifacts by the output task
        recorder.record(event)
    }

    /// Encodes off the engine path; reports back to the policy when done.
    private func startOutput(_ job: JobID, frames: FramesFile) {
        let video = configuration.outputDirectory.appendingPathComponent("\(job.rawValue).mp4").path
        let thumbnail = configuration.outputDirectory.appendingPathComponent("\(job.rawValue).jpg").path
        let (encoder, metrics) = (self.encoder, self.metrics)
        pendingOutputs[job] = Task {
            let started = ContinuousClock.now
            defer { metrics?.outputEncoded(duration: ContinuousClock.now - started) }
            var failure: TurboServeError?
            do { try await encoder.encode(frames, video: video, thumbnail: thumbnail) } catch let error as TurboServeError {
                failure = error
            } catch {
                failure = TurboServeError(.internalError, "video encoding failed: \(error)")
            }
            try? FileManager.default.removeItem(atPath: frames.path)
            self.outputFinished(job, error: failure, artifacts: .init(video: video, thumbnail: thumbnail))
        }
    }

    private func outputFinished(_ job: JobID, error: TurboServeError?, artifacts: EventRecorder.Artifacts) {
        pendingOutputs[job] = nil
        for event in policy.outputFinished(job, error: error) {
            specs[event.job] = event.to.isTerminal ? nil : specs[event.job]
            recorder.record(event, artifacts: event.to == .succeeded ? artifacts : nil)
            if event.to == .succeeded { status.jobsSucceeded += 1 }
        }
        signal.yield()
    }

    /// Sleeps until a signal arrives or the policy's next timer is due.
    private func waitForWork(_ signals: inout AsyncStream<Void>.Iterator) async {
        status.idleWaits += 1
        let timer: Task<Void, Never>? = policy.nextWakeup().map { due in
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
