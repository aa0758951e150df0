import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain

/// The video endpoints against the in-memory artifact store: no file system anywhere. Uploads are put through the
/// store, content (whole, ranged, thumbnail) is streamed from it, and DELETE removes every artifact of the job.
struct ArtifactServingTests {
    let store = InMemoryJobStore()
    let artifacts = InMemoryArtifactStore()
    let video = ArtifactKey.video(of: "video_1")!
    let thumbnail = ArtifactKey.thumbnail(of: "video_1")!

    func app() -> some ApplicationProtocol {
        let api = VideoAPI(store: store, artifacts: artifacts, makeJobID: { "video_1" }, randomSeed: { 42 })
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    /// Runs `video_1` to success with `videoBytes` and a thumbnail stored as a worker would store them.
    func succeed(videoBytes: Data) async throws {
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
        for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
            _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
        }
        try await artifacts.put(videoBytes, at: video)
        try await artifacts.put(Data([0xFF, 0xD8, 0xFF]), at: thumbnail)
        _ = try await store.complete("video_1", worker: "w", videoPath: artifacts.reference(for: video), thumbnailPath: artifacts.reference(for: thumbnail))
    }

    @Test func anUploadGoesIntoTheStoreAndTheJobNamesItsReference() async throws {
        let form = Multipart(fields: ["prompt": "waves", "model": "tiny-i2v", "num_inference_steps": "1"], file: ("input_reference", "in.png", "image/png", TestImages.tinyPNG))
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                #expect(response.status == .ok)
            }
        }
        let upload = ArtifactKey(.upload, name: "video_1", fileExtension: "png")!
        #expect(try await store.get("video_1")?.spec.imagePath == artifacts.reference(for: upload))
        #expect(try await artifacts.data(of: upload) == Data(TestImages.tinyPNG))
    }

    @Test func contentIsStreamedFromTheStoreWholeAndByRange() async throws {
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p", "steps": 1}"#)) { #expect($0.status == .ok) }
            try await succeed(videoBytes: bytes)
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == "300000")
                #expect(Data(buffer: response.body) == bytes)
            }
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get, headers: [.range: "bytes=262140-262150"]) { (response: TestResponse) throws in
                #expect(response.status == .partialContent)
                #expect(response.headers[.contentRange] == "bytes 262140-262150/300000")
                #expect(Data(buffer: response.body) == bytes[262_140...262_150])
            }
            try await client.execute(uri: "/v1/videos/video_1/content?variant=thumbnail", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok && response.headers[.contentType] == "image/jpeg")
                #expect(Array(buffer: response.body) == [0xFF, 0xD8, 0xFF])
            }
        }
    }

    @Test func contentGoneFromTheStoreIsNotFound() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p", "steps": 1}"#)) { #expect($0.status == .ok) }
            try await succeed(videoBytes: Data([1, 2, 3]))
            try await artifacts.delete(video)
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func deleteRemovesEveryArtifactOfTheJob() async throws {
        let form = Multipart(fields: ["prompt": "waves", "model": "tiny-i2v", "num_inference_steps": "1"], file: ("input_reference", "in.png", "image/png", TestImages.tinyPNG))
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { #expect($0.status == .ok) }
            try await succeed(videoBytes: Data([1, 2, 3]))
            #expect(artifacts.keys.count == 3)
            try await client.execute(uri: "/v1/videos/video_1", method: .delete) { (response: TestResponse) throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get) { #expect($0.status == .notFound) }
        }
        #expect(artifacts.keys.isEmpty)
    }
}
