import Synchronization
import Testing
import TurboServeTestSupport
@testable import JobStorePostgres

/// The group commit of PostgreSQL creates, played with a runner the test holds: a lone call runs at once and alone,
/// calls arriving while the runners are busy go together (at most `maxBatch`, oldest first), every call gets its
/// own answer, and no more than `maxInFlight` batches overlap.
struct GroupCommitterTests {
    /// A batch runner that records its batches and blocks each one until the test opens the gate.
    final class HeldRunner: Sendable {
        let batches = Mutex<[[Int]]>([])
        let running = Mutex((now: 0, most: 0))
        private let gate = Mutex<[CheckedContinuation<Void, Never>]>([])

        func run(_ items: [Int]) async -> [Result<Int, any Error>] {
            batches.withLock { $0.append(items) }
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            await withCheckedContinuation { continuation in gate.withLock { $0.append(continuation) } }
            running.withLock { $0.now -= 1 }
            return items.map { .success($0 * 10) }
        }

        var held: Int { gate.withLock { $0.count } }

        func openOne() { gate.withLock { $0.isEmpty ? nil : $0.removeFirst() }?.resume() }
    }

    @Test func callsArrivingWhileTheRunnerIsBusyAreCommittedTogetherAndEachGetsItsAnswer() async throws {
        let committer = GroupCommitter<Int, Int>(maxBatch: 3, maxInFlight: 1)
        let runner = HeldRunner()
        let first = Task { try await committer.submit(0, run: runner.run) }
        while runner.held < 1 { await Task.yield() }
        let later = (1...4).map { item in Task { try await committer.submit(item, run: runner.run) } }
        while committer.waiting < 4 { await Task.yield() }
        var opened = 0
        while opened < 3 {
            if runner.held > 0 { runner.openOne(); opened += 1 } else { await Task.yield() }
        }
        #expect(try await first.value == 0)
        for (index, task) in later.enumerated() { #expect(try await task.value == (index + 1) * 10) }
        let batches = runner.batches.withLock { $0 }
        #expect(batches.count == 3 && batches[0] == [0], "a lone call runs at once and alone: \(batches)")
        #expect(batches.dropFirst().allSatisfy { $0.count <= 3 } && batches.dropFirst().flatMap { $0 }.sorted() == [1, 2, 3, 4])
        #expect(runner.running.withLock { $0.most } == 1)
    }

    @Test func atMostMaxInFlightBatchesOverlap() async throws {
        let committer = GroupCommitter<Int, Int>(maxBatch: 1, maxInFlight: 2)
        let runner = HeldRunner()
        let tasks = (0..<5).map { item in Task { try await committer.submit(item, run: runner.run) } }
        while runner.held < 2 || committer.waiting < 3 { await Task.yield() }
        #expect(runner.held == 2, "two batches run; the other three wait")
        var opened = 0
        while opened < 5 {
            if runner.held > 0 { runner.openOne(); opened += 1 } else { await Task.yield() }
        }
        #expect(try await tasks.asyncMap { try await $0.value }.sorted() == [0, 10, 20, 30, 40])
        #expect(runner.running.withLock { $0.most } == 2)
    }

    @Test func aRunnerThatAnswersTooFewFailsTheUnansweredCallsOnly() async throws {
        let committer = GroupCommitter<Int, Int>(maxBatch: 2, maxInFlight: 1)
        let runner = HeldRunner()
        // Every caller passes the same runner; this one answers a batch of several for its first item only.
        let short: @Sendable ([Int]) async -> [Result<Int, any Error>] = { items in
            let answers = await runner.run(items)
            return items.count > 1 ? Array(answers.prefix(1)) : answers
        }
        let first = Task { try await committer.submit(0, run: short) }
        while runner.held < 1 { await Task.yield() }
        let a = Task { try await committer.submit(1, run: short) }
        while committer.waiting < 1 { await Task.yield() }
        let b = Task { try await committer.submit(2, run: short) }
        while committer.waiting < 2 { await Task.yield() }
        runner.openOne()
        while runner.held < 1 { await Task.yield() }
        runner.openOne()
        #expect(try await first.value == 0)
        #expect(try await a.value == 10)
        await #expect(throws: GroupCommitterError.self) { try await b.value }
        #expect(runner.batches.withLock { $0 } == [[0], [1, 2]])
    }
}
