import Synchronization
import Testing
@testable import WorkerRuntime

/// Engines on one node start one at a time: turns never overlap, and a failed start still passes the turn on.
struct StartupGateTests {
    struct StartFailed: Error {}

    final class Log: Sendable {
        private let entries = Mutex<[String]>([])
        func append(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func turnsNeverOverlapAndAFailureFreesTheGate() async throws {
        let gate = StartupGate()
        let log = Log()
        await withTaskGroup(of: Void.self) { group in
            for engine in 0..<4 {
                group.addTask {
                    _ = try? await gate.withTurn {
                        log.append("start \(engine)")
                        for _ in 0..<10 { await Task.yield() }
                        log.append("end \(engine)")
                        if engine == 1 { throw StartFailed() }
                    }
                }
            }
        }
        let entries = log.all
        #expect(entries.count == 8)
        for pair in stride(from: 0, to: entries.count, by: 2) {
            #expect(entries[pair].replacingOccurrences(of: "start", with: "end") == entries[pair + 1])
        }
        #expect(try await gate.withTurn { "free" } == "free")
    }
}
