import JobStore

/// Why a process is not ready for traffic, as its `/readyz` answer says it (503 with `message`). A readiness check
/// answers nil when the process is ready; each role checks what it needs, the engine before the store, so the
/// reason names the part an operator has to look at.
public enum NotReadyReason: Sendable, Equatable {
    /// An engine of this process has not answered its handshake and warm-up yet, or is being restarted.
    case engineStarting
    /// Another process sends heartbeats under this worker's id (`Worker.identityConflict` says which and what to do).
    case workerIDInUse(_ problem: String)
    /// The shared job store (PostgreSQL) failed the health check; `problem` is the store's own account
    /// (`StoreHealth.unhealthy`): refused the session and why, unreachable, or no answer at all.
    case storeUnavailable(_ problem: String)

    /// The sentence `/readyz` answers with.
    public var message: String {
        switch self {
        case .engineStarting: "the engine is starting; retry shortly"
        case .workerIDInUse(let problem): problem
        case .storeUnavailable(let problem): "the job store (PostgreSQL) \(problem); retry shortly"
        }
    }

    /// The first reason of a role's checks: the engine (nil when the role has none or it is ready), then a worker id
    /// another process also runs as, then the store (asked only when the engine is ready, nil when the role's store
    /// needs no check).
    public static func first(engineReady: Bool, identityConflict: String? = nil, storeHealth: (@Sendable () async -> StoreHealth)?) async -> NotReadyReason? {
        guard engineReady else { return .engineStarting }
        if let identityConflict { return .workerIDInUse(identityConflict) }
        guard let storeHealth else { return nil }
        return switch await storeHealth() {
        case .healthy: nil
        case .unhealthy(let problem): .storeUnavailable(problem)
        }
    }
}
