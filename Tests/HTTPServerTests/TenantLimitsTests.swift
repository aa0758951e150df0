import Artifacts
import Foundation
import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Prometheus
import Synchronization
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// Per-tenant limits: a token bucket per tenant (429 `rate_limit_exceeded` with `Retry-After`), a cap on each
/// tenant's queued jobs (429 `tenant_queue_full`), both counted in `turboserve_rate_limited_requests_total`; one
/// tenant's flood leaves another tenant's interactive job accepted.
struct TenantLimitsTests {
    let store = InMemoryJobStore()
    let registry = PrometheusCollectorRegistry()
    /// The limiter's clock, stepped by hand.
    let clock = ManualSeconds()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-tenant-limits") }
    static let acme: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-acme-0001"]
    static let globex: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sk-globex-01"]

    func app(rate: Double? = nil, burst: Int = 2, perTenant: Int? = nil) -> some ApplicationProtocol {
        var limits = VideoAPI.Limits()
        limits.maxQueuedPerTenant = perTenant
        let keys = APIKeys(["sk-acme-0001": "acme", "sk-globex-01": "globex"])
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url), limits: limits, keys: keys)
        let limiter = rate.map { [clock] in RequestRateLimiter(rate: $0, burst: burst, now: { clock.now }) }
        return Application(router: HTTPApplication.buildRouter(api: api, registry: registry, rateLimiter: limiter))
    }

    func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func aTenantOverItsRateGets429WithRetryAfterAndOthersDoNot() async throws {
        try await app(rate: 1, burst: 2).test(.router) { client in
            for expected in [200, 200, 429] {
                try await client.execute(uri: "/v1/videos", method: .get, headers: Self.acme) { (response: TestResponse) throws in
                    #expect(response.status.code == expected)
                    guard expected == 429 else { return }
                    #expect(response.headers[.retryAfter] == "1")
                    let error = try response.apiError()
                    #expect(error["code"] as? String == "rate_limit_exceeded" && error["type"] as? String == "rate_limit_error")
                    #expect(error["message"] != nil && error["param"] is NSNull)
                }
            }
            try await client.execute(uri: "/v1/videos", method: .post, headers: Self.globex, body: ByteBuffer(string: #"{"prompt": "p", "priority": "interactive"}"#)) { #expect($0.status == .ok) }
            clock.advance(1)
            try await client.execute(uri: "/v1/videos", method: .get, headers: Self.acme) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/videos", method: .get, headers: Self.acme) { #expect($0.status == .tooManyRequests) }
        }
        #expect(exposition().contains(#"turboserve_rate_limited_requests_total{reason="rate_limit_exceeded"} 2"#))
    }

    @Test func aTenantFloodingTheQueueIsCappedWhileAnotherTenantsInteractiveJobIsAccepted() async throws {
        try await app(perTenant: 3).test(.router) { client in
            var statuses: [Int] = []
            for _ in 0..<10 {
                try await client.execute(uri: "/v1/videos", method: .post, headers: Self.acme, body: ByteBuffer(string: #"{"prompt": "flood", "priority": "batch"}"#)) { (response: TestResponse) throws in
                    statuses.append(response.status.code)
                    if response.status == .tooManyRequests {
                        #expect(response.headers[.retryAfter] != nil)
                        #expect(try response.apiError()["code"] as? String == "tenant_queue_full")
                    }
                }
            }
            #expect(statuses == [200, 200, 200] + Array(repeating: 429, count: 7))
            try await client.execute(uri: "/v1/videos", method: .post, headers: Self.globex, body: ByteBuffer(string: #"{"prompt": "mine", "priority": "interactive"}"#)) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try response.jsonObject()["priority"] as? String == "interactive")
            }
        }
        let queued = try await store.list(tenant: nil, after: nil, limit: 100, order: .newestFirst).jobs
        #expect(queued.filter { $0.tenant == "acme" }.count == 3 && queued.filter { $0.tenant == "globex" }.count == 1)
        #expect(exposition().contains(#"turboserve_rate_limited_requests_total{reason="tenant_queue_full"} 7"#))
    }

    @Test func theBucketRefillsAtItsRateUpToItsBurst() throws {
        let now = ManualSeconds()
        let limiter = RequestRateLimiter(rate: 2, burst: 3, now: { now.now })
        for _ in 0..<3 { try limiter.admit("a") }
        #expect(throws: APIError.self) { try limiter.admit("a") }
        try limiter.admit("b")
        now.advance(0.5)
        try limiter.admit("a")
        #expect(throws: APIError.self) { try limiter.admit("a") }
        now.advance(99.5)
        for _ in 0..<3 { try limiter.admit("a") }
        do { try limiter.admit("a"); Issue.record("the burst is 3") } catch { #expect(error.retryAfterSeconds == 1) }
    }

    @Test func theUploadGateRefusesBeyondItsCapacityAndGivesSlotsBack() async throws {
        let gate = UploadGate(capacity: 1)
        let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await gate.withSlot {
                enteredSignal.yield()
                for await _ in release { break }
            }
        }
        for await _ in entered { break }
        await #expect(throws: TurboServeError.self) { try await gate.withSlot {} }
        releaseSignal.yield()
        try await holder.value
        #expect(gate.current == 0)
        try await gate.withSlot { #expect(gate.current == 1) }
    }

    /// (That a declared `Content-Length` over the limit is refused before the body is sent needs a real socket:
    /// `test_hostile.py::test_declared_oversized_body_is_413_before_it_is_sent`.)
    @Test func aBodyOverTheLimitIs413() async throws {
        try await app().test(.router) { client in
            let body = #"{"prompt": ""# + String(repeating: "a", count: 1 << 20) + #""}"#
            try await client.execute(uri: "/v1/videos", method: .post, headers: Self.acme, body: ByteBuffer(string: body)) { (response: TestResponse) throws in
                #expect(response.status == .contentTooLarge)
                #expect(try response.apiError()["code"] as? String == "payload_too_large")
            }
        }
        #expect(try await store.countByPhase().isEmpty)
    }
}

/// A monotonic seconds clock stepped by hand.
final class ManualSeconds: Sendable {
    private let value = Mutex<Double>(0)
    var now: Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}
