import Foundation

/// Finds what it takes to start an engine: the Python interpreter of the engine venv, the `engine/` folder (put on
/// PYTHONPATH) and the models directory. Environment first (`TURBOSERVE_ENGINE_PYTHON`, `TURBOSERVE_ENGINE_DIR`,
/// `TURBOSERVE_MODELS_DIR`), then the configuration (`engines.models_dir`), then the repository found by walking
/// up from the working directory and from the executable. If the venv is missing, `prepare` runs
/// `scripts/setup-engine` with its progress on stderr.
public struct EngineLocator: Sendable {
    public var python: String
    public var engineDirectory: String
    public var modelsDirectory: String
    public var repository: String?

    /// The models directory follows `modelsDirectory(environment:dataDirectory:configured:)`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment, dataDirectory: String = "./var", modelsDirectory: String? = nil) throws -> EngineLocator {
        let repository = findRepository(environment: environment)
        guard let engineDirectory = environment["TURBOSERVE_ENGINE_DIR"] ?? repository.map({ "\($0)/engine" }) else {
            throw EngineError(code: "engine_missing", message: "cannot find the engine package (engine/turboserve_engine); run from the TurboServe checkout or set TURBOSERVE_ENGINE_DIR")
        }
        let python = environment["TURBOSERVE_ENGINE_PYTHON"] ?? (environment["TURBOSERVE_ENGINE_VENV"].map { "\($0)/bin/python" } ?? "\(engineDirectory)/.venv/bin/python")
        let models = Self.modelsDirectory(environment: environment, dataDirectory: dataDirectory, configured: modelsDirectory)
        return EngineLocator(python: python, engineDirectory: engineDirectory, modelsDirectory: models, repository: repository)
    }

    /// The one rule for where model weights live: `TURBOSERVE_MODELS_DIR`, else the configured
    /// `engines.models_dir`, else `models/` under the data directory.
    public static func modelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment, dataDirectory: String, configured: String? = nil) -> String {
        environment["TURBOSERVE_MODELS_DIR"] ?? configured ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("models").path
    }

    static func findRepository(environment: [String: String]) -> String? {
        var starts = [FileManager.default.currentDirectoryPath]
        if let executable = Bundle.main.executablePath { starts.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path) }
        for start in starts {
            var url = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if FileManager.default.fileExists(atPath: url.appendingPathComponent("engine/turboserve_engine/__init__.py").path) { return url.path }
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        return nil
    }

    /// Creates the engine venv on first use (visible progress), unless it exists.
    public func prepare() throws {
        guard !FileManager.default.isExecutableFile(atPath: python) else { return }
        guard let repository, FileManager.default.isExecutableFile(atPath: "\(repository)/scripts/setup-engine") else {
            throw EngineError(code: "engine_missing", message: "the engine's Python (\(python)) is missing; create it with scripts/setup-engine")
        }
        FileHandle.standardError.write(Data("Setting up the engine's Python environment (first run only)…\n".utf8))
        let setup = Process()
        setup.executableURL = URL(fileURLWithPath: "\(repository)/scripts/setup-engine")
        setup.standardOutput = FileHandle.standardError
        try setup.run()
        setup.waitUntilExit()
        guard setup.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: python) else {
            throw EngineError(code: "engine_missing", message: "scripts/setup-engine failed (exit \(setup.terminationStatus))")
        }
    }

    public func launch(workDirectory: String, device: String = "auto", threads: Int? = nil, environment: [String: String] = [:]) -> EngineProcess.Launch {
        var launch = EngineProcess.Launch(python: python, engineDirectory: engineDirectory, modelsDirectory: modelsDirectory, workDirectory: workDirectory)
        launch.device = device
        launch.threads = threads
        launch.environment = environment
        return launch
    }

    /// Starts an engine and completes the handshake: protocol check, tiny models present. `callTimeout` is each
    /// call's deadline (`engines.call_timeout_seconds`; slow verbs such as `load` get 4×, see `EngineClient`);
    /// `environment` adds variables for the engine process (TEST-ONLY fault settings).
    public func start(workDirectory: String, device: String = "auto", threads: Int? = nil, callTimeout: Duration = .seconds(600), environment: [String: String] = [:]) async throws -> (EngineClient, EngineMessages.Hello) {
        let client = try await EngineClient.launch(launch(workDirectory: workDirectory, device: device, threads: threads, environment: environment), timeout: callTimeout)
        do {
            _ = try await client.ensureTiny()
            return (client, try await client.hello().result)
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
