import Artifacts
import EngineBridge
import Foundation
import HTTPServer
import JobStore
import Logging
import SchedulingCore
import ServerConfiguration
import Synchronization
import TurboServeDomain
import WorkerRuntime

/// Builds a process's workers: one `WorkerService` per engine device, each with its own engine process and worker
/// id, all claiming from the same store (its claims are exclusive) and feeding the same metrics. Engines start one
/// at a time (they share the venv and the models directory). With `claimWindow` each worker holds at most that many
/// claimed jobs, so the rest of the queue stays in the store for whichever engine (of this process or the fleet)
/// frees up first instead of piling up behind one.
struct NodeWorkers {
    let store: any JobStore
    let locator: EngineLocator
    let workDirectory: String
    /// Where workers read uploads and put their MP4s and thumbnails.
    let artifacts: any ArtifactStore
    let threads: Int
    let maxAttempts: Int
    /// Each engine call's deadline (`engines.call_timeout_seconds`).
    let callTimeout: Duration
    /// Lease, heartbeat and drain settings (`workers.*`).
    let holding: ServerConfiguration.Workers
    /// The scheduler's settings for an engine that reported this much device memory.
    let scheduler: @Sendable (_ deviceMemoryBytes: Int64) -> TurboSchedulerConfiguration
    /// Claimed-but-unfinished jobs per worker; nil keeps the worker's default (one engine sees the whole queue).
    let claimWindow: Int?
    /// The `scheduler.*` settings read per worker: which policy plans (`policy`) and what a claim uses across the
    /// fleet (the affinity wait bound, the tenants' weights).
    let schedulerSettings: ServerConfiguration.Scheduler
    let metrics: ServiceMetrics
    let pool: WorkerPool
    let logger: Logger
    let startupGate = StartupGate()

    /// Gives back to the queue every job a worker of a previous `serve` process still held, before any worker
    /// starts. The embedded store belongs to this node alone, so every holder is gone — including workers of
    /// devices no longer in `engines.devices`, which their own start-up recovery would never reach.
    func recoverJobsOfPreviousProcess() async throws -> [JobID] {
        try await store.releaseHeld(by: nil, maxAttempts: maxAttempts)
    }

    /// The service of the engine on `device`, run as `workerID` (stable across restarts: a restarted worker takes
    /// back its own jobs at once); `readiness` turns true once its engine has answered the handshake.
    func service(workerID: String, device: String, readiness: Readiness) -> WorkerService<NodePolicy> {
        let (store, artifacts, scratch, maxAttempts, claimWindow, metrics, scheduler, holding, claiming) = (store, artifacts, URL(fileURLWithPath: workDirectory), maxAttempts, claimWindow, metrics, scheduler, holding, schedulerSettings)
        let workerLogger = {
            var logger = self.logger
            logger[metadataKey: "worker"] = "\(workerID)"
            return logger
        }()
        return WorkerService<NodePolicy>(
            locator: locator, workDirectory: workDirectory, device: device, threads: threads, readiness: readiness,
            logger: workerLogger, startupGate: startupGate, callTimeout: callTimeout, onWorker: { pool.add($0) },
            makeWorker: { executor, hello in
                var configuration = Worker<NodePolicy>.Configuration(workerID: workerID, artifacts: artifacts, scratchDirectory: scratch)
                configuration.maxAttempts = maxAttempts
                configuration.leaseDuration = .seconds(holding.leaseSeconds)
                configuration.heartbeatInterval = .seconds(holding.heartbeatSeconds)
                configuration.drainGrace = .seconds(holding.drainGraceSeconds)
                if let claimWindow { configuration.maxClaimed = claimWindow }
                configuration.affinityWait = .seconds(claiming.affinityWaitSeconds)
                configuration.tenantWeights = Dictionary(uniqueKeysWithValues: claiming.tenantWeights.map { (TenantID($0.key), $0.value) })
                workerLogger.info("engine ready; planning", metadata: ["policy": "\(claiming.policy.rawValue)"])
                return Worker(
                    policy: NodePolicy(claiming.policy, configuration: scheduler(hello.totalMemoryBytes)), store: store,
                    engine: executor, encoder: FFmpegVideoEncoding(), configuration: configuration, metrics: metrics, logger: workerLogger,
                    onStoreError: { id, error in workerLogger.warning("store refused an event", metadata: ["job": "\(id)", "error": "\(error)"]) })
            })
    }
}

/// Lets HTTP handlers reach the node's workers once they exist (each is created after its engine's handshake).
///
/// Thread-safety: a `Mutex` guards the list; every method may be called from any task.
final class WorkerPool: Sendable {
    private let workers = Mutex<[Worker<NodePolicy>]>([])

    func add(_ worker: Worker<NodePolicy>) { workers.withLock { $0.append(worker) } }

    /// The first of the workers' `identityConflict`s (another process beats under its worker id), or nil.
    func identityConflict() async -> String? {
        for worker in all { if let conflict = await worker.identityConflict { return conflict } }
        return nil
    }

    private var all: [Worker<NodePolicy>] { workers.withLock { $0 } }

    /// A job was created: every worker looks; the store's exclusive claim gives it to one.
    func wake() { for worker in all { worker.wake() } }

    /// A job was cancelled in the store: the worker holding it frees its engine state (the others hold nothing).
    func cancel(_ id: JobID) {
        for worker in all { worker.cancel(id) }
    }

    /// An operator's restart: every worker kills its engine and requeues the engine's jobs (no attempt lost);
    /// returns how many engines were restarted.
    func restartEngines() async -> Int {
        let workers = all
        for worker in workers { await worker.restartEngine() }
        return workers.count
    }

    /// Busy ratios averaged over the workers (each engine counts equally); nil before any worker exists.
    func busyRatios() async -> (life: Double, whilePending: Double)? {
        let workers = all
        guard !workers.isEmpty else { return nil }
        var (life, pending) = (0.0, 0.0)
        for worker in workers {
            life += await worker.busyRatio
            pending += await worker.busyRatioWhilePending
        }
        return (life / Double(workers.count), pending / Double(workers.count))
    }

    /// What each worker's engine is doing (for the operations view), one entry per worker.
    func activity() async -> [EngineActivity] {
        var result: [EngineActivity] = []
        for worker in all { result.append(await worker.activity) }
        return result
    }
}
