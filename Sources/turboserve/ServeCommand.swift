import ArgumentParser
import EngineBridge
import Foundation
import HTTPServer
import Hummingbird
import JobStore
import Logging
import ServerConfiguration
import ServiceLifecycle
import TurboServeDomain
import WorkerRuntime

/// `turboserve serve`: the single-node server — the OpenAI-compatible API, the SQLite store and one worker per
/// engine device, in one `ServiceGroup` (SIGINT/SIGTERM shut down gracefully: the HTTP server stops accepting, the
/// worker finishes its current plan, the engine is torn down; jobs in flight are recovered on the next start).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the video API on this machine (SQLite store, local engine, tiny CPU models by default).")

    @Option(name: .long, help: "YAML configuration file (default: TURBOSERVE_CONFIG, else built-in defaults).") var config: String?
    @Option(help: "Address to listen on (overrides server.host).") var host: String?
    @Option(help: "Port to listen on (overrides server.port).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Where the database, uploads and videos live (overrides storage.data_dir).") var dataDirectory: String?
    @Flag(name: .customLong("no-engine"), help: "Serve the API without starting a worker (jobs queue).") var noEngine = false

    func run() async throws {
        var settings = try loadSettings()
        if let host { settings.server.host = host }
        if let port { settings.server.port = port }
        if let dataDirectory { settings.storage.dataDirectory = dataDirectory }

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
        let readiness = Readiness()
        let workers = WorkerHandle()
        let models = ModelCatalog.all.filter { settings.engines.enabled.contains($0.id) }
        var limits = VideoAPI.Limits()
        limits.maxUploadBytes = settings.limits.maxUploadMB << 20
        limits.minFreeDiskBytes = Int64(settings.storage.minFreeDiskMB) << 20
        limits.maxQueuedJobs = settings.limits.maxQueuedJobs
        limits.syncTimeout = .milliseconds(Int64(settings.limits.syncTimeoutSeconds * 1000))
        let api = VideoAPI(
            store: store, validator: JobValidator(availableModels: models, defaultModel: settings.engines.defaultModel),
            uploadsDirectory: data.appendingPathComponent("uploads"), limits: limits,
            jobCreated: { _ in workers.wake() }, jobCancelled: { id in workers.cancel(id) }, progress: progress,
            keys: APIKeys(Dictionary(settings.auth.apiKeys.map { ($0.key, TenantID($0.tenant)) }, uniquingKeysWith: { first, _ in first })))
        let router = HTTPApplication.buildRouter(
            api: api, isReady: { noEngine || readiness.isReady },
            metrics: {
                let ratios = await workers.busyRatios()
                await metrics.refresh(store: store, busyRatio: ratios?.life, busyRatioWhilePending: ratios?.whilePending)
                return metrics.exposition()
            })
        let (host, port) = (settings.server.host, settings.server.port)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "TurboServe"),
            onServerRunning: { _ in
                FileHandle.standardOutput.write(Data("TurboServe is listening on http://\(host):\(port)  (API: /v1/videos, metrics: /metrics, health: /healthz)\n".utf8))
            },
            logger: logger)

        var services: [any Service] = [app]
        if settings.storage.retentionHours > 0 {
            services.append(RetentionService(
                store: store, retention: .seconds(settings.storage.retentionHours * 3600),
                interval: .seconds(settings.storage.retentionSweepSeconds), clock: ContinuousClock(), logger: logger))
        }
        if !noEngine {
            let locator = try EngineLocator.locate(dataDirectory: settings.storage.dataDirectory)
            let (maxAttempts, maxQueued, log) = (settings.limits.maxAttempts, settings.limits.maxQueuedJobs, logger)
            services.append(WorkerService<SerialPolicy>(
                locator: locator, workDirectory: data.appendingPathComponent("work").path,
                device: settings.engines.devices.first ?? "auto", threads: settings.engines.threadsPerEngine,
                readiness: readiness, logger: logger, onWorker: { workers.set($0) },
                makeWorker: { executor in
                    var configuration = Worker<SerialPolicy>.Configuration(workerID: "\(ProcessInfo.processInfo.hostName)-0", outputDirectory: outputs)
                    configuration.maxAttempts = maxAttempts
                    return Worker(
                        policy: SerialPolicy(maxQueued: maxQueued, maxAttempts: maxAttempts), store: store,
                        engine: executor, encoder: FFmpegVideoEncoding(), configuration: configuration, metrics: metrics,
                        onStoreError: { id, error in log.warning("store refused an event", metadata: ["job": "\(id)", "error": "\(error)"]) },
                        onRecorded: { record in progress.publish(record) })
                }))
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func loadSettings() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let (settings, readProblems) = ConfigurationLoader.load(path: config ?? environment["TURBOSERVE_CONFIG"], environment: environment)
        let problems = readProblems + settings.problems()
        guard problems.isEmpty else {
            throw ValidationError("invalid configuration:\n" + problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        return settings
    }
}

/// Lets HTTP handlers reach the worker once it exists (it is created after the engine's handshake).
final class WorkerHandle: Sendable {
    private let worker = Mutex<Worker<SerialPolicy>?>(nil)
    func set(_ worker: Worker<SerialPolicy>) { self.worker.withLock { $0 = worker } }
    func wake() { worker.withLock { $0 }?.wake() }
    func cancel(_ id: JobID) {
        guard let worker = worker.withLock({ $0 }) else { return }
        Task { await worker.cancel(id) }
    }
    func busyRatios() async -> (life: Double, whilePending: Double)? {
        guard let worker = worker.withLock({ $0 }) else { return nil }
        return (await worker.busyRatio, await worker.busyRatioWhilePending)
    }
}

import Synchronization
