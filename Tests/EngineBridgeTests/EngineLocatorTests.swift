import EngineBridge
import Testing

/// Where the engines find model weights: `TURBOSERVE_MODELS_DIR` wins, then the configured `engines.models_dir`,
/// then `models/` under the data directory; `locate` and `turboserve models` share that one rule.
struct EngineLocatorTests {
    @Test func theModelsDirectoryFollowsEnvironmentThenConfigurationThenDataDirectory() {
        #expect(EngineLocator.modelsDirectory(environment: [:], dataDirectory: "/data") == "/data/models")
        #expect(EngineLocator.modelsDirectory(environment: [:], dataDirectory: "/data", configured: "/mnt/models") == "/mnt/models")
        #expect(EngineLocator.modelsDirectory(environment: ["TURBOSERVE_MODELS_DIR": "/env/models"], dataDirectory: "/data", configured: "/mnt/models") == "/env/models")
    }

    @Test func locateUsesTheConfiguredModelsDirectory() throws {
        let environment = ["TURBOSERVE_ENGINE_DIR": "/opt/turboserve/engine", "TURBOSERVE_ENGINE_PYTHON": "/usr/bin/python3"]
        let configured = try EngineLocator.locate(environment: environment, dataDirectory: "/data", modelsDirectory: "/mnt/models")
        #expect(configured.modelsDirectory == "/mnt/models" && configured.engineDirectory == "/opt/turboserve/engine")
        #expect(try EngineLocator.locate(environment: environment, dataDirectory: "/data").modelsDirectory == "/data/models")
    }
}
