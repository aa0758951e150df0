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

/// Idempotency-Key with uploads and under concurrency, and the key's own bounds.
struct IdempotencyUploadTests {
    let store = InMemoryJobStore()
    let scratch: ScratchFolder
    var uploads: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-idem") }
    static let key = HTTPField.Name("Idempotency-Key")!

    func app() -> some ApplicationProtocol {
        let counter = Counter((1...100).map { "video_\($0)" })
        var limits = VideoAPI.Limits()
        limits.maxConcurrentUploads = 32
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), limits: limits, makeJobID: { JobID(counter.next()) })
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    func i2v(_ image: [UInt8], prompt: String = "waves") -> Multipart {
        Multipart(fields: ["prompt": prompt, "model": "tiny-i2v"], file: ("input_reference", "in.png", "image/png", image))
    }

    @Test func anIdenticalI2VRetryReplaysTheFirstJobAndADifferentImageIs409() async throws {
        try await app().test(.router) { client in
            var ids: [String] = []
            for _ in 0..<2 {
                let form = i2v(TestImages.tinyPNG)
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType, Self.key: "retry-1"], body: form.body) { (response: TestResponse) throws in
                    #expect(response.status == .ok)
                    ids.append(try response.jsonObject()["id"] as? String ?? "")
                }
            }
            #expect(ids == ["video_1", "video_1"])
            for form in [i2v(TestImages.png(width: 2, height: 2)), i2v(TestImages.tinyPNG, prompt: "other")] {
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType, Self.key: "retry-1"], body: form.body) { (response: TestResponse) throws in
                    #expect(response.status == .conflict)
                    #expect(try response.apiError()["param"] as? String == "Idempotency-Key")
                }
            }
        }
        let path = try #require(try await store.get("video_1")?.spec.imagePath)
        #expect(FileManager.default.contents(atPath: path) == Data(TestImages.tinyPNG))
        #expect(try FileManager.default.contentsOfDirectory(atPath: uploads.path).count == 1)
    }

    @Test func twentyConcurrentCreatesWithOneKeyMakeExactlyOneJob() async throws {
        try await app().test(.router) { client in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let form = i2v(TestImages.tinyPNG)
                        return try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType, Self.key: "burst"], body: form.body) { (response: TestResponse) throws in
                            #expect(response.status == .ok)
                            return try response.jsonObject()["id"] as? String ?? ""
                        }
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
        }
        #expect(try await store.countByPhase() == [.queued: 1])
        let path = try #require(try await store.list(tenant: nil, after: nil, limit: 5, order: .newestFirst).jobs.first?.spec.imagePath)
        #expect(FileManager.default.contents(atPath: path) == Data(TestImages.tinyPNG))
    }

    @Test(arguments: [String(repeating: "k", count: 256), String(repeating: "k", count: 75_000), "has space", "", "naïve"])
    func aBadKeyIs400NamingTheHeaderAndIsNeverEchoed(key: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json", Self.key: key], body: ByteBuffer(string: #"{"prompt": "p"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                let error = try response.apiError()
                #expect(error["param"] as? String == "Idempotency-Key")
                #expect(key.count < 8 || !String(buffer: response.body).contains(key))
                #expect(response.body.readableBytes < 1_000)
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test func aKeyOf255BytesIsAccepted() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json", Self.key: String(repeating: "k", count: 255)], body: ByteBuffer(string: #"{"prompt": "p"}"#)) { #expect($0.status == .ok) }
        }
    }
}
