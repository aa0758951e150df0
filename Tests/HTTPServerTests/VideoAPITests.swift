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

/// The public API through the router, against the in-memory store: OpenAI shapes, extra fields, errors that name
/// their field, idempotency, pagination, content with ranges.
struct VideoAPITests {
    let store = InMemoryJobStore()
    let scratch: ScratchFolder
    var uploads: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-uploads") }

    func app(ids: [String] = (1...50).map { "video_\($0)" }) -> some ApplicationProtocol {
        let counter = Counter(ids)
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), makeJobID: { JobID(counter.next()) }, randomSeed: { 42 })
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    func errorBody(_ response: TestResponse) throws -> [String: Any] {
        try #require(try json(response)["error"] as? [String: Any])
    }

    @Test func createReturnsAnOpenAIVideoObjectWithTurboServeExtras() async throws {
        try await app().test(.router) { client in
            let body = #"{"prompt": "a fox", "model": "tiny-t2v", "steps": 2, "seed": 7, "size": "112x64", "num_frames": 9}"#
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let video = try json(response)
                #expect(video["id"] as? String == "video_1")
                #expect(video["object"] as? String == "video")
                #expect(video["status"] as? String == "queued")
                #expect(video["progress"] as? Int == 0)
                #expect(video["size"] as? String == "112x64")
                #expect(video["seconds"] as? String == "0.50")
                #expect(video["steps"] as? Int == 2 && video["seed"] as? Int == 7)
                #expect(video["created_at"] is Int)
            }
            try await client.execute(uri: "/v1/videos/video_1", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try json(response)["num_frames"] as? Int == 9)
            }
        }
        #expect(try await store.get("video_1")?.spec.frames == 9)
    }

    @Test func multipartCreateWithAnImageMakesAnI2VJob() async throws {
        let png = TestImages.tinyPNG
        let form = Multipart(fields: ["prompt": "waves", "model": "tiny-i2v", "seconds": "1"], file: ("input_reference", "in.png", "image/png", png))
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try json(response)["model"] as? String == "tiny-i2v")
            }
        }
        let record = try #require(try await store.get("video_1"))
        let path = try #require(record.spec.imagePath)
        #expect(FileManager.default.contents(atPath: path) == Data(png))
        #expect(record.spec.frames == 17)
    }

    @Test(arguments: [
        (#"{"prompt": "p", "model": "nope"}"#, "model"),
        (#"{"prompt": "p", "steps": 0}"#, "steps"),
        (#"{"prompt": "p", "steps": 5}"#, "steps"),
        (#"{"prompt": "p", "num_frames": 10}"#, "num_frames"),
        (#"{"prompt": "p", "size": "1920x1080"}"#, "size"),
        (#"{"prompt": "p", "steps": "four"}"#, "steps"),
        (#"{"prompt": "p", "seed": {"a": 1}}"#, "seed"),
        (#"{"model": "tiny-t2v"}"#, "prompt"),
        (#"{"prompt": "p", "model": "tiny-i2v"}"#, "input_reference"),
    ])
    func invalidFieldsGet400NamingTheField(body: String, field: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                let error = try errorBody(response)
                #expect(error["param"] as? String == field)
                #expect(error["type"] as? String == "invalid_request_error")
                #expect((error["message"] as? String)?.isEmpty == false)
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test func malformedJSONAndWrongContentTypeAre400() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"prompt\": ")) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try errorBody(response)["code"] as? String == "malformed_request")
            }
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi")) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try errorBody(response)["param"] as? String == "Content-Type")
            }
        }
    }

    @Test func nonImageAndOversizeUploadsAreRefused() async throws {
        let text = Multipart(fields: ["prompt": "p", "model": "tiny-i2v"], file: ("input_reference", "a.png", "image/png", Array("not an image".utf8)))
        let huge = Multipart(fields: ["prompt": "p", "model": "tiny-i2v"], file: ("input_reference", "a.png", "image/png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 17 << 20)))
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: text.contentType], body: text.body) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try errorBody(response)["param"] as? String == "input_reference")
            }
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: huge.contentType], body: huge.body) { (response: TestResponse) throws in
                #expect(response.status == .contentTooLarge)
            }
        }
        #expect(try await store.countByPhase().isEmpty)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: uploads.path))?.isEmpty ?? true)
    }

    @Test func idempotencyKeyReplaysTheSameJob() async throws {
        let counter = Counter((1...10).map { "video_\($0)" })
        let randomSeeds = Counter((1...10).map(String.init))
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), makeJobID: { JobID(counter.next()) }, randomSeed: { Int64(randomSeeds.next())! })
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            let headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "abc"]
            var ids: [String] = []
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/videos", method: .post, headers: headers, body: ByteBuffer(string: #"{"prompt": "p"}"#)) { (response: TestResponse) throws in
                    ids.append(try json(response)["id"] as? String ?? "")
                }
            }
            #expect(ids == ["video_1", "video_1"])
            try await client.execute(uri: "/v1/videos", method: .post, headers: headers, body: ByteBuffer(string: #"{"prompt": "other"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test func listPagesWithCursor() async throws {
        try await app().test(.router) { client in
            for i in 0..<5 {
                try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p\#(i)"}"#))
            }
            try await client.execute(uri: "/v1/videos?limit=2", method: .get) { (response: TestResponse) throws in
                let page = try json(response)
                #expect(page["object"] as? String == "list")
                #expect((page["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["video_5", "video_4"])
                #expect(page["has_more"] as? Bool == true && page["last_id"] as? String == "video_4")
            }
            try await client.execute(uri: "/v1/videos?limit=2&after=video_4", method: .get) { (response: TestResponse) throws in
                #expect((try json(response)["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["video_3", "video_2"])
            }
            try await client.execute(uri: "/v1/videos?limit=0", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try errorBody(response)["param"] as? String == "limit")
            }
        }
    }

    @Test func unknownIdsAre404AndDeleteCancelsThenHides() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos/video_nope", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
                #expect(try errorBody(response)["param"] as? String == "video_id")
            }
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p"}"#))
            try await client.execute(uri: "/v1/videos/video_1", method: .delete) { (response: TestResponse) throws in
                #expect(try json(response)["deleted"] as? Bool == true)
            }
            for uri in ["/v1/videos/video_1", "/v1/videos/video_1/content", "/v1/videos/video_1/events"] {
                try await client.execute(uri: uri, method: .get) { (response: TestResponse) throws in
                    #expect(response.status == .notFound)
                }
            }
            try await client.execute(uri: "/v1/videos/video_1", method: .delete) { #expect($0.status == .notFound) }
        }
        let record = try #require(try await store.get("video_1"))
        #expect(record.phase == .cancelled && record.deletedAt != nil)
    }

    @Test func contentSupportsRanges() async throws {
        let file = uploads.appendingPathComponent("video_1.mp4")
        let bytes = (0..<100).map { UInt8($0) }
        try Data(bytes).write(to: file)
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p", "steps": 1}"#))
            _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
            for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            }
            _ = try await store.complete("video_1", worker: "w", videoPath: file.path, thumbnailPath: nil)
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .ok && Array(buffer: response.body) == bytes)
                #expect(response.headers[.contentType] == "video/mp4")
            }
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get, headers: [.range: "bytes=10-19"]) { (response: TestResponse) throws in
                #expect(response.status == .partialContent)
                #expect(Array(buffer: response.body) == Array(bytes[10...19]))
                #expect(response.headers[.contentRange] == "bytes 10-19/100")
            }
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get, headers: [.range: "bytes=-5"]) { (response: TestResponse) throws in
                #expect(Array(buffer: response.body) == Array(bytes[95...]))
            }
            try await client.execute(uri: "/v1/videos/video_1/content", method: .get, headers: [.range: "bytes=200-"]) { (response: TestResponse) throws in
                #expect(response.status == .rangeNotSatisfiable)
            }
            try await client.execute(uri: "/v1/videos/video_1/content?variant=poster", method: .get) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                #expect(try errorBody(response)["param"] as? String == "variant")
            }
        }
    }

    @Test func aFullDiskRefusesNewJobsWith503() async throws {
        var limits = VideoAPI.Limits()
        limits.minFreeDiskBytes = Int64.max
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), limits: limits)
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .serviceUnavailable)
                #expect(try errorBody(response)["code"] as? String == "disk_full")
                #expect(response.headers[.retryAfter] != nil)
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }
}

/// Hands out the given ids in order (thread-safe).
final class Counter: Sendable {
    private let ids: Mutex<[String]>
    init(_ ids: [String]) { self.ids = Mutex(ids) }
    func next() -> String { ids.withLock { $0.removeFirst() } }
}

/// Builds a multipart/form-data body the way HTTP clients do.
struct Multipart {
    let boundary = "----turboserve-test-boundary"
    let body: ByteBuffer
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    init(fields: [String: String], file: (name: String, filename: String, type: String, data: [UInt8])?) {
        var bytes: [UInt8] = []
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8)
            bytes += file.data + Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        body = ByteBuffer(bytes: bytes)
    }
}
