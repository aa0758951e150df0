import JobStore
import Logging
import PostgresNIO

/// Tells why the database did not answer the pool: it opens one new session of its own and reports what happened,
/// so a readiness failure names the cause an operator acts on — the server refused the login (full
/// `max_connections`, a database closed to connections, a wrong password: the server's words and SQLSTATE), the
/// address refused the connection (nothing listening), nothing answered at all (a hung server or a network that drops
/// packets), or a fresh session opens fine (then this process's own connections are the problem: all busy, or stale).
///
/// Stateless; each `diagnose` opens at most one connection and closes it before returning.
struct SessionProbe: Sendable {
    let configuration: PostgresStoreConfiguration
    let logger: Logger

    /// The clause for `StoreHealth.unhealthy`, decided within `limit`.
    func diagnose(within limit: Duration) async -> String {
        let (settings, logger) = (configuration, logger)
        let opened = await answer(within: limit, orElse: { JobStoreUnavailable(backend: "postgresql", reason: "no session") }) {
            try await PostgresConnection.connect(configuration: try settings.connection(), id: 0, logger: logger)
        }
        switch opened {
        case .success(let connection):
            try? await connection.close()
            return "did not answer the health check within \(limit), though it opens new sessions: this process's connections are all busy or stale (storage.max_connections is \(configuration.maxConnections))"
        case .failure(let error as PSQLError) where error.serverInfo != nil:
            let info = error.serverInfo
            let message = info?[.message] ?? "no message", sqlState = info?[.sqlState] ?? "unknown"
            return "refused the session: \(message) (SQLSTATE \(sqlState))"
        case .failure(is JobStoreUnavailable):
            return "did not answer within \(limit) at \(configuration.address) (a hung server, or a network that drops packets)"
        case .failure(let error as PSQLError):
            return "cannot be reached at \(configuration.address): \(error.underlying.map { String(describing: $0) } ?? "\(error.code)")"
        case .failure(let error):
            return "cannot be reached at \(configuration.address): \(error)"
        }
    }
}
