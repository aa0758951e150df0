import EngineBridge
import Foundation
import TurboServeTestSupport

/// Where the real engine is (set by scripts/test); the real-engine tests are skipped without it.
enum RealEngine {
    static var locator: EngineLocator? {
        guard let python = ProcessInfo.processInfo.environment["TURBOSERVE_ENGINE_PYTHON"], FileManager.default.isExecutableFile(atPath: python),
              var locator = try? EngineLocator.locate() else { return nil }
        locator.python = python
        locator.modelsDirectory = shared.appendingPathComponent("models").path
        return locator
    }

    static var available: Bool { locator != nil }

    /// One models folder for the whole run (tiny models are built once), kept between tests and runs on purpose.
    static let shared = FileManager.default.temporaryDirectory.appendingPathComponent("turboserve-bridge-tests")
}

/// A stand-in engine written as a small Python script (no torch needed): lets tests make the engine hang, ignore
/// SIGTERM or die, deterministically. The script and the engine's work files go in the test's `folder`.
enum FakeEngine {
    static func launch(_ body: String, in folder: ScratchFolder) throws -> EngineProcess.Launch {
        let directory = folder.url
        let package = folder.file("turboserve_engine")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try "".write(to: package.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        try body.write(to: package.appendingPathComponent("__main__.py"), atomically: true, encoding: .utf8)
        return EngineProcess.Launch(python: "/usr/bin/env", engineDirectory: directory.path, modelsDirectory: directory.path, workDirectory: directory.path)
    }

    /// `/usr/bin/env python3 -m turboserve_engine …`
    static func client(_ body: String, in folder: ScratchFolder, timeout: Duration = .seconds(30)) async throws -> EngineClient {
        var launch = try launch(body, in: folder)
        launch.python = "/usr/bin/python3"
        return try await EngineClient.launch(launch, timeout: timeout)
    }
}
