import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import ServiceLifecycleTestKit
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// `POST /v1/videos/sync`: the MP4 when the job succeeds, the job's own error when it fails, 202 with the video when
/// the wait runs out. The test plays the worker and the store's signals: once the handler has subscribed, it drives
/// the store and signals each change, as a store that publishes does.
struct SyncVideoTests {
    let store = InMemoryJobStore()
    let signals = LocalJobSignals()
    let hub: ProgressHub
    let scratch: ScratchFolder
    var uploads: URL { scratch.url }
    init() throws {
        hub = ProgressHub(store: store, signals: signals)
        scratch = try ScratchFolder("turboserve-sync")
    }

    static let json: HTTPFields = [.contentType: "application/json"]
    static let videoID = HTTPField.Name("X-Video-Id")!

    func app(syncTimeout: Duration = .seconds(30)) -> some ApplicationProtocol {
        var limits = VideoAPI.Limits()
        limits.syncTimeout = syncTimeout
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), limits: limits, makeJobID: { "video_1" }, progress: hub)
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    /// Waits until the handler listens, then runs job `video_1` to its end: `succeeded` with `file`, or `failed`.
    func playWorker(succeedingWith file: URL?) -> Task<Void, any Error> {
        Task { [store, hub, signals] in
            while hub.subscriberCount == 0 { await Task.yield() }
            _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
            _ = try await store.advance("video_1", worker: "w", to: .admitted, reason: nil)
            signals.publish(.changed("video_1"))
            guard let file else {
                _ = try await store.fail("video_1", worker: "w", code: "engine_out_of_memory", message: "the engine ran out of memory")
            signals.publish(.changed("video_1"))
                return
            }
            for state: JobState in [.denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            signals.publish(.changed("video_1"))
            }
            _ = try await store.complete("video_1", worker: "w", videoPath: file.path, thumbnailPath: nil)
            signals.publish(.changed("video_1"))
        }
    }

    @Test func answersWithTheMP4OnceTheJobSucceeds() async throws {
        let file = uploads.appendingPathComponent("video_1.mp4")
        let bytes = (0..<64).map { UInt8($0) }
        try Data(bytes).write(to: file)
        let worker = playWorker(succeedingWith: file)
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"prompt": "a fox", "steps": 1}"#)) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "video/mp4")
                #expect(response.headers[Self.videoID] == "video_1")
                #expect(Array(buffer: response.body) == bytes)
            }
        }
        try await worker.value
    }

    @Test func aFailedJobAnswersWithItsOwnErrorAndId() async throws {
        let worker = playWorker(succeedingWith: nil)
        try await app().test(.router) { client in
            let form = Multipart(fields: ["prompt": "a fox", "num_inference_steps": "1"], file: nil)
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                #expect(response.status == .internalServerError)
                #expect(response.headers[Self.videoID] == "video_1")
                let error = try response.apiError()
                #expect(error["code"] as? String == "engine_out_of_memory")
                #expect(error["message"] as? String == "the engine ran out of memory")
            }
        }
        try await worker.value
    }

    @Test func aTimedOutWaitIs202WithTheVideoAndTheJobKeepsItsPlace() async throws {
        try await app(syncTimeout: .milliseconds(20)).test(.router) { client in
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"prompt": "a fox"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .accepted)
                #expect(response.headers[Self.videoID] == "video_1")
                #expect(response.headers[.location] == "/v1/videos/video_1")
                let video = try response.jsonObject()
                #expect(video["id"] as? String == "video_1" && video["status"] as? String == "queued")
            }
        }
        #expect(try await store.get("video_1")?.phase == .queued)
        #expect(hub.subscriberCount == 0)
    }

    /// A waiting request never holds the server up: SIGTERM's graceful shutdown answers it as a timeout would.
    @Test(.timeLimit(.minutes(1))) func gracefulShutdownEndsTheWaitWith202AndTheJobKeepsItsPlace() async throws {
        try await testGracefulShutdown { trigger in
            let shutdown = Task { [hub] in
                while hub.subscriberCount == 0 { await Task.yield() }
                trigger.triggerGracefulShutdown()
            }
            try await app(syncTimeout: .seconds(3600)).test(.router) { client in
                try await client.execute(uri: "/v1/videos/sync", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"prompt": "a fox"}"#)) { (response: TestResponse) throws in
                    #expect(response.status == .accepted)
                    #expect(response.headers[.location] == "/v1/videos/video_1")
                    #expect(try response.jsonObject()["status"] as? String == "queued")
                }
            }
            await shutdown.value
        }
        #expect(try await store.get("video_1")?.phase == .queued)
    }

    @Test func anInvalidRequestIsRefusedBeforeAnyJobExists() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"prompt": "p", "steps": 9}"#)) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(response.headers[Self.videoID] == nil)
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test func aReplayOfAnExpiredVideoIs404VideoExpired() async throws {
        let headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "once"]
        let body = #"{"prompt": "a fox", "steps": 1}"#
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: headers, body: ByteBuffer(string: body)) { #expect($0.status == .ok) }
            _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
            for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            }
            _ = try await store.complete("video_1", worker: "w", videoPath: "/gone.mp4", thumbnailPath: nil)
            _ = try await store.markExpired("video_1")
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: headers, body: ByteBuffer(string: body)) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
                #expect(response.headers[Self.videoID] == "video_1")
                let error = try response.apiError()
                #expect(error["code"] as? String == "video_expired")
            }
        }
    }

    @Test func aJobCancelledWhileWaitingIs409Cancelled() async throws {
        let canceller = Task { [store, hub, signals] in
            while hub.subscriberCount == 0 { await Task.yield() }
            _ = try await store.cancel("video_1") // what DELETE does
            signals.publish(.cancelled("video_1"))
        }
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"prompt": "a fox"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .conflict)
                #expect(response.headers[Self.videoID] == "video_1")
                let error = try response.apiError()
                #expect(error["code"] as? String == "cancelled")
            }
        }
        try await canceller.value
    }
}
