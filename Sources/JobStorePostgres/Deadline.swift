import Synchronization

/// Runs `body` and answers within `limit`: its outcome, or `late()`'s error once `limit` passed first. The deadline
/// does not wait for `body` to notice its cancellation (a query on a dying connection may not), so the caller is
/// answered on time whatever the connection is doing; `body` is cancelled and finishes on its own.
func answer<T: Sendable>(within limit: Duration, orElse late: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
    let answer = OneAnswer<T>()
    return await withCheckedContinuation { continuation in
        answer.start(continuation)
        let work = Task {
            do { answer.give(.success(try await body())) } catch { answer.give(.failure(error)) }
        }
        let watched = DeadlineWatch.shared.watch(until: .now + limit) {
            if answer.give(.failure(late())) { work.cancel() }
        }
        answer.onAnswer { DeadlineWatch.shared.unwatch(watched) }
    }
}

/// The first of two racing outcomes (the work, the deadline) resumes the caller; the other is dropped.
private final class OneAnswer<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, any Error>, Never>?
        var answered = false
        var whenAnswered: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) { state.withLock { $0.continuation = continuation } }

    /// Runs `action` once the answer is given (at once if it already was).
    func onAnswer(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.answered { return true }
            state.whenAnswered = action
            return false
        }
        if now { action() }
    }

    /// Resumes the caller with `result` unless it was answered already; returns whether this was the answer.
    @discardableResult
    func give(_ result: Result<T, any Error>) -> Bool {
        let (continuation, action) = state.withLock { state -> (CheckedContinuation<Result<T, any Error>, Never>?, (@Sendable () -> Void)?) in
            guard !state.answered else { return (nil, nil) }
            state.answered = true
            defer { state.continuation = nil; state.whenAnswered = nil }
            return (state.continuation, state.whenAnswered)
        }
        guard let continuation else { return false }
        continuation.resume(returning: result)
        action?()
        return true
    }
}
