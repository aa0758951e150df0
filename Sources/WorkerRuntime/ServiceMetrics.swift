import EngineBridge
import Foundation
import JobStore
import Prometheus
import Synchronization
import SchedulingCore
import TurboServeDomain

/// The Prometheus families of DESIGN §2.5, prefixed `turboserve_`, units in names, few label values (class,
/// model, stage, reason). Fed by the worker (plans, events) and read by `/metrics`.
///
/// Thread-safety: the registry and its metrics are thread-safe; this type holds no other mutable state.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Duration] = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600].map { .milliseconds(Int64($0 * 1000)) }
    static let stageBuckets: [Duration] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map { .microseconds(Int64($0 * 1_000_000)) }

    /// Every model the queue-depth gauge has reported (guarded: scrapes may overlap).
    private let queueModels = Mutex<Set<String>>([])
    /// The store-wide gauges this process exports now (empty while another process holds that duty).
    private let storeWideGauges = Mutex<[Gauge]>([])

    public init() {}

    /// One plan ran on `worker`'s engine for `duration`.
    public func planExecuted(_ action: PlanAction, duration: Duration, outcome: PlanOutcome, worker: String) {
        let seconds = duration.seconds
        let engine = [("worker", worker)]
        registry.makeCounter(descriptor: Self.name("engine_busy_seconds", "total", "Seconds the engine spent executing plans."), labels: engine).increment(by: seconds)
        registry.makeCounter(descriptor: Self.name("engine_plans", "total", "Plans the engine executed."), labels: engine).increment()
        registry.makeDurationHistogram(descriptor: Self.name("stage_duration", "seconds", "Time per pipeline stage: engine plans (load, admit, step, decode, ...) and off-engine mux."), labels: [("stage", Self.stage(of: action))], buckets: Self.stageBuckets).recordNanoseconds(Int64(seconds * 1e9))
        switch action {
        case let .step(_, steps):
            registry.makeValueHistogram(descriptor: Self.name("batch", "size", "Jobs per denoise step call."), labels: engine, buckets: [1, 2, 3, 4, 6, 8, 12, 16]).record(Double(steps.count))
        case let .load(key): registry.makeCounter(descriptor: Self.name("model_loads", "total", "Expert weights moved onto the device."), labels: [("model", key.description), ("worker", worker)]).increment()
        case let .unload(key): registry.makeCounter(descriptor: Self.name("model_evictions", "total", "Expert weights freed from the device."), labels: [("model", key.description), ("worker", worker)]).increment()
        default: break
        }
        switch outcome {
        case let .completed(_, free?):
            registry.makeGauge(descriptor: Self.name("engine_free_memory", "bytes", "Device memory free, as last reported by the engine."), labels: engine).set(Double(free))
        case let .failed(code, _, _, _):
            registry.makeCounter(descriptor: Self.name("engine_failures", "total", "Engine plans that failed, by error code."), labels: [("reason", code.rawValue), ("worker", worker)]).increment()
        default: break
        }
    }

    /// `worker` started: its fault counters exist at 0 from now on, so an alert's `increase()` sees the first
    /// restart or OOM (a series that appears with its first event hides that event).
    public func workerStarted(worker: String) {
        _ = restarts(worker)
        _ = outOfMemoryEvents(worker)
        workerIDConflict(false, worker: worker)
    }

    /// 1 while another process beats under `worker`'s id (`Worker.identityConflict`), else 0.
    public func workerIDConflict(_ conflict: Bool, worker: String) {
        registry.makeGauge(descriptor: Self.name("worker_id_conflict", "", "1 while another process sends heartbeats under this worker's id (two workers with one --worker-id), else 0."), labels: [("worker", worker)]).set(conflict ? 1.0 : 0.0)
    }

    /// How `worker`'s last finished jobs fared against their deadlines (a policy that judges it; set at the worker's
    /// start and after every finished job, so both series exist at 0 before the first miss).
    public func deadlineHealth(_ health: DeadlineHealth, worker: String) {
        let labels = [("worker", worker)]
        registry.makeGauge(descriptor: Self.name("scheduler_overloaded", "", "1 while the scheduler judges the engine overloaded (most recent jobs missed their deadline; jobs already late then yield under the tail objective), else 0."), labels: labels).set(health.overloaded ? 1.0 : 0.0)
        registry.makeGauge(descriptor: Self.name("scheduler_deadline_miss", "ratio", "Share of the worker's last finished jobs (up to the overload window) that missed their deadline."), labels: labels).set(health.missRatio)
    }

    /// `worker`'s engine process died or hung and is started again by the next plan.
    public func engineRestarted(worker: String) { restarts(worker).increment() }

    /// The engine refused a plan for lack of device memory (the batch is split, or a job too large fails).
    public func outOfMemory(worker: String) { outOfMemoryEvents(worker).increment() }

    private func restarts(_ worker: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("engine_restarts", "total", "Engine processes that died or hung and were restarted."), labels: [("worker", worker)])
    }

    private func outOfMemoryEvents(_ worker: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("engine_oom", "total", "Plans the engine refused for lack of device memory."), labels: [("worker", worker)])
    }

    /// A job goes back to the queue to run again, for `reason` (an error code).
    public func jobRetried(reason: String) {
        registry.makeCounter(descriptor: Self.name("job_retries", "total", "Jobs planned again after a fault, preemption or split, by reason."), labels: [("reason", reason)]).increment()
    }

    /// Jobs whose worker stopped heartbeating went back to the queue (the rescuer).
    public func leasesExpired(_ count: Int) {
        registry.makeCounter(descriptor: Self.name("lease_expiries", "total", "Jobs returned to the queue because their worker's lease ran out.")).increment(by: Int64(count))
    }

    /// `worker` renewed its leases now.
    public func heartbeat(worker: String) {
        registry.makeGauge(descriptor: Self.name("worker_heartbeat_timestamp", "seconds", "When the worker last renewed its leases (Unix time)."), labels: [("worker", worker)]).set(Date().timeIntervalSince1970)
    }

    /// The latest NVML readings of `worker`'s engine, one series per device; a reading the GPU does not give stays
    /// absent (never a made-up zero), and a CPU engine (no devices) exports no GPU series at all.
    public func gpuTelemetry(_ telemetry: EngineMessages.GpuTelemetry, worker: String) {
        for device in telemetry.devices ?? [] {
            let labels = [("worker", worker), ("device", device.device)]
            func gauge(_ descriptor: MetricNameDescriptor, _ value: Double?) {
                guard let value else { return }
                registry.makeGauge(descriptor: descriptor, labels: labels).set(value)
            }
            gauge(Self.name("gpu_utilization", "ratio", "GPU compute utilisation (NVML), 0-1."), device.utilizationPercent.map { $0 / 100 })
            gauge(Self.name("gpu_memory_used", "bytes", "GPU memory in use (NVML)."), device.memoryUsedBytes.map(Double.init))
            gauge(Self.name("gpu_memory_total", "bytes", "GPU memory in total (NVML)."), device.memoryTotalBytes.map(Double.init))
            gauge(Self.name("gpu_temperature", "celsius", "GPU temperature (NVML)."), device.temperatureCelsius)
            gauge(Self.name("gpu_power", "watts", "GPU power draw (NVML)."), device.powerWatts)
            gauge(Self.name("gpu_energy_joules", "total", "GPU energy since the driver loaded (NVML), a counter read as a gauge."), device.energyJoules)
        }
    }

    /// Video encoding + storage of one job, off the engine path.
    public func outputEncoded(duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.name("stage_duration", "seconds", "Time per pipeline stage: engine plans (load, admit, step, decode, ...) and off-engine mux."), labels: [("stage", "mux")], buckets: Self.stageBuckets).recordNanoseconds(Int64(duration.seconds * 1e9))
    }

    /// Retention deleted the files of `count` finished videos.
    public func videosExpired(_ count: Int) {
        registry.makeCounter(descriptor: Self.name("videos_expired", "total", "Finished videos whose files retention deleted.")).increment(by: Int64(count))
    }

    /// Creates the finished-job counters of every class, each of `models` and every final status at 0, so the
    /// first failure of a model already shows in `rate()` / `increase()` (a series that appears with its first
    /// event hides that event from both). Called by the roles that run workers, with the enabled models.
    public func expectJobs(models: [String]) {
        for model in models {
            for priority in PriorityClass.allCases {
                for phase in JobState.Phase.allCases where phase.isTerminal { _ = jobsCounter(priority: priority, model: model, phase: phase) }
            }
        }
    }

    private func jobsCounter(priority: PriorityClass, model: String, phase: JobState.Phase) -> Counter {
        registry.makeCounter(descriptor: Self.name("jobs", "total", "Finished jobs by class, model and final status."),
                             labels: [("class", priority.rawValue), ("model", model), ("status", phase.rawValue)])
    }

    /// A persisted record: finished jobs feed the latency, queue-wait and outcome families.
    public func recorded(_ record: JobRecord) {
        guard record.phase.isTerminal, let completed = record.completedAt else { return }
        let labels = [("class", record.spec.priority.rawValue), ("model", record.spec.model)]
        jobsCounter(priority: record.spec.priority, model: record.spec.model, phase: record.phase).increment()
        registry.makeCounter(descriptor: Self.name("tenant_jobs", "total", "Finished jobs by tenant and final status."), labels: [("tenant", record.tenant.rawValue), ("status", record.phase.rawValue)]).increment()
        if record.phase == .failed {
            registry.makeCounter(descriptor: Self.name("job_failures", "total", "Failed jobs by error code."), labels: [("reason", record.errorCode ?? "unknown")]).increment()
        }
        guard record.phase == .succeeded else { return }
        registry.makeDurationHistogram(descriptor: Self.name("job_latency", "seconds", "Creation to completion of succeeded jobs."), labels: labels, buckets: Self.latencyBuckets)
            .recordNanoseconds(Int64(completed.timeIntervalSince(record.createdAt) * 1e9))
        if let started = record.startedAt {
            registry.makeDurationHistogram(descriptor: Self.name("queue_wait", "seconds", "Creation to first engine work of succeeded jobs."), labels: labels, buckets: Self.latencyBuckets)
                .recordNanoseconds(Int64(started.timeIntervalSince(record.createdAt) * 1e9))
        }
    }

    /// Gauges read at scrape time: queue depth by class and model (every class of each model in `models` or ever
    /// seen queued, so a drained slice reads 0 rather than vanishing), jobs by phase, busy ratio over the process's
    /// life, free bytes on the filesystem of `diskPath`.
    /// Without a `store` (a fleet worker, or an api replica while another holds the store-wide duty) only this
    /// process's own gauges are set, and the store-wide ones it exported before are withdrawn: one process of the
    /// fleet exports them (`SingleOwnerDuty`), so they are neither repeated by every replica nor left stale.
    public func refresh(store: (any JobStore)?, busyRatio: Double?, busyRatioWhilePending: Double? = nil, models: [String] = [], diskPath: String? = nil) async {
        var storeWide: [Gauge] = []
        if let counts = try? await store?.countQueued() {
            let seen = queueModels.withLock { known in
                known.formUnion(models)
                known.formUnion(counts.keys.map(\.model))
                return known
            }
            for model in seen {
                for priority in PriorityClass.allCases {
                    let gauge = registry.makeGauge(descriptor: Self.name("queue_depth", "jobs", "Queued jobs by priority class and model."), labels: [("class", priority.rawValue), ("model", model)])
                    gauge.set(Double(counts[QueuedKey(priority: priority, model: model)] ?? 0))
                    storeWide.append(gauge)
                }
            }
        }
        if let diskPath, let free = (try? FileManager.default.attributesOfFileSystem(forPath: diskPath))?[.systemFreeSize] as? NSNumber {
            registry.makeGauge(descriptor: Self.name("disk_free", "bytes", "Free bytes on the data directory's filesystem."), labels: [("path", diskPath)]).set(free.doubleValue)
        }
        if let phases = try? await store?.countByPhase() {
            for phase in JobState.Phase.allCases where !phase.isTerminal {
                let gauge = registry.makeGauge(descriptor: Self.name("unfinished", "jobs", "Unfinished jobs by phase."), labels: [("phase", phase.rawValue)])
                gauge.set(Double(phases[phase] ?? 0))
                storeWide.append(gauge)
            }
        }
        if store == nil {
            for gauge in storeWideGauges.withLock({ exported in defer { exported = [] }; return exported }) { registry.unregisterGauge(gauge) }
        } else {
            storeWideGauges.withLock { exported in
                for gauge in storeWide where !exported.contains(where: { $0 === gauge }) { exported.append(gauge) }
            }
        }
        if let busyRatio { registry.makeGauge(descriptor: Self.name("engine_busy", "ratio", "Fraction of the worker's life the engine was executing plans.")).set(busyRatio) }
        if let busyRatioWhilePending {
            registry.makeGauge(descriptor: Self.name("engine_busy_while_pending", "ratio", "Fraction of the time work was pending that the engine was executing plans.")).set(busyRatioWhilePending)
        }
    }

    /// Live-progress readers on this replica, set at scrape time: open event streams and `POST /v1/videos/sync`
    /// requests waiting (`readers`), and the jobs they follow (`jobs`: one follower each, however many readers).
    public func progressReaders(_ readers: Int, followingJobs jobs: Int) {
        registry.makeGauge(descriptor: Self.name("progress_readers", "", "Open event streams and waiting sync requests on this replica.")).set(Double(readers))
        registry.makeGauge(descriptor: Self.name("progress_followed", "jobs", "Jobs this replica follows for its progress readers (one follower each, however many readers).")).set(Double(jobs))
    }

    public func exposition() -> String { registry.emitToString() }

    /// `turboserve_<metric>_<unit>` with its help text.
    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "turboserve", metricName: metric, unitName: unit, helpText: help)
    }

    static func stage(of action: PlanAction) -> String {
        switch action {
        case .load: "load"
        case .unload: "unload"
        case .admit: "admit"
        case .step: "step"
        case .decode: "decode"
        case .release: "release"
        case let .onEnginePath(work, _): work.rawValue
        }
    }
}
