import JobStore
import PostgresNIO
import Synchronization

/// The pooled connection one store call runs on, so that the call's deadline can close it. A call abandoned at its
/// deadline would otherwise leave its query running on a leased connection — behind a row lock, on a hung server,
/// across a partition that drops packets (TCP takes minutes to give up) — and the pool, all of whose connections
/// can end up leased that way, would answer nothing more even once the database answers again (a failover to a new
/// host). Closed, the connection fails its query at once and leaves the pool, which opens a fresh one for the next
/// call (`PostgresStoreConfiguration.client` keeps the pool from waiting at zero connections). The server ends the
/// session, and with it any open transaction, once it reads the close; a write it had already read before may still
/// commit, which is why such a failure says `mayHaveApplied`.
///
/// Lifetime: one per call. `withConnection` records the connection the call leases; `abandon()` (the deadline) closes
/// it, or makes a lease that comes later fail at once. Thread-safety: a mutex; the call's task and the deadline's
/// may act at once.
final class CallConnection: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var abandoned = false
    }
    private let state = Mutex(State())

    /// `body` on a connection leased from `client`, which the deadline may close under it.
    private func withConnection<T: Sendable>(from client: PostgresClient, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let abandoned = state.withLock { state in
                state.connection = connection
                return state.abandoned
            }
            defer { state.withLock { $0.connection = nil } }
            if abandoned { throw CancellationError() }
            do {
                return try await body(connection)
            } catch where state.withLock({ $0.abandoned }) {
                // Handed back before the pool has seen it close, the connection could go to the next waiting call,
                // which would fail on it; the pool hears of the close first on the close future, so wait for that.
                try? await connection.closeFuture.get()
                throw error
            }
        }
    }

    /// `body` on a connection leased from `client`, answered within `limit`: its outcome, or, once `limit` passed
    /// first, `JobStoreUnavailable` ("no answer within …", with what `mayHaveApplied` says when it is asked), and then
    /// the connection `body` runs on is closed. Every store call goes through here.
    static func answer<T: Sendable>(on client: PostgresClient, within limit: Duration, mayHaveApplied: @escaping @Sendable () -> Bool = { false },
                                    _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async -> Result<T, any Error> {
        let leased = CallConnection()
        return await JobStorePostgres.answer(within: limit, orElse: {
            leased.abandon()
            return JobStoreUnavailable(backend: "postgresql", reason: "no answer within \(limit)", mayHaveApplied: mayHaveApplied())
        }, { try await leased.withConnection(from: client, body) })
    }

    /// The caller was answered without waiting for the call (its deadline passed): close the connection it runs on.
    private func abandon() {
        let connection = state.withLock { state in
            state.abandoned = true
            return state.connection
        }
        // The channel closes on its event loop: no task to schedule, so a busy cooperative pool does not delay it.
        let _: EventLoopFuture<Void>? = connection?.close()
    }
}
