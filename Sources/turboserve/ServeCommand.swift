import ArgumentParser
import Foundation
import HTTPServer
import Hummingbird
import JobStore
import WorkerRuntime

/// `turboserve serve`: the single-node server — the OpenAI-compatible API on an embedded SQLite store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the video API on this machine (SQLite store, local outputs).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(name: .customLong("data-dir"), help: "Where the database, uploads and videos live.") var dataDirectory = "./var"

    func run() async throws {
        let data = URL(fileURLWithPath: dataDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let store = try SQLiteJobStore(path: data.appendingPathComponent("turboserve.sqlite").path)
        let api = VideoAPI(store: store, uploadsDirectory: data.appendingPathComponent("uploads"))
        let metrics = ServiceMetrics()
        let router = HTTPApplication.buildRouter(api: api, metrics: {
            await metrics.refresh(store: store, busyRatio: nil)
            return metrics.exposition()
        })
        let (host, port) = (self.host, self.port)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "TurboServe"),
            onServerRunning: { _ in
                // Written unbuffered so it shows at once even when stdout is a pipe (systemd, CI logs).
                let line = "TurboServe is listening on http://\(host):\(port)  (API: /v1/videos, health: /healthz)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            })
        try await app.runService()
    }
}
