import JobStore
import Logging
import PostgresNIO

/// A `SingleOwnerDuty` held as a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
/// keyed by the duty's name and the store's schema: the server itself guarantees one holder, and releases the lock
/// the moment the holder's session ends (the process died, the connection broke, the database restarted), so the
/// next process that asks takes over.
///
/// Each `holds()` checks the held connection with a trivial query, or, holding nothing, connects and tries the lock
/// (a process that does not get it closes that connection again). Every answer comes within the store's
/// `callTimeout`. Thread-safety: an actor; calls are serialised.
public actor PostgresDutyLock: SingleOwnerDuty {
    private let configuration: PostgresStoreConfiguration
    private let key: String
    private let logger: Logger
    private var connection: PostgresConnection?
    private var connectionID = 0

    public init(duty: String, configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        key = "turboserve.duty:\(configuration.schema):\(duty)"
        self.logger = logger
    }

    public func holds() async -> Bool {
        if let held = connection {
            if !held.isClosed, await ask(held, "SELECT true") { return true }
            logger.warning("lost the store-wide duty's lock (its connection ended); another process may take it", metadata: ["duty": "\(key)"])
            await drop()
        }
        return await take()
    }

    /// Gives the duty up: unlocks it on the held session before ending that session, so the next `holds()` of
    /// another process already finds it free (the server frees a closed session's locks only once its backend
    /// has exited, which trails the close).
    public func shutdown() async {
        if let held = connection, !held.isClosed { _ = await ask(held, "SELECT pg_advisory_unlock(hashtext(\(key)))") }
        await drop()
    }

    private func take() async -> Bool {
        connectionID += 1
        let (settings, id, logger) = (configuration, connectionID, logger)
        let opened = await answer(within: configuration.callTimeout, orElse: { JobStoreUnavailable(backend: "postgresql", reason: "no connection within \(settings.callTimeout)") }) {
            try await PostgresConnection.connect(configuration: try settings.connection(), id: id, logger: logger)
        }
        guard case let .success(fresh) = opened else { return false }
        if await ask(fresh, "SELECT pg_try_advisory_lock(hashtext(\(key)))") {
            connection = fresh
            logger.info("took the store-wide duty", metadata: ["duty": "\(key)"])
            return true
        }
        try? await fresh.close()
        return false
    }

    /// Whether `query` (one boolean) answers true on `connection` within the call deadline.
    private func ask(_ connection: PostgresConnection, _ query: PostgresQuery) async -> Bool {
        let logger = logger
        let outcome = await answer(within: configuration.callTimeout, orElse: { JobStoreUnavailable(backend: "postgresql", reason: "no answer") }) {
            try await connection.query(query, logger: logger).decode(Bool.self).reduce(false) { $0 || $1 }
        }
        return (try? outcome.get()) ?? false
    }

    private func drop() async {
        guard let held = connection else { return }
        connection = nil
        try? await held.close()
    }
}
