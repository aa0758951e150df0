/// Lets engines start one at a time. Several engines on one node share the engine venv and the models directory;
/// the first start may create the venv or build the tiny models, so the others wait for it and then find
/// everything in place instead of racing to build the same files.
///
/// Thread-safety: an actor; `withTurn` may be called from any task. Turns are granted in arrival order, and a turn
/// ends when its body returns or throws.
public actor StartupGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func withTurn<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer { handOver() }
        return try await body()
    }

    /// Passes the turn to the next waiter (it stays busy), or frees the gate.
    private func handOver() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
