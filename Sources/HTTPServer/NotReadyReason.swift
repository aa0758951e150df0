/// Why a process is not ready for traffic, as its `/readyz` answer says it (503 with `message`). A readiness check
/// answers nil when the process is ready; each role checks what it needs, the engine before the store, so the
/// reason names the part an operator has to look at.
public enum NotReadyReason: Sendable, Equatable {
    /// An engine of this process has not answered its handshake and warm-up yet, or is being restarted.
    case engineStarting
    /// The shared job store (PostgreSQL) did not answer the health check within its timeout.
    case storeUnavailable

    /// The sentence `/readyz` answers with.
    public var message: String {
        switch self {
        case .engineStarting: "the engine is starting; retry shortly"
        case .storeUnavailable: "the job store (PostgreSQL) did not answer its health check; retry shortly"
        }
    }

    /// The first reason of a role's checks: the engine (nil when the role has none or it is ready), then the store
    /// (asked only when the engine is ready, nil when the role's store needs no check).
    public static func first(engineReady: Bool, storeHealthy: (@Sendable () async -> Bool)?) async -> NotReadyReason? {
        guard engineReady else { return .engineStarting }
        guard let storeHealthy else { return nil }
        return await storeHealthy() ? nil : .storeUnavailable
    }
}
