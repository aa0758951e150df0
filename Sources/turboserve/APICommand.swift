import ArgumentParser
import Foundation
import HTTPServer
import ServiceLifecycle

/// `turboserve api`: one stateless HTTP replica of a fleet — the API, the web UI, SSE (followed in the shared store
/// through its signals, with polling as the fallback), its own `/metrics`, `/healthz` and `/readyz` (ready while
/// the store answers). It runs no engine; it refuses a store other processes cannot share.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Run one stateless API replica of a fleet (PostgreSQL store; workers run as `turboserve worker`).")

    @OptionGroup var options: ConfigOption
    @Option(help: "Address to listen on (overrides server.host).") var host: String?
    @Option(help: "Port to listen on (overrides server.port).") var port: Int?

    func run() async throws {
        var settings = try options.load()
        if let host { settings.server.host = host }
        if let port { settings.server.port = port }
        let composition = try await Composition.build(.api, settings: settings)
        let router = composition.apiRouter(api: composition.videoAPI(), pool: nil, readiness: { [storeHealth = composition.connection.health] in
            await NotReadyReason.first(engineReady: true, storeHealth: storeHealth)
        })
        let (host, port) = (settings.server.host, settings.server.port)
        let listener = composition.listener(
            router: router, host: host, port: port,
            banner: "TurboServe api is listening on http://\(host):\(port)  (API: /v1/videos, metrics: /metrics, health: /healthz)")
        try await composition.run([listener] + composition.retention())
    }
}
