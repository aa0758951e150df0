import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Synchronization
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// The endpoints the web UI adds: its static files (content types, nothing outside the UI folder), the model
/// capabilities list, and the operations snapshot.
struct StaticUIFilesTests {
    let scratch: ScratchFolder
    var root: URL { scratch.url }
    var ui: URL { scratch.file("ui") }

    init() throws {
        scratch = try ScratchFolder("turboserve-ui")
        try FileManager.default.createDirectory(at: ui.appendingPathComponent("nested"), withIntermediateDirectories: true)
        try Data("<!doctype html><title>t</title>".utf8).write(to: ui.appendingPathComponent("index.html"))
        try Data("console.log(1)".utf8).write(to: ui.appendingPathComponent("app.js"))
        try Data("body{}".utf8).write(to: ui.appendingPathComponent("app.css"))
        try Data("x".utf8).write(to: ui.appendingPathComponent(".hidden.js"))
        try Data("x".utf8).write(to: ui.appendingPathComponent("nested/inner.js"))
        try Data("TOP-SECRET-CONTENT".utf8).write(to: root.appendingPathComponent("secret.js"))
        try FileManager.default.createSymbolicLink(at: ui.appendingPathComponent("escape.js"), withDestinationURL: root.appendingPathComponent("secret.js"))
    }

    func app(_ files: StaticUIFiles) -> some ApplicationProtocol {
        let api = VideoAPI(store: InMemoryJobStore(), artifacts: DirectoryArtifactStore(directory: root.appendingPathComponent("uploads")))
        return Application(router: HTTPApplication.buildRouter(api: api, ui: files))
    }

    @Test func servesTheIndexAndFilesWithTheirContentTypes() async throws {
        try await app(StaticUIFiles(directory: ui)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).hasPrefix("<!doctype html>"))
            }
            for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")] {
                try await client.execute(uri: "/ui/\(file)", method: .get) { (response: TestResponse) throws in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == type)
                }
            }
        }
    }

    @Test(arguments: ["/ui/..%2Fsecret.js", "/ui/%2E%2E%2Fsecret.js", "/ui/../secret.js", "/ui/.hidden.js", "/ui/escape.js",
                      "/ui/nested%2Finner.js", "/ui/nested/inner.js", "/ui/nested", "/ui/missing.js", "/ui/index"])
    func refusesAnythingButAPlainFileInsideTheFolder(uri: String) async throws {
        try await app(StaticUIFiles(directory: ui)).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
                #expect(!String(buffer: response.body).contains("TOP-SECRET-CONTENT"))
            }
        }
    }

    @Test func resolveKeepsToTheFolder() {
        let files = StaticUIFiles(directory: ui)
        #expect(files.resolve("app.js")?.path == ui.resolvingSymlinksInPath().appendingPathComponent("app.js").path)
        for name in ["../secret.js", "..", ".", "", "escape.js", "nested/inner.js", "/etc/passwd.js", "app.js\u{0}.html"] {
            #expect(files.resolve(name) == nil, "\(name) must not resolve")
        }
    }

    @Test func withoutAFolderTheIndexSaysHowToInstallIt() async throws {
        try await app(StaticUIFiles(directory: nil)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("TURBOSERVE_UI_DIR"))
            }
        }
    }

    @Test func locatePrefersTheEnvironmentThenAFolderAboveTheExecutable() throws {
        let executable = root.appendingPathComponent(".build/debug/turboserve")
        // A folder outside `root` with no ui/ in it.
        let nowhere = try ScratchFolder("turboserve-nowhere")
        defer { nowhere.remove() }
        let elsewhere = nowhere.url
        #expect(StaticUIFiles.locate(environment: ["TURBOSERVE_UI_DIR": "/opt/ui"], workingDirectory: elsewhere, executable: executable)?.path == "/opt/ui")
        #expect(StaticUIFiles.locate(environment: [:], workingDirectory: elsewhere, executable: executable)?.path == ui.path)
        #expect(StaticUIFiles.locate(environment: [:], workingDirectory: elsewhere, executable: elsewhere.appendingPathComponent("bin/turboserve")) == nil)
    }
}

struct ModelsEndpointTests {
    @Test func listsEveryAcceptedModelWithItsCapabilities() async throws {
        let validator = JobValidator(availableModels: ModelCatalog.all.filter(\.isTiny), defaultModel: "tiny-t2v")
        let artifacts = try ScratchFolder("turboserve-models")
        defer { artifacts.remove() }
        let api = VideoAPI(store: InMemoryJobStore(), validator: validator, artifacts: DirectoryArtifactStore(directory: artifacts.url))
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let list = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(list["object"] as? String == "list")
                let models = try #require(list["data"] as? [[String: Any]])
                #expect(models.map { $0["id"] as? String } == ["tiny-t2v", "tiny-i2v"])
                let t2v = models[0], i2v = models[1]
                #expect(t2v["object"] as? String == "model" && t2v["task"] as? String == "t2v" && t2v["is_default"] as? Bool == true)
                #expect(t2v["supports_boundary"] as? Bool == false && t2v["default_boundary"] == nil)
                #expect(t2v["steps"] as? [Int] == [1, 2, 3, 4] && t2v["default_steps"] as? Int == 4)
                #expect(t2v["attention"] as? [String] == ["original"])
                let resolutions = try #require(t2v["resolutions"] as? [[String: Any]])
                #expect((resolutions.first?["sizes"] as? [String: String])?["16:9"] == "112x64")
                #expect(i2v["task"] as? String == "i2v" && i2v["supports_input_reference"] as? Bool == true)
                #expect(i2v["supports_boundary"] as? Bool == true && i2v["default_boundary"] as? Double == 0.9)
                #expect(i2v["supports_adaptive_resolution"] as? Bool == true && i2v["default_sigma_max"] as? Double == 200)
            }
        }
    }
}

