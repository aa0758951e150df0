import JobStore
import Logging
import PostgresNIO

/// A `SingleOwnerDuty` held as a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
/// keyed by the duty's name and the store's schema: the server itself guarantees one holder, and releases the lock
/// the moment the holder's session ends (the process died, the connection broke, the database restarted), so the
/// next process that asks takes over.
///
/// A holder that stops without its session ending (SIGSTOP, a frozen VM, a partition that drops packets) would keep
/// the duty for ever, and nobody would export the store-wide gauges the autoscaler reads. So the held session sets
/// `idle_session_timeout` to three `keepAlive` periods and the holder pings it every `keepAlive`: while the
/// process runs the session never idles that long; once it stops, the server ends the session and frees the duty.
///
/// Each `holds()` checks the held connection with a trivial query, or, holding nothing, connects and tries the lock
/// (a process that does not get it closes that connection again). Every answer comes within the store's
/// `callTimeout`. Thread-safety: an actor; calls are serialised.
public actor PostgresDutyLock: SingleOwnerDuty {
    private let configuration: PostgresStoreConfiguration
    private let key: String
    private let logger: Logger
    /// How often the held session is pinged; it ends after three periods without a ping.
    let keepAlive: Duration
    private var connection: PostgresConnection?
    private var connectionID = 0
    private var pinger: Task<Void, Never>?

    /// `keepAlive` defaults to the store's `callTimeout`, so a stopped holder frees the duty within three of them.
    public init(duty: String, configuration: PostgresStoreConfiguration, keepAlive: Duration? = nil, logger: Logger) {
        self.configuration = configuration
        key = "turboserve.duty:\(configuration.schema):\(duty)"
        self.keepAlive = keepAlive ?? configuration.callTimeout
        self.logger = logger
    }

    deinit { pinger?.cancel() }

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
        let (settings, id, logger, idleLimit) = (configuration, connectionID, logger, keepAlive * 3)
        let opened = await answer(within: configuration.callTimeout, orElse: { JobStoreUnavailable(backend: "postgresql", reason: "no connection within \(settings.callTimeout)") }) {
            try await PostgresConnection.connect(configuration: try settings.connection(idleSessionTimeout: idleLimit), id: id, logger: logger)
        }
        guard case let .success(fresh) = opened else { return false }
        if await ask(fresh, "SELECT pg_try_advisory_lock(hashtext(\(key)))") {
            connection = fresh
            startPinging()
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

    /// Keeps the held session from idling into its timeout while this process runs; stops once the duty is dropped.
    private func startPinging() {
        pinger?.cancel()
        let period = keepAlive
        pinger = Task { [weak self] in
            while !Task.isCancelled {
                guard (try? await Task.sleep(for: period)) != nil, let self else { return }
                guard await self.pingHeld() else { return }
            }
        }
    }

    /// Pings the held session; false once nothing is held (the next `holds()` reports and drops a failed one).
    private func pingHeld() async -> Bool {
        guard let held = connection, !held.isClosed else { return false }
        _ = await ask(held, "SELECT true")
        return true
    }

    /// The test seam for a stopped holder: stops the pings, keeping the session and the lock as they are.
    func stopPinging() {
        pinger?.cancel()
        pinger = nil
    }

    private func drop() async {
        pinger?.cancel()
        pinger = nil
        guard let held = connection else { return }
        connection = nil
        try? await held.close()
    }
}
