import Foundation
import JobStore
import Synchronization
import TurboServeDomain

/// Every JobStore backend the contract suite runs against. PostgreSQL joins here when it lands.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    func make(time: TestTime, file: URL? = nil) throws -> any JobStore {
        switch self {
        case .memory:
            return InMemoryJobStore(now: { time.now })
        case .sqlite:
            let url = file ?? FileManager.default.temporaryDirectory.appendingPathComponent("turboserve-\(UUID().uuidString).sqlite")
            return try SQLiteJobStore(path: url.path, now: { time.now })
        }
    }
}

/// Wall time under the test's control.
final class TestTime: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

enum Fixtures {
    static func spec(_ prompt: String = "a fox", model: String = "tiny-t2v", priority: String? = nil, steps: Int = 2) -> ValidatedJob {
        try! JobValidator().validate(JobSpec(prompt: prompt, model: model, steps: steps, seed: 1, priority: priority), randomSeed: { 0 })
    }
}

import Testing
