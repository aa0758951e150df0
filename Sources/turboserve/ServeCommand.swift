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

/// `turboserve serve`: the single-node server — the OpenAI-compatible API, the store (SQLite by default, or the
/// fleet's PostgreSQL), output retention and one worker per engine device (`NodeWorkers`), built by the
/// `Composition` and run in one `ServiceGroup` (SIGINT/SIGTERM shut down gracefully: the
/// HTTP server stops accepting, each worker finishes its current plan, the engines are torn down; jobs in flight
/// are recovered on the next start). Ready once every engine has answered its handshake.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the video API on this machine (SQLite store, local engine, tiny CPU models by default).")

    @OptionGroup var options: ConfigOption
    @Option(help: "Address to listen on (overrides server.host).") var host: String?
    @Option(help: "Port to listen on (overrides server.port).") var port: Int?
    @Flag(name: .customLong("no-engine"), help: "Serve the API without starting a worker (jobs queue).") var noEngine = false

    func run() async throws { try await CLIFailure.reporting { try await serve() } }

    func serve() async throws {
        var settings = try options.load()
        if let host { settings.server.host = host }
        if let port { settings.server.port = port }
        try StartupChecks.checkPortFree(host: settings.server.host, port: settings.server.port)

        let composition = try await Composition.build(.serve, settings: settings)
        let logger = composition.logger
        let engineReadiness = settings.engines.devices.map { _ in Readiness() }
        let workers = WorkerPool()
        // Ready once every engine answered its handshake and no other process runs under an engine's worker id (two
        // `serve` on one host share host-name ids); on a shared database also only while it answers.
        let (shared, storeHealth) = (composition.connection.isShared, composition.connection.health)
        let router = composition.apiRouter(api: composition.videoAPI(), pool: workers, readiness: {
            await NotReadyReason.first(engineReady: noEngine || engineReadiness.allSatisfy(\.isReady), identityConflict: await workers.identityConflict(),
                                       storeHealth: shared ? storeHealth : nil)
        })
        let (host, port) = (settings.server.host, settings.server.port)
        let app = Application(
            router: router,
            server: HTTPListener.server(idleTimeoutSeconds: settings.server.idleTimeoutSeconds),
            configuration: .init(address: .hostname(host, port: port), serverName: "TurboServe"),
            onServerRunning: { _ in
                FileHandle.standardOutput.write(Data(StartupChecks.banner(host: host, port: port, engine: !noEngine).utf8))
            },
            logger: logger)

        var services: [any Service] = [app] + composition.retention()
        if !noEngine {
            let nodeWorkers = try composition.nodeWorkers(pool: workers, engines: settings.engines.devices.count)
            // The embedded store belongs to this node alone, so every holder of a previous process is gone.
            if !composition.connection.isShared {
                let recovered = try await nodeWorkers.recoverJobsOfPreviousProcess()
                if !recovered.isEmpty { logger.info("requeued jobs of the previous process", metadata: ["jobs": "\(recovered.count)"]) }
            }
            services += composition.workerCompanions(pool: workers)
            for (index, (device, readiness)) in zip(settings.engines.devices, engineReadiness).enumerated() {
                services.append(nodeWorkers.service(workerID: "\(ProcessInfo.processInfo.hostName)-\(index)", device: device, readiness: readiness))
            }
        }
        try await composition.run(services)
        FileHandle.standardOutput.write(Data(StartupChecks.goodbye.utf8))
    }
}
