import Synchronization

/// Gathers concurrent calls into batches that run as one unit each (one statement, one transaction, one commit):
/// the store's creates go through it, so 16 clients creating at once cost a few commits, not 16.
///
/// A call never waits for company: when fewer than `maxInFlight` batches are running, its batch starts at once
/// (alone under light load, so a lone create is not delayed). Calls that arrive while every runner is busy
/// queue, and the next free runner takes up to `maxBatch` of them, oldest first.
///
/// Guarantees: every submitted item is answered exactly once, with the result `run` gave for its position; `run`
/// is called with 1...`maxBatch` items and at most `maxInFlight` calls of it overlap. A caller's cancellation does
/// not withdraw its item (a create may already be committing); the caller still gets the item's result.
///
/// Every caller passes the same `run` (the owner's batch function): a runner started by one caller also runs
/// the batches of callers that queued behind it.
///
/// Thread-safety: a `Mutex` guards the queue and the runner count; `submit` may be called from any task.
final class GroupCommitter<Item: Sendable, Output: Sendable>: Sendable {
    typealias Answer = Result<Output, any Error>

    private struct Waiting {
        let item: Item
        let answer: CheckedContinuation<Answer, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var running = 0
    }

    private let state = Mutex(State())
    let maxBatch: Int
    let maxInFlight: Int

    init(maxBatch: Int, maxInFlight: Int) {
        self.maxBatch = max(1, maxBatch)
        self.maxInFlight = max(1, maxInFlight)
    }

    /// Runs `item` in the next batch and returns its result (or throws its error). `run` answers a batch with one
    /// result per item, in the items' order.
    func submit(_ item: Item, run: @escaping @Sendable ([Item]) async -> [Answer]) async throws -> Output {
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let startRunner = state.withLock { state -> Bool in
                state.waiting.append(Waiting(item: item, answer: continuation))
                guard state.running < maxInFlight else { return false }
                state.running += 1
                return true
            }
            if startRunner { Task { await drain(run) } }
        }
        return try answer.get()
    }

    /// Calls waiting for a runner (not counting those in a running batch).
    var waiting: Int { state.withLock { $0.waiting.count } }

    /// One runner: takes batches until the queue is empty, then retires.
    private func drain(_ run: @Sendable ([Item]) async -> [Answer]) async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let taken = Array(state.waiting.prefix(maxBatch))
                state.waiting.removeFirst(taken.count)
                if taken.isEmpty { state.running -= 1 }
                return taken
            }
            if batch.isEmpty { return }
            let answers = await run(batch.map(\.item))
            for (index, waiting) in batch.enumerated() {
                waiting.answer.resume(returning: index < answers.count
                    ? answers[index]
                    : .failure(GroupCommitterError.unanswered(batchSize: batch.count, answers: answers.count)))
            }
        }
    }
}

/// A batch runner broke its promise of one answer per item.
enum GroupCommitterError: Error, CustomStringConvertible {
    case unanswered(batchSize: Int, answers: Int)

    var description: String {
        switch self {
        case .unanswered(let size, let answers): "a batch of \(size) was answered \(answers) times"
        }
    }
}
