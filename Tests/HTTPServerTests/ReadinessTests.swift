import Artifacts
import Foundation
import HTTPServer
import Hummingbird
import HummingbirdTesting
import JobStore
import Synchronization
import Testing
import TurboServeTestSupport

/// `/readyz` names why a process is not ready: the engine first, then the shared store, on the API's router (an
/// OpenAI-shaped `not_ready` error) and on a worker's probe port (plain text); `/healthz` stays 200 throughout.
struct ReadinessTests {
    /// A store health check that answers `health` and counts how often it was asked.
    final class StoreCheck: Sendable {
        let health: StoreHealth
        private let asked = Mutex(0)
        init(_ health: StoreHealth) { self.health = health }
        var times: Int { asked.withLock { $0 } }
        var check: @Sendable () async -> StoreHealth { { [self] in asked.withLock { $0 += 1 }; return health } }
    }

    static let refused = NotReadyReason.storeUnavailable("refused the session: sorry, too many clients already (SQLSTATE 53300)")

    @Test func theEngineIsNamedFirstAndTheStoreIsNotAskedUntilItIsReady() async {
        let unhealthy = StoreCheck(.unhealthy("did not answer"))
        #expect(await NotReadyReason.first(engineReady: false, storeHealth: unhealthy.check) == .engineStarting)
        #expect(unhealthy.times == 0)
        #expect(await NotReadyReason.first(engineReady: true, storeHealth: unhealthy.check) == .storeUnavailable("did not answer"))
        #expect(unhealthy.times == 1)
        #expect(await NotReadyReason.first(engineReady: true, storeHealth: StoreCheck(.healthy).check) == nil)
        #expect(await NotReadyReason.first(engineReady: true, storeHealth: nil) == nil)
    }

    @Test(arguments: [NotReadyReason?.none, .engineStarting, Self.refused])
    func theAPIsReadyzAnswersTheReason(reason: NotReadyReason?) async throws {
        let scratch = try ScratchFolder("turboserve-readiness")
        let api = VideoAPI(store: InMemoryJobStore(), artifacts: DirectoryArtifactStore(directory: scratch.url))
        try await Application(router: HTTPApplication.buildRouter(api: api, readiness: { reason })).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                guard let reason else { return #expect(response.status == .ok) }
                #expect(response.status == .serviceUnavailable)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let error = try #require(body["error"] as? [String: Any])
                #expect(error["code"] as? String == "not_ready")
                #expect(error["message"] as? String == reason.message)
            }
        }
    }

    @Test func theStoreReasonNamesTheStoreAndItsProblemAndTheEngineReasonTheEngine() {
        #expect(Self.refused.message == "the job store (PostgreSQL) refused the session: sorry, too many clients already (SQLSTATE 53300); retry shortly")
        #expect(!Self.refused.message.contains("engine"))
        #expect(NotReadyReason.engineStarting.message.contains("engine"))
    }

    @Test(arguments: [NotReadyReason?.none, .engineStarting, Self.refused])
    func aWorkersProbePortAnswersTheReasonAsText(reason: NotReadyReason?) async throws {
        let router = HTTPApplication.probeRouter(readiness: { reason }, metrics: { "turboserve_up 1\n" })
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == (reason == nil ? .ok : .serviceUnavailable))
                #expect(String(buffer: response.body) == (reason?.message ?? "ready") + "\n")
            }
            try await client.execute(uri: "/metrics", method: .get) { #expect(String(buffer: $0.body) == "turboserve_up 1\n") }
        }
    }
}
