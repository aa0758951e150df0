import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Prometheus
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// Every answer that is an error keeps OpenAI's shape and names no server path: unknown routes (404), known
/// routes with another method (405 with `Allow`), path traversal in ids, variants and UI names; and the HTTP
/// metrics label requests by route pattern, never by raw path.
struct ErrorShapeTests {
    let store = InMemoryJobStore()
    let registry = PrometheusCollectorRegistry()
    /// The artifact root of this test alone, with the UI folder (`ui/`) in it.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-errors") }

    func app() -> some ApplicationProtocol {
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url))
        let ui = scratch.file("ui")
        try? FileManager.default.createDirectory(at: ui, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: ui.appendingPathComponent("index.html").path, contents: Data("<html></html>".utf8))
        return Application(router: HTTPApplication.buildRouter(api: api, ui: StaticUIFiles(directory: ui), registry: registry))
    }

    func expectOpenAIError(_ response: TestResponse, status: HTTPResponse.Status, code: String, _ comment: String = "") throws {
        #expect(response.status == status, "\(comment)")
        let error = try response.apiError()
        #expect(error["code"] as? String == code, "\(comment)")
        #expect(error["message"] is String && error["type"] is String && error.keys.contains("param"), "\(comment)")
        let text = String(buffer: response.body)
        #expect(!text.contains("/tmp/") && !text.contains("/var/") && !text.contains("/etc/"), "\(comment): \(text)")
    }

    @Test func anUnknownRouteIs404InOpenAIShape() async throws {
        try await app().test(.router) { client in
            for path in ["/nope", "/v1/nope", "/v1/videos/a/b/c", "/ui"] {
                try await client.execute(uri: path, method: .get) { try expectOpenAIError($0, status: .notFound, code: "not_found", path) }
            }
        }
    }

    @Test(arguments: [("/v1/videos", HTTPRequest.Method.put, "GET, POST"), ("/v1/videos/x", .trace, "DELETE, GET"), ("/v1/models", .post, "GET"), ("/healthz", .trace, "GET"), ("/v1/videos/sync", .get, "POST")])
    func aKnownPathWithAnotherMethodIs405WithAllow(path: String, method: HTTPRequest.Method, allow: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: path, method: method) { (response: TestResponse) throws in
                try expectOpenAIError(response, status: .methodNotAllowed, code: "method_not_allowed", path)
                #expect(response.headers[.allow] == allow)
            }
        }
    }

    @Test func pathTraversalInIdsVariantsAndUINamesFindsNothing() async throws {
        try await app().test(.router) { client in
            for path in ["/v1/videos/..%2F..%2Fetc%2Fpasswd", "/v1/videos/%2e%2e/content", "/v1/videos/..", "/ui/..%2Findex.html", "/ui/.env", "/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/ui/../../etc/passwd"] {
                try await client.execute(uri: path, method: .get) { try expectOpenAIError($0, status: .notFound, code: "not_found", path) }
            }
            let spec = try JobValidator().validate(JobSpec(prompt: "p"), randomSeed: { 1 })
            _ = try await store.create(NewJob(id: "video_1", spec: spec))
            for variant in ["../../etc/passwd", "%2e%2e%2fx", "thumbnail/../../x"] {
                try await client.execute(uri: "/v1/videos/video_1/content?variant=\(variant)", method: .get) { (response: TestResponse) throws in
                    try expectOpenAIError(response, status: .badRequest, code: "invalid_value", variant)
                    #expect(try response.apiError()["param"] as? String == "variant")
                }
            }
        }
    }

    @Test func serverPathsAreRedactedFromMessages() {
        #expect(PathRedaction.redact("cannot read /srv/var/uploads/x.png: gone") == "cannot read <path>: gone")
        #expect(PathRedaction.redact("see ./var/work/a.log and file:///tmp/x/y") == "see <path> and <path>")
        #expect(PathRedaction.redact("poll GET /v1/videos/video_1 later") == "poll GET /v1/videos/video_1 later")
        #expect(PathRedaction.redact("must be WIDTHxHEIGHT, 1/2 of it") == "must be WIDTHxHEIGHT, 1/2 of it")
    }

    @Test func metricsCountByRoutePatternMethodAndStatus() async throws {
        try await app().test(.router) { client in
            for id in ["video_a", "video_b", "video_c"] {
                try await client.execute(uri: "/v1/videos/\(id)", method: .get) { #expect($0.status == .notFound) }
            }
            try await client.execute(uri: "/random/\(UUID().uuidString)", method: .get) { #expect($0.status == .notFound) }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.contains(#"turboserve_http_requests_total{route="/v1/videos/{id}",method="GET",status="404"} 3"#), "\(text)")
        #expect(text.contains(#"turboserve_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
        #expect(text.contains(#"turboserve_http_request_duration_seconds_count{route="/v1/videos/{id}"} 3"#))
        #expect(!text.contains("video_a"))
    }
}
