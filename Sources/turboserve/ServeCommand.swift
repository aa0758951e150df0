import ArgumentParser
import EngineBridge
import Foundation
import HTTPServer
import Hummingbird
import JobStore
import Logging
import ServerConfiguration
import SchedulingCore
import ServiceLifecycle
import TurboServeDomain
import WorkerRuntime

/// `turboserve serve`: the single-node server — the OpenAI-compatible API, the SQLite store, output retention and
/// one worker per engine device (`NodeWorkers`), in one `ServiceGroup` (SIGINT/SIGTERM shut down gracefully: the
/// HTTP server stops accepting, each worker finishes its current plan, the engines are torn down; jobs in flight
/// are recovered on the next start). Ready once every engine has answered its handshake.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the video API on this machine (SQLite store, local engine, tiny CPU models by default).")

    @Option(name: .long, help: "YAML configuration file (default: TURBOSERVE_CONFIG, else built-in defaults).") var config: String?
    @Option(help: "Address to listen on (overrides server.host).") var host: String?
    @Option(help: "Port to listen on (overrides server.port).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Where the database, uploads and videos live (overrides storage.data_dir).") var dataDirectory: String?
    @Flag(name: .customLong("no-engine"), help: "Serve the API without starting a worker (jobs queue).") var noEngine = false

    func run() async throws { try await CLIFailure.reporting { try await serve() } }

    func serve() async throws {
        var settings = try loadSettings()
        if let host { settings.server.host = host }
        if let port { settings.server.port = port }
        if let dataDirectory { settings.storage.dataDirectory = CallerPaths.resolve(dataDirectory) }
        try StartupChecks.checkPortFree(host: settings.server.host, port: settings.server.port)

        var logger = Logger(label: "turboserve") { label in JSONLogHandler(label: label) }
        logger.logLevel = .info
        let data = URL(fileURLWithPath: settings.storage.dataDirectory, isDirectory: true)
        let outputs = settings.storage.outputDirectory.map { URL(fileURLWithPath: $0) } ?? data.appendingPathComponent("outputs")
        for folder in [data, outputs, data.appendingPathComponent("work")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let store = try SQLiteJobStore(path: data.appendingPathComponent("turboserve.sqlite").path)
        let metrics = ServiceMetrics()
        let progress = ProgressHub()
        let engineReadiness = settings.engines.devices.map { _ in Readiness() }
        let workers = WorkerPool()
        let models = ModelCatalog.all.filter { settings.engines.enabled.contains($0.id) }
        var limits = VideoAPI.Limits()
        limits.maxUploadBytes = settings.limits.maxUploadMB << 20
        limits.minFreeDiskBytes = Int64(settings.storage.minFreeDiskMB) << 20
        limits.maxQueuedJobs = settings.limits.maxQueuedJobs
        limits.maxQueuedPerTenant = settings.limits.maxQueuedPerTenant > 0 ? settings.limits.maxQueuedPerTenant : nil
        limits.maxConcurrentUploads = settings.limits.maxConcurrentUploads
        limits.bodyTimeout = .milliseconds(Int64(settings.limits.bodyTimeoutSeconds * 1000))
        limits.maxImagePixels = settings.limits.maxImagePixels
        limits.syncTimeout = .milliseconds(Int64(settings.limits.syncTimeoutSeconds * 1000))
        limits.retention = settings.storage.retentionHours > 0 ? .seconds(settings.storage.retentionHours * 3600) : nil
        let api = VideoAPI(
            store: store, validator: JobValidator(availableModels: models, defaultModel: settings.engines.defaultModel, maxPromptBytes: settings.limits.maxPromptBytes),
            uploadsDirectory: data.appendingPathComponent("uploads"), limits: limits,
            jobCreated: { _ in workers.wake() }, jobCancelled: { id in workers.cancel(id) }, progress: progress,
            keys: APIKeys(
                Dictionary(settings.auth.apiKeys.map { ($0.key, TenantID($0.tenant)) }, uniquingKeysWith: { first, _ in first }),
                operators: Set(settings.auth.operatorKeys), metricsOpen: settings.auth.metricsOpen))
        let rate = settings.limits.requestsPerSecond
        let rateLimiter = rate > 0 ? RequestRateLimiter(rate: rate, burst: settings.limits.burst > 0 ? settings.limits.burst : Int((2 * rate).rounded(.up))) : nil
        let router = HTTPApplication.buildRouter(
            api: api, isReady: { noEngine || engineReadiness.allSatisfy(\.isReady) },
            metrics: {
                let ratios = await workers.busyRatios()
                await metrics.refresh(store: store, busyRatio: ratios?.life, busyRatioWhilePending: ratios?.whilePending, models: models.map(\.id), diskPath: data.path)
                return metrics.exposition()
            },
            ui: StaticUIFiles(directory: StaticUIFiles.locate()), workers: { await workers.activity() },
            registry: metrics.registry, rateLimiter: rateLimiter, restartEngines: { await workers.restartEngines() })
        let (host, port) = (settings.server.host, settings.server.port)
        let app = Application(
            router: router,
            // The idle timeout closes slowloris connections (a request head that never completes), trickled bodies
            // (between chunks) and idle keep-alive connections, never a streaming response; header fields are
            // capped well below NIO's 80 KiB default.
            server: .http1(configuration: .init(
                idleTimeout: .milliseconds(Int64(settings.server.idleTimeoutSeconds * 1000)),
                httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 << 10, maxHeaderListSize: 64 << 10, maxHeaderFieldCount: 100))),
            configuration: .init(address: .hostname(host, port: port), serverName: "TurboServe"),
            onServerRunning: { _ in
                FileHandle.standardOutput.write(Data(StartupChecks.banner(host: host, port: port, engine: !noEngine).utf8))
            },
            logger: logger)

        var services: [any Service] = [app]
        if settings.storage.retentionHours > 0 {
            services.append(RetentionService(
                store: store, retention: .seconds(settings.storage.retentionHours * 3600),
                interval: .seconds(settings.storage.retentionSweepSeconds), clock: ContinuousClock(), logger: logger, metrics: metrics))
        }
        if !noEngine {
            services.append(LeaseRescuer(store: store, interval: .seconds(settings.workers.heartbeatSeconds), maxAttempts: settings.limits.maxAttempts, logger: logger, metrics: metrics))
            let nodeWorkers = NodeWorkers(
                store: store, locator: try EngineLocator.locate(dataDirectory: settings.storage.dataDirectory),
                workDirectory: data.appendingPathComponent("work").path, outputDirectory: outputs,
                threads: settings.engines.threadsPerEngine, maxAttempts: settings.limits.maxAttempts, callTimeout: .seconds(settings.engines.callTimeoutSeconds), holding: settings.workers,
                scheduler: { [settings] memory in TurboSchedulerConfiguration(settings: settings, deviceMemoryBytes: memory) },
                claimWindow: settings.engines.devices.count > 1 ? 2 * settings.scheduler.maxBatchSize : nil,
                metrics: metrics, progress: progress, pool: workers, logger: logger)
            let recovered = try await nodeWorkers.recoverJobsOfPreviousProcess()
            if !recovered.isEmpty { logger.info("requeued jobs of the previous process", metadata: ["jobs": "\(recovered.count)"]) }
            for (index, (device, readiness)) in zip(settings.engines.devices, engineReadiness).enumerated() {
                services.append(nodeWorkers.service(index: index, device: device, readiness: readiness))
            }
        }
        // A service stopped by graceful shutdown may end with the CancellationError of its cancelled sleep; counted
        // as a failure, that cancelled the HTTP server mid-shutdown ("Already closed") and exited 1.
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: EndsCleanlyOnShutdown(base: $0)) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        FileHandle.standardOutput.write(Data(StartupChecks.goodbye.utf8))
    }

    /// Runs `base`; a `CancellationError` it throws while the group shuts down gracefully is a clean end.
    struct EndsCleanlyOnShutdown: Service {
        let base: any Service
        func run() async throws {
            do { try await base.run() } catch is CancellationError where Task.isShuttingDownGracefully {}
        }
    }

    func loadSettings() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let path = config.map { CallerPaths.resolve($0) } ?? environment["TURBOSERVE_CONFIG"]
        try StartupChecks.checkConfigFile(config.map { CallerPaths.resolve($0) })
        let (settings, readProblems) = ConfigurationLoader.load(path: path, environment: environment)
        let problems = readProblems + settings.problems()
        guard problems.isEmpty else {
            throw CLIFailure(.config, "invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return settings
    }
}
