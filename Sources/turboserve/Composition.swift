import ArgumentParser
import Artifacts
import EngineBridge
import Foundation
import HTTPServer
import Hummingbird
import JobStore
import Logging
import SchedulingCore
import ServerConfiguration
import ServiceLifecycle
import TurboServeDomain
import WorkerRuntime

/// The composition root: the one place that builds a role's services from the configuration (`serve`, `api`,
/// `worker`; `migrate` only opens the store). Every role reads `storage.database` and `storage.data_dir` here, gets
/// the same store, signals and metrics wiring, and runs its services in one `ServiceGroup` (SIGTERM/SIGINT shut
/// down gracefully).
///
/// Lifetimes: built once per process, before any service starts; every value it hands out lives as long as the
/// process.
struct Composition: Sendable {
    let role: Role
    let settings: ServerConfiguration
    let logger: Logger
    let data: URL
    /// Uploads, MP4s and thumbnails: the shared-directory backend over `storage.data_dir/uploads` and the output
    /// directory, the layout every role mounts.
    let artifacts: any ArtifactStore
    let connection: StoreConnection
    let metrics = ServiceMetrics()
    /// How often live readers and idle workers read the store when no signal arrives.
    static let pollInterval: Duration = .seconds(1)

    var store: any JobStore { connection.store }

