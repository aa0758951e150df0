/// A duty that exactly one process sharing a store performs at a time, such as exporting the store-wide gauges
/// (`queue_depth_jobs`, `unfinished_jobs`), so a fleet's replicas do not each repeat the same figure.
///
/// Guarantees: at most one process holds a given duty at once. A holder keeps it while it runs and stays connected;
/// when it dies or loses its connection the duty is free, and the next process that asks takes it; a holder that
/// stops without either (SIGSTOP, a frozen VM) loses it after a bounded time. Nobody holds it until some process
/// asks, so a caller asks each time it would perform the duty (every scrape).
///
/// Thread-safety: implementations are safe to call from any task.
public protocol SingleOwnerDuty: Sendable {
    /// Whether this process holds the duty now, taking it if it is free. Never throws: an unreachable store
    /// answers false (whoever can still reach it performs the duty).
    func holds() async -> Bool
}

/// The duty of a store no other process shares (SQLite, the in-memory twin, `serve` alone): always held.
public struct SoleProcessDuty: SingleOwnerDuty {
    public init() {}
    public func holds() async -> Bool { true }
}
