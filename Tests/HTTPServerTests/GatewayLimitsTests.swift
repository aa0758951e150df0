import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// The gateway's limits: the bounded queue (429 `queue_full` with `Retry-After`, nothing stored) and retention
/// (expired content is 404 `video_expired`; the record stays).
struct GatewayLimitsTests {
    @Test func aFullQueueAnswers429AndStoresNothing() async throws {
        let store = InMemoryJobStore()
        var limits = VideoAPI.Limits()
        limits.maxQueuedJobs = 2
        let counter = Counter((1...5).map { "video_\($0)" })
        let uploads = try ScratchFolder("turboserve-uploads")
        defer { uploads.remove() }
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads.url), limits: limits, makeJobID: { JobID(counter.next()) })
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            for expected in [HTTPResponse.Status.ok, .ok, .tooManyRequests] {
                try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p"}"#)) { (response: TestResponse) throws in
                    #expect(response.status == expected)
                    guard expected == .tooManyRequests else { return }
                    #expect(response.headers[.retryAfter] != nil)
                    let error = try response.apiError()
                    #expect(error["code"] as? String == "queue_full" && error["type"] as? String == "rate_limit_error")
                }
            }
        }
        #expect(try await store.countByPhase() == [.queued: 2])
        #expect(try await store.get("video_3") == nil)
    }

    @Test func anExpiredVideoIs404VideoExpiredAndItsRecordStays() async throws {
        let store = InMemoryJobStore()
        var limits = VideoAPI.Limits()
        limits.retention = .seconds(3600)
        let artifacts = try ScratchFolder("turboserve-retention")
        defer { artifacts.remove() }
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: artifacts.url), limits: limits, makeJobID: { "video_1" })
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p", "steps": 1}"#))
            _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
            for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            }
            let done = try await store.complete("video_1", worker: "w", videoPath: "/gone.mp4", thumbnailPath: "/gone.jpg")
            try await client.execute(uri: "/v1/videos/video_1", method: .get) { (response: TestResponse) throws in
                let video = try response.jsonObject()
                #expect(video["expires_at"] as? Int == Int(done.completedAt!.timeIntervalSince1970) + 3600)
            }
            let expired = try await store.markExpired("video_1")
            for variant in ["video", "thumbnail"] {
                try await client.execute(uri: "/v1/videos/video_1/content?variant=\(variant)", method: .get) { (response: TestResponse) throws in
                    #expect(response.status == .notFound)
                    let error = try response.apiError()
                    #expect(error["code"] as? String == "video_expired" && error["param"] as? String == "video_id")
                }
            }
            try await client.execute(uri: "/v1/videos/video_1", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let video = try response.jsonObject()
                #expect(video["status"] as? String == "completed")
                #expect(video["expires_at"] as? Int == Int(expired.expiredAt!.timeIntervalSince1970))
            }
        }
    }
}