struct OperationsEndpointTests {
    let store = InMemoryJobStore()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-operations") }

    func job(_ id: JobID, priority: String = "standard") async throws {
        let spec = try JobValidator().validate(JobSpec(prompt: "p", steps: 2, priority: priority), randomSeed: { 1 })
        _ = try await store.create(NewJob(id: id, spec: spec))
    }

    @Test func reportsQueueOrderFailuresAndTheWorkersSnapshot() async throws {
        for id in ["v_done", "v_failed", "v_running"] { try await job(JobID(id)) }
        _ = try await store.claim(worker: "w", limit: 3, lease: .seconds(3600))
        for state in [JobState.admitted, .denoising(completed: 1, total: 2), .denoising(completed: 2, total: 2), .decoding, .muxing] {
            _ = try await store.advance("v_done", worker: "w", to: state, reason: nil)
        }
        _ = try await store.complete("v_done", worker: "w", videoPath: "/x.mp4", thumbnailPath: nil)
        _ = try await store.fail("v_failed", worker: "w", code: "engine_error", message: "the engine said no")
        _ = try await store.advance("v_running", worker: "w", to: .admitted, reason: nil)
        try await job("v_batch", priority: "batch")
        try await job("v_urgent", priority: "interactive")

        let activity = EngineActivity(
            worker: "node-0", runningStage: "step", runningJobs: ["v_running"], heldJobs: ["v_running"], residentModels: ["tiny-t2v"],
            timeline: [.init(stage: "load", startedAt: 100, seconds: 0.5, jobs: 0, ok: true)], busyRatio: 0.5, plansExecuted: 7)
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url))
        let heard = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded())
        try await Application(router: HTTPApplication.buildRouter(api: api, workers: { [WorkerHeartbeat(worker: "node-0", at: heard, activity: activity)] })).test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let ops = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(ops["queue_depth"] as? [String: Int] == ["interactive": 1, "standard": 0, "batch": 1])
                let unfinished = try #require(ops["unfinished"] as? [[String: Any]])
                #expect(unfinished.map { $0["id"] as? String } == ["v_running", "v_urgent", "v_batch"])
                #expect(unfinished.map { $0["queue_position"] as? Int } == [0, 1, 2])
                let etas = unfinished.compactMap { $0["eta_seconds"] as? Double }
                #expect(etas.count == 3 && etas == etas.sorted() && etas[0] >= 0)
                let failures = try #require(ops["recent_failures"] as? [[String: Any]])
                #expect(failures.map { $0["id"] as? String } == ["v_failed"])
                #expect(failures.first?["message"] as? String == "the engine said no")
                let workers = try #require(ops["workers"] as? [[String: Any]])
                #expect(workers.first?["resident_models"] as? [String] == ["tiny-t2v"])
                #expect(workers.first?["running_jobs"] as? [String] == ["v_running"])
                #expect((workers.first?["timeline"] as? [[String: Any]])?.first?["stage"] as? String == "load")
                #expect(workers.first?["last_heartbeat_at"] as? Double == heard.timeIntervalSince1970)
            }
        }
    }

    /// Without an override the fleet's workers come from the store's heartbeats, whichever process wrote them;
    /// a worker silent for longer than ten minutes is gone from the view.
    @Test func theFleetsWorkersComeFromTheStoresHeartbeats() async throws {
        let age = Mutex<TimeInterval>(700)
        let store = InMemoryJobStore(now: { Date().addingTimeInterval(-age.withLock { $0 }) })
        _ = try await store.heartbeat(worker: "gone", holding: [], lease: .seconds(60), activity: EngineActivity(worker: "gone"))
        age.withLock { $0 = 0 }
        for worker in ["worker-b", "worker-a"] {
            _ = try await store.heartbeat(worker: worker, holding: [], lease: .seconds(60), activity: EngineActivity(worker: worker, residentModels: ["tiny-t2v"], busyRatio: 0.25))
        }
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url))
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get) { (response: TestResponse) throws in
                let ops = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let workers = try #require(ops["workers"] as? [[String: Any]])
                #expect(workers.map { $0["worker"] as? String } == ["worker-a", "worker-b"])
                #expect(workers.allSatisfy { ($0["last_heartbeat_at"] as? Double ?? 0) > Date().timeIntervalSince1970 - 60 })
                #expect(workers.first?["busy_ratio"] as? Double == 0.25)
            }
        }
    }

    @Test func withoutFinishedJobsThereIsNoETA() async throws {
        try await job("v_1")
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url))
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get) { (response: TestResponse) throws in
                let ops = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let unfinished = try #require(ops["unfinished"] as? [[String: Any]])
                #expect(unfinished.count == 1 && unfinished[0]["eta_seconds"] == nil && ops["mean_run_seconds"] == nil)
                #expect(ops["workers"] as? [Any] != nil)
            }
        }
    }
}
