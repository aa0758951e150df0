import Foundation
import Synchronization

/// One running `python -m turboserve_engine`: its pipes, a bounded tail of its stderr, and its teardown.
///
/// Lifetime: started by `init`; `terminate` closes stdin, waits `grace`, then sends SIGTERM, waits again, then
/// SIGKILL — the same sequence whatever state the engine is in. Thread-safety: the stderr tail is guarded by a
/// `Mutex`; reads of stdout happen on the single reader the owner creates with `lines()`.
public final class EngineProcess: Sendable {
    public struct Launch: Sendable {
        public var python: String
        public var engineDirectory: String
        public var modelsDirectory: String
        public var workDirectory: String
        public var device = "auto"
        public var threads: Int?
        /// Extra environment variables for the engine (e.g. TEST-ONLY `TURBOSERVE_ENGINE_TEST_*`), over the parent's.
        public var environment: [String: String] = [:]

        public init(python: String, engineDirectory: String, modelsDirectory: String, workDirectory: String) {
            self.python = python
            self.engineDirectory = engineDirectory
            self.modelsDirectory = modelsDirectory
            self.workDirectory = workDirectory
        }
    }

    private let process: Process
    private let stdin: FileHandle
    private let stdout: FileHandle
    private let stderrTail = ByteTail(capacity: 8_192)

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public init(_ launch: Launch) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launch.python)
        var arguments = ["-m", "turboserve_engine", "--models-dir", launch.modelsDirectory, "--work-dir", launch.workDirectory, "--device", launch.device]
        if let threads = launch.threads { arguments += ["--threads", String(threads)] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = launch.engineDirectory + (environment["PYTHONPATH"].map { ":" + $0 } ?? "")
        environment["HF_HUB_OFFLINE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        environment.merge(launch.environment) { _, extra in extra }
        process.environment = environment
        let (input, output, errors) = (Pipe(), Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        self.process = process
        stdin = input.fileHandleForWriting
        stdout = output.fileHandleForReading
        let tail = stderrTail
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { handle.readabilityHandler = nil; return }
            tail.append(data)
        }
    }

    /// The last few KiB the engine wrote to stderr.
    public var stderr: String { stderrTail.text }

    public func send(_ line: [UInt8]) throws {
        try stdin.write(contentsOf: Data(line))
    }

    /// Reply lines, in order, until the engine closes stdout (exit or crash). One consumer only.
    public func lines() -> AsyncThrowingStream<[UInt8], any Error> {
        let stdout = self.stdout
        return AsyncThrowingStream { continuation in
            let reader = Thread {
                var buffer: [UInt8] = []
                while true {
                    let chunk = stdout.availableData
                    if chunk.isEmpty { break }
                    buffer.append(contentsOf: chunk)
                    while let newline = buffer.firstIndex(of: 0x0A) {
                        continuation.yield(Array(buffer[..<newline]))
                        buffer.removeSubrange(...newline)
                    }
                }
                continuation.finish()
            }
            reader.start()
        }
    }

    /// Closes stdin (the engine exits at EOF), then SIGTERM after `grace`, then SIGKILL after another `grace`.
    public func terminate(grace: Duration = .seconds(2)) async {
        try? stdin.close()
        if await waitForExit(within: grace) { return }
        Foundation.kill(process.processIdentifier, SIGTERM)
        if await waitForExit(within: grace) { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(within: .seconds(5))
    }

    /// Kills at once (tests of crash handling; last resort).
    public func kill() { Foundation.kill(process.processIdentifier, SIGKILL) }

    private func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// The last `capacity` bytes written to a stream. Thread-safe (a `Mutex` guards the buffer).
final class ByteTail: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func append(_ data: Data) {
        bytes.withLock { buffer in
            buffer.append(contentsOf: data)
            if buffer.count > capacity { buffer.removeFirst(buffer.count - capacity) }
        }
    }

    var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
}
