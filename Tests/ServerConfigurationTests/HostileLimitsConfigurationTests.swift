import Foundation
import Testing
import TurboServeTestSupport
@testable import ServerConfiguration

/// The keys of the hostile-input work: per-tenant limits, slow-client timeouts, upload caps, operator keys.
struct HostileLimitsConfigurationTests {
    @Test func theNewKeysLoadFromYAMLAndTheEnvironment() throws {
        let scratch = try ScratchFolder("turboserve-ops")
        defer { scratch.remove() }
        let keysFile = scratch.file("operators.keys")
        try "# operators\nop-file-key-0001\n\n".write(to: keysFile, atomically: true, encoding: .utf8)
        let yaml = """
            server:
              idle_timeout_seconds: 5
            limits:
              max_queued_per_tenant: 7
              requests_per_second: 2.5
              burst: 10
              max_concurrent_uploads: 3
              body_timeout_seconds: 20s
              events_heartbeat_seconds: 30s
              max_prompt_bytes: 4096
              max_image_pixels: 1000000
            auth:
              operator_keys: [op-yaml-key-0001]
              operator_keys_file: \(keysFile.path)
              metrics_open: true
            """
        var configuration = ServerConfiguration()
        #expect(ConfigurationLoader.apply(yaml: yaml, to: &configuration).isEmpty)
        #expect(configuration.server.idleTimeoutSeconds == 5)
        #expect(configuration.limits.maxQueuedPerTenant == 7 && configuration.limits.requestsPerSecond == 2.5 && configuration.limits.burst == 10)
        #expect(configuration.limits.maxConcurrentUploads == 3 && configuration.limits.bodyTimeoutSeconds == 20)
        #expect(configuration.limits.eventsHeartbeatSeconds == 30)
        #expect(configuration.limits.maxPromptBytes == 4096 && configuration.limits.maxImagePixels == 1_000_000)
        #expect(configuration.auth.metricsOpen && configuration.auth.operatorKeys == ["op-yaml-key-0001"])
        #expect(configuration.problems().isEmpty)

        let (loaded, problems) = ConfigurationLoader.load(path: nil, environment: [
            "TURBOSERVE_AUTH_OPERATOR_KEYS": "op-env-key-0001", "TURBOSERVE_AUTH_OPERATOR_KEYS_FILE": keysFile.path,
            "TURBOSERVE_AUTH_METRICS_OPEN": "false", "TURBOSERVE_LIMITS_REQUESTS_PER_SECOND": "4",
        ])
        #expect(problems.isEmpty)
        #expect(loaded.auth.operatorKeys == ["op-env-key-0001", "op-file-key-0001"] && !loaded.auth.metricsOpen && loaded.limits.requestsPerSecond == 4)
    }

    @Test func outOfRangeValuesAreProblemsNamingTheKey() {
        var configuration = ServerConfiguration()
        configuration.server.idleTimeoutSeconds = 0
        configuration.limits.maxQueuedPerTenant = -1
        configuration.limits.requestsPerSecond = -.infinity
        configuration.limits.maxConcurrentUploads = 0
        configuration.limits.bodyTimeoutSeconds = 0
        configuration.limits.eventsHeartbeatSeconds = 0.5
        configuration.limits.maxPromptBytes = 10
        configuration.limits.maxImagePixels = 0
        configuration.auth.apiKeys = [APIKey(key: "sk-shared-0001", tenant: "acme")]
        configuration.auth.operatorKeys = ["short", "sk-shared-0001"]
        let keys = Set(configuration.problems().map(\.key))
        for key in ["server.idle_timeout_seconds", "limits.max_queued_per_tenant", "limits.requests_per_second", "limits.max_concurrent_uploads",
                    "limits.body_timeout_seconds", "limits.events_heartbeat_seconds", "limits.max_prompt_bytes", "limits.max_image_pixels", "auth.operator_keys[0]", "auth.operator_keys[1]"] {
            #expect(keys.contains(key), "\(key)")
        }
        #expect(!configuration.problems().map(\.message).joined().contains("sk-shared-0001"))
        var bad = ServerConfiguration()
        #expect(ConfigurationLoader.apply(yaml: "auth:\n  metrics_open: maybe\n", to: &bad).map(\.key) == ["auth.metrics_open"])
    }
}
