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

/// Access is decided in one place, on the canonical path: odd spellings of `/v1/...` cannot skip the key check,
/// and the operator routes (`/v1/operations`, `/metrics`) need an operator key that tenant keys are not.
struct OperatorAccessTests {
    let store = InMemoryJobStore()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-operator") }
    static let tenantKey: HTTPFields = [.authorization: "Bearer sk-acme-0001"]
    static let operatorKey: HTTPFields = [.authorization: "Bearer op-secret-0001"]

    func app(metricsOpen: Bool = false, operators: Set<String> = ["op-secret-0001"]) -> some ApplicationProtocol {
        let keys = APIKeys(["sk-acme-0001": "acme", "sk-globex-01": "globex"], operators: operators, metricsOpen: metricsOpen)
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url), keys: keys)
        return Application(router: HTTPApplication.buildRouter(api: api, metrics: { "turboserve_up 1\n" }))
    }

    @Test(arguments: ["//v1/operations", "///v1/operations", "//v1//operations", "//v1/models", "/v1//models", "/v1/./models",
                      "/v1/x/../operations", "/%76%31/operations", "/V1/operations", "/v1/videos/", "//v1/videos", "/v1/%2e%2e/v1/models"])
    func oddSpellingsOfV1NeverAnswerWithoutAKey(path: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: path, method: .get) { (response: TestResponse) throws in
                #expect([401, 404].contains(response.status.code), "\(path): \(response.status)")
                #expect(try response.apiError()["code"] as? String != nil)
            }
            // Even with a valid key, a non-canonical spelling is no route.
            try await client.execute(uri: path, method: .get, headers: Self.tenantKey) { (response: TestResponse) throws in
                #expect([401, 403, 404].contains(response.status.code), "\(path) with a key: \(response.status)")
            }
        }
    }

    @Test func operationsNeedAnOperatorKeyAndATenantKeyIsForbidden() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/operations", method: .get, headers: Self.tenantKey) { (response: TestResponse) throws in
                #expect(response.status == .forbidden)
                let error = try response.apiError()
                #expect(error["code"] as? String == "forbidden" && error["type"] as? String == "permission_error")
            }
            try await client.execute(uri: "/v1/operations", method: .get, headers: Self.operatorKey) { #expect($0.status == .ok) }
            // An operator key is not a tenant's key.
            try await client.execute(uri: "/v1/videos", method: .get, headers: Self.operatorKey) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func metricsNeedAnOperatorKeyUnlessConfiguredOpen() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.tenantKey) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.operatorKey) { #expect($0.status == .ok) }
            try await client.execute(uri: "//metrics", method: .get) { #expect($0.status == .notFound) }
        }
        try await app(metricsOpen: true).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/operations", method: .get) { #expect($0.status == .unauthorized) }
        }
        // Tenant keys without operator keys: nobody reads the operator routes with a tenant key.
        try await app(operators: []).test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get, headers: Self.tenantKey) { #expect($0.status == .forbidden) }
        }
    }

    @Test func theOperationsPayloadNamesNoServerPath() async throws {
        let spec = try JobValidator().validate(JobSpec(prompt: "p"), randomSeed: { 1 })
        _ = try await store.create(NewJob(id: "video_f", tenant: "acme", spec: spec))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
        _ = try await store.fail("video_f", worker: "w", code: "engine_error", message: "cannot open /srv/turboserve/var/uploads/video_f.png: no such file")
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/operations", method: .get, headers: Self.operatorKey) { (response: TestResponse) throws in
                let text = String(buffer: response.body)
                #expect(text.contains("video_f"))
                #expect(!text.contains("/srv/") && !text.contains("uploads/"))
            }
            try await client.execute(uri: "/v1/videos/video_f", method: .get, headers: Self.tenantKey) { (response: TestResponse) throws in
                #expect(!String(buffer: response.body).contains("/srv/"))
            }
        }
    }
}
