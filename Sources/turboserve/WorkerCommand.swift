import ArgumentParser
import Foundation
import HTTPServer
import ServiceLifecycle
import WorkerRuntime

/// `turboserve worker`: one engine of a fleet (one GPU) with its scheduling core and output pipeline, claiming from
/// the shared store. Its port serves `/healthz` (the process is up), `/readyz` (its engine answered the handshake
/// and the store answers) and `/metrics` (this worker's engine families). SIGTERM drains: no more claims, unstarted jobs go back to the
/// queue, started ones finish within `workers.drain_grace_seconds`, then the rest is released and it exits.
///
/// The worker id is stable across restarts (default: the pod's or host's name), so a restarted worker takes back
/// its own jobs at once (`releaseHeld(by:)`) instead of waiting for their leases to run out.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one engine of a fleet (PostgreSQL store; the API runs as `turboserve api`).")

    @OptionGroup var options: ConfigOption
    @Option(name: .customLong("worker-id"), help: "Stable id of this worker (default: POD_NAME, else HOSTNAME, else the host name).") var workerID: String?
    @Option(help: "Port of /healthz, /readyz and /metrics.") var port: Int = 9090
    @Option(help: "Address the probe port listens on (overrides server.host).") var host: String?
    @Option(help: "Engine device (default: the first of engines.devices).") var device: String?
    @Option(help: "How the worker hears of new jobs: signals (the store's notifications, plus polling) or polling (every second only; a benchmark baseline).") var wake: Wake = .signals

    enum Wake: String, ExpressibleByArgument { case signals, polling }

    func run() async throws {
        let settings = try options.load()
        let id = workerID ?? Self.defaultID(ProcessInfo.processInfo.environment)
        guard !id.isEmpty, id.utf8.count <= 200 else {
            throw ValidationError("--worker-id must be 1 to 200 characters; got \(id.utf8.count)")
        }
        let composition = try await Composition.build(.worker, settings: settings)
        let readiness = Readiness()
        let pool = WorkerPool()
        let workers = try composition.nodeWorkers(pool: pool, engines: 1)
        let host = host ?? settings.server.host
        let (metrics, port, storeHealth) = (composition.metrics, port, composition.connection.health)
        let probes = composition.listener(
            router: HTTPApplication.probeRouter(readiness: {
                await NotReadyReason.first(engineReady: readiness.isReady, identityConflict: await pool.identityConflict(), storeHealth: storeHealth)
            }, metrics: {
                let ratios = await pool.busyRatios()
                await metrics.refresh(store: nil, busyRatio: ratios?.life, busyRatioWhilePending: ratios?.whilePending)
                return metrics.exposition()
            }),
            host: host, port: port, banner: "TurboServe worker \(id) probes on http://\(host):\(port)  (/healthz, /readyz, /metrics)")
        let engine = workers.service(workerID: id, device: device ?? settings.engines.devices.first ?? "auto", readiness: readiness)
        try await composition.run([probes] + composition.workerCompanions(pool: pool, listening: wake == .signals) + [engine])
    }

    /// The pod's name in Kubernetes (`POD_NAME` from the downward API, else `HOSTNAME`), else the host's name.
    static func defaultID(_ environment: [String: String]) -> String {
        environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOSTNAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ProcessInfo.processInfo.hostName
    }
}
