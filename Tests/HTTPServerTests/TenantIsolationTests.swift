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

/// API keys: `/v1/*` needs a valid Bearer key, jobs are stored under the key's tenant, and a tenant sees only its
/// own jobs (another tenant's id answers 404 exactly like a missing one). Without keys, auth is off.
struct TenantIsolationTests {
    let store = InMemoryJobStore()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-tenants") }
    static let acme: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-acme-0001"]
    static let globex: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-globex-01"]

    func app(keys: APIKeys = APIKeys(["sk-acme-0001": "acme", "sk-globex-01": "globex"])) -> some ApplicationProtocol {
        let counter = Counter((1...10).map { "video_\($0)" })
        var limits = VideoAPI.Limits()
        limits.syncTimeout = .milliseconds(10)
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url), limits: limits, makeJobID: { JobID(counter.next()) }, keys: keys)
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    func error(_ response: TestResponse) throws -> [String: Any] {
        try response.apiError()
    }

    func ids(_ response: TestResponse) throws -> [String] {
        let list = try response.jsonObject()
        return (list["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
    }

    @Test func missingOrUnknownKeysAre401AndOpenRoutesStayOpen() async throws {
        try await app().test(.router) { client in
            for headers: HTTPFields in [[.contentType: "application/json"], [.contentType: "application/json", .authorization: "Bearer sk-wrong-key"], [.contentType: "application/json", .authorization: "sk-acme-0001"]] {
                try await client.execute(uri: "/v1/videos", method: .post, headers: headers, body: ByteBuffer(string: #"{"prompt": "p"}"#)) { (response: TestResponse) throws in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    let body = try response.apiError()
                    #expect(body["code"] as? String == "invalid_api_key" && body["type"] as? String == "authentication_error")
                }
            }
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p"}"#)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/videos", method: .get) { #expect($0.status == .unauthorized) }
            for open in ["/healthz", "/readyz", "/openapi.json"] {
                try await client.execute(uri: open, method: .get) { #expect($0.status == .ok) }
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }

    @Test func eachTenantSeesOnlyItsOwnJobs() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: Self.acme, body: ByteBuffer(string: #"{"prompt": "acme's"}"#))
            try await client.execute(uri: "/v1/videos", method: .post, headers: Self.globex, body: ByteBuffer(string: #"{"prompt": "globex's"}"#))
            try await client.execute(uri: "/v1/videos", method: .get, headers: Self.acme) { (response: TestResponse) throws in #expect(try ids(response) == ["video_1"]) }
            try await client.execute(uri: "/v1/videos", method: .get, headers: Self.globex) { (response: TestResponse) throws in #expect(try ids(response) == ["video_2"]) }
            let routes: [(String, HTTPRequest.Method)] = [
                ("/v1/videos/video_1", .get), ("/v1/videos/video_1/content", .get), ("/v1/videos/video_1/content?variant=thumbnail", .get),
                ("/v1/videos/video_1/content?variant=video", .get), ("/v1/videos/video_1/events", .get), ("/v1/videos/video_1", .delete),
            ]
            for (uri, method) in routes {
                try await client.execute(uri: uri, method: method, headers: Self.globex) { (response: TestResponse) throws in
                    #expect(response.status == .notFound, "\(method) \(uri)")
                    #expect(try response.apiError()["message"] as? String == "no video with id 'video_1'")
                }
            }
            // A foreign cursor answers exactly like an unknown one.
            var unknownCursor = ""
            try await client.execute(uri: "/v1/videos?after=video_none", method: .get, headers: Self.globex) { (response: TestResponse) throws in
                unknownCursor = try response.apiError()["code"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/videos?after=video_1", method: .get, headers: Self.globex) { (response: TestResponse) throws in
                #expect(response.status == .notFound)
                #expect(try response.apiError()["code"] as? String == unknownCursor)
            }
            // Sync under acme's Idempotency-Key creates globex's own job, never returns acme's.
            var keyed = Self.globex
            keyed[HTTPField.Name("Idempotency-Key")!] = "shared-key"
            var acmeKeyed = Self.acme
            acmeKeyed[HTTPField.Name("Idempotency-Key")!] = "shared-key"
            try await client.execute(uri: "/v1/videos", method: .post, headers: acmeKeyed, body: ByteBuffer(string: #"{"prompt": "acme's"}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/videos/sync", method: .post, headers: keyed, body: ByteBuffer(string: #"{"prompt": "acme's"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .accepted)
                #expect(response.headers[SyncVideoTests.videoID] == "video_4")
            }
            #expect(try await store.get("video_4")?.tenant == "globex")
            try await client.execute(uri: "/v1/videos/video_1", method: .get, headers: Self.acme) { (response: TestResponse) throws in
                #expect(response.status == .ok)
            }
        }
        let acmes = try await store.get("video_1")
        #expect(acmes?.tenant == "acme" && acmes?.phase == .queued)
        #expect(try await store.get("video_2")?.tenant == "globex")
    }

    @Test func withoutKeysAuthIsOffAndJobsAreTenantDefault() async throws {
        _ = try await store.create(NewJob(id: "video_old", tenant: "acme", spec: try JobValidator().validate(JobSpec(prompt: "p"), randomSeed: { 0 })))
        try await app(keys: APIKeys()).test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p"}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/videos", method: .get, headers: [.authorization: "Bearer anything"]) { (response: TestResponse) throws in #expect(try ids(response) == ["video_1", "video_old"]) }
        }
        #expect(try await store.get("video_1")?.tenant == .default)
    }
}
