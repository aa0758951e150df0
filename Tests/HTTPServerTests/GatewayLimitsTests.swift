import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain

/// Retention seen from the API: expired content is 404 `video_expired`; the record stays.
struct GatewayLimitsTests {
    @Test func anExpiredVideoIs404VideoExpiredAndItsRecordStays() async throws {
        let store = InMemoryJobStore()
        let api = VideoAPI(store: store, uploadsDirectory: FileManager.default.temporaryDirectory, makeJobID: { "video_1" })
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: SyncVideoTests.json, body: ByteBuffer(string: #"{"prompt": "p", "steps": 1}"#))
            _ = try await store.claim(worker: "w", limit: 1, leaseUntil: .distantFuture)
            for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            }
            _ = try await store.complete("video_1", worker: "w", videoPath: "/gone.mp4", thumbnailPath: "/gone.jpg")
            _ = try await store.markExpired("video_1")
            for variant in ["video", "thumbnail"] {
                try await client.execute(uri: "/v1/videos/video_1/content?variant=\(variant)", method: .get) { (response: TestResponse) throws in
                    #expect(response.status == .notFound)
                    let error = try #require((try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["error"] as? [String: Any])
                    #expect(error["code"] as? String == "video_expired" && error["param"] as? String == "video_id")
                }
            }
            try await client.execute(uri: "/v1/videos/video_1", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect((try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["status"] as? String == "completed")
            }
        }
    }
}