    /// Creates the data directories and opens the store (refusing a database the role cannot use).
    static func build(_ role: Role, settings: ServerConfiguration) async throws -> Composition {
        var logger = Logger(label: "turboserve") { label in JSONLogHandler(label: label) }
        logger.logLevel = .info
        logger[metadataKey: "role"] = "\(role.rawValue)"
        let data = URL(fileURLWithPath: settings.storage.dataDirectory, isDirectory: true)
        let outputs = settings.storage.outputDirectory.map { URL(fileURLWithPath: $0) } ?? data.appendingPathComponent("outputs")
        for folder in [data, outputs, data.appendingPathComponent("work")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let connection = try await StoreConnection.open(for: role, settings: settings, dataDirectory: data, logger: logger)
        let artifacts = DirectoryArtifactStore(uploads: data.appendingPathComponent("uploads"), outputs: outputs)
        return Composition(role: role, settings: settings, logger: logger, data: data, artifacts: artifacts, connection: connection)
    }

    // MARK: - HTTP (serve, api)

    /// The video API with the configured limits, keys and validator; live progress follows the store's signals.
    func videoAPI() -> VideoAPI {
        var limits = VideoAPI.Limits()
        limits.maxUploadBytes = settings.limits.maxUploadMB << 20
        limits.minFreeDiskBytes = Int64(settings.storage.minFreeDiskMB) << 20
        limits.maxQueuedJobs = settings.limits.maxQueuedJobs
        limits.maxQueuedPerTenant = settings.limits.maxQueuedPerTenant > 0 ? settings.limits.maxQueuedPerTenant : nil
        limits.maxConcurrentUploads = settings.limits.maxConcurrentUploads
        limits.bodyTimeout = .milliseconds(Int64(settings.limits.bodyTimeoutSeconds * 1000))
        limits.eventsHeartbeat = .milliseconds(Int64(settings.limits.eventsHeartbeatSeconds * 1000))
        limits.maxImagePixels = settings.limits.maxImagePixels
        limits.syncTimeout = .milliseconds(Int64(settings.limits.syncTimeoutSeconds * 1000))
        limits.retention = settings.storage.retentionHours > 0 ? .seconds(settings.storage.retentionHours * 3600) : nil
        return VideoAPI(
            store: store, validator: JobValidator(availableModels: enabledModels, defaultModel: settings.engines.defaultModel, maxPromptBytes: settings.limits.maxPromptBytes),
            artifacts: artifacts, limits: limits,
            progress: ProgressHub(store: store, signals: connection.signals, pollInterval: Self.pollInterval),
            keys: APIKeys(
                Dictionary(settings.auth.apiKeys.map { ($0.key, TenantID($0.tenant)) }, uniquingKeysWith: { first, _ in first }),
                operators: Set(settings.auth.operatorKeys), metricsOpen: settings.auth.metricsOpen))
    }

    var enabledModels: [ModelDescriptor] { ModelCatalog.all.filter { settings.engines.enabled.contains($0.id) } }

    /// The API's router. `pool` is this process's workers (serve), nil for a stateless api replica; `readiness`
    /// answers `/readyz`.
    func apiRouter(api: VideoAPI, pool: WorkerPool?, readiness: @escaping @Sendable () async -> NotReadyReason?) -> Router<BasicRequestContext> {
        let rate = settings.limits.requestsPerSecond
        let rateLimiter = rate > 0 ? RequestRateLimiter(rate: rate, burst: settings.limits.burst > 0 ? settings.limits.burst : Int((2 * rate).rounded(.up))) : nil
        let (metrics, store, models, dataPath, storeGauges) = (self.metrics, self.store, enabledModels.map(\.id), data.path, connection.storeGauges)
        var workers: (@Sendable () async throws -> [WorkerHeartbeat])?
        if let pool { workers = { try await Self.fleetView(store: store, live: pool) } }
        return HTTPApplication.buildRouter(
            api: api, readiness: readiness,
            metrics: {
                let ratios = await pool?.busyRatios()
                metrics.progressReaders(api.progress.subscriberCount, followingJobs: api.progress.followedJobCount)
                let exportsStoreWide = await storeGauges.holds()
                await metrics.refresh(store: exportsStoreWide ? store : nil, busyRatio: ratios?.life, busyRatioWhilePending: ratios?.whilePending, models: models, diskPath: dataPath)
                return metrics.exposition()
            },
            ui: StaticUIFiles(directory: StaticUIFiles.locate()), workers: workers,
            registry: metrics.registry, rateLimiter: rateLimiter, restartEngines: { await pool?.restartEngines() ?? 0 })
    }

    /// The workers of the fleet as the store's heartbeats report them, with this process's own workers live (a
    /// heartbeat is up to `workers.heartbeat_seconds` old; the engine's current plan is now).
    static func fleetView(store: any JobStore, live pool: WorkerPool) async throws -> [WorkerHeartbeat] {
        var beats = Dictionary(try await store.workers().map { ($0.worker, $0) }, uniquingKeysWith: { newest, _ in newest })
        for activity in await pool.activity() {
            beats[activity.worker] = WorkerHeartbeat(worker: activity.worker, at: Date(), activity: activity)
        }
        return Array(beats.values)
    }


    /// An HTTP listener on `host:port` that prints `banner` once it listens.
    func listener(router: Router<BasicRequestContext>, host: String, port: Int, banner: String) -> some Service {
        Application(
            router: router, server: HTTPListener.server(idleTimeoutSeconds: settings.server.idleTimeoutSeconds), configuration: .init(address: .hostname(host, port: port), serverName: "TurboServe"),
            onServerRunning: { _ in FileHandle.standardOutput.write(Data((banner + "\n").utf8)) }, logger: logger)
    }

    // MARK: - Workers (serve, worker)

    /// The workers of this process. In a fleet (a shared store) each claims at most twice its batch capacity, so
    /// the queue stays global; alone on its store one engine sees the whole queue.
    func nodeWorkers(pool: WorkerPool, engines: Int) throws -> NodeWorkers {
        let settings = self.settings
        metrics.expectJobs(models: settings.engines.enabled)
        return NodeWorkers(
            store: store, locator: try EngineLocator.locate(dataDirectory: settings.storage.dataDirectory, modelsDirectory: settings.engines.modelsDirectory),
            workDirectory: data.appendingPathComponent("work").path, artifacts: artifacts,
            threads: settings.engines.threadsPerEngine, maxAttempts: settings.limits.maxAttempts, callTimeout: .seconds(settings.engines.callTimeoutSeconds), holding: settings.workers,
            scheduler: { memory in TurboSchedulerConfiguration(settings: settings, deviceMemoryBytes: memory) },
            claimWindow: connection.isShared || engines > 1 ? 2 * settings.scheduler.maxBatchSize : nil,
            schedulerSettings: settings.scheduler,
            metrics: metrics, pool: pool, logger: logger)
    }

    /// What runs beside the workers of a process: the lease rescuer (any process may; the store makes each rescue
    /// happen once) and the signal dispatcher that wakes them (`listening` false: polling only).
    func workerCompanions(pool: WorkerPool, listening: Bool = true) -> [any Service] {
        [
            LeaseRescuer(store: store, interval: .seconds(settings.workers.heartbeatSeconds), maxAttempts: settings.limits.maxAttempts, logger: logger, metrics: metrics),
            SignalDispatcher(signals: listening ? connection.signals : nil, pool: pool, pollInterval: Self.pollInterval),
        ]
    }

    /// Output retention (serve and api: the processes that serve the files), when `storage.retention_hours` is set.
    func retention() -> [any Service] {
        guard settings.storage.retentionHours > 0 else { return [] }
        return [RetentionService(
            store: store, artifacts: artifacts, retention: .seconds(settings.storage.retentionHours * 3600),
            interval: .seconds(settings.storage.retentionSweepSeconds), clock: ContinuousClock(), logger: logger, metrics: metrics)]
    }

    /// Runs `services` in one group until SIGTERM/SIGINT.
    func run(_ services: [any Service]) async throws {
        // A service stopped by graceful shutdown may end with the CancellationError of its cancelled sleep; counted
        // as a failure, that cancelled the HTTP server mid-shutdown ("Already closed") and exited 1.
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: EndsCleanlyOnShutdown(base: $0)) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs `base`; a `CancellationError` it throws while the group shuts down gracefully is a clean end.
struct EndsCleanlyOnShutdown: Service {
    let base: any Service
    func run() async throws {
        do { try await base.run() } catch is CancellationError where Task.isShuttingDownGracefully {}
    }
}

/// The `--config` option and the validated configuration every server role starts from.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (default: TURBOSERVE_CONFIG, else built-in defaults).") var config: String?
    @Option(name: .customLong("data-dir"), help: "Where the database, uploads and videos live (overrides storage.data_dir).") var dataDirectory: String?

    /// The file (or defaults) with `TURBOSERVE_*` overrides and `--data-dir` (paths relative to the caller's
    /// directory); every problem is listed at once.
    func load() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let path = config.map { CallerPaths.resolve($0) } ?? environment["TURBOSERVE_CONFIG"]
        try StartupChecks.checkConfigFile(config.map { CallerPaths.resolve($0) })
        var (settings, readProblems) = ConfigurationLoader.load(path: path, environment: environment)
        if let dataDirectory { settings.storage.dataDirectory = CallerPaths.resolve(dataDirectory) }
        let problems = readProblems + settings.problems()
        guard problems.isEmpty else {
            throw CLIFailure(.config, "invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return settings
    }
}
