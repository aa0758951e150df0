import Foundation
import JobStore
import Logging
import PostgresNIO
import Synchronization

/// Job signals from every process sharing the database: `LISTEN`s on the store's channel over a dedicated
/// connection (not one of the pool's) and hands each notification to this process's subscribers.
///
/// Guarantees: a signal is heard only after the change it names committed (the store notifies inside the writing
/// transaction). While the connection is down (database restarting, network) signals are lost; the listener
/// reconnects with exponential backoff (50 ms doubling to 2 s) and `isListening` is false meanwhile, so consumers
/// keep their polling fallback (the `JobSignals` contract).
///
/// Lifetime: listens from `init` until `shutdown()` (or deinit). Thread-safety: safe from any task.
public final class PostgresJobSignals: JobSignals {
    /// What the listening task reports and this type reads.
    private final class Status: Sendable {
        let listening = Atomic<Bool>(false)
        let connections = Atomic<Int>(0)
    }

    private let fanOut: LocalJobSignals
    private let status = Status()
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(configuration: PostgresStoreConfiguration, buffer: Int = 1024, logger: Logger = Logger(label: "turboserve.signals.postgres")) {
        let fanOut = LocalJobSignals(buffer: buffer)
        self.fanOut = fanOut
        let loop = Task { [status] in
            await Self.listen(configuration: configuration, fanOut: fanOut, status: status, logger: logger)
        }
        task.withLock { $0 = loop }
    }

    deinit { shutdown() }

    /// Stops listening; subscribers hear nothing more.
    public func shutdown() { task.withLock { $0?.cancel() } }

    public func subscribe() -> AsyncStream<JobSignal> { fanOut.subscribe() }

    /// Whether the `LISTEN` is in place now (readiness, and tests waiting for it).
    public var isListening: Bool { status.listening.load(ordering: .acquiring) }

    /// How many times the listener connected (1 after the first connection; more after reconnects).
    public var connections: Int { status.connections.load(ordering: .relaxed) }

    private static func listen(configuration: PostgresStoreConfiguration, fanOut: LocalJobSignals, status: Status, logger: Logger) async {
        let initial: Duration = .milliseconds(50)
        var backoff = initial
        var connectionID = 0
        while !Task.isCancelled {
            connectionID += 1
            do {
                let connection = try await PostgresConnection.connect(configuration: try configuration.connection(), id: connectionID, logger: logger)
                do {
                    try await connection.listen(on: configuration.channel) { notifications in
                        // Queries on one connection run in order: once this answers, the LISTEN is in place.
                        try await connection.query("SELECT 1", logger: logger)
                        status.listening.store(true, ordering: .releasing)
                        status.connections.add(1, ordering: .relaxed)
                        backoff = initial
                        for try await notification in notifications {
                            if let signal = JobSignal(payload: notification.payload) { fanOut.publish(signal) }
                        }
                    }
                } catch {
                    logger.warning("job signals: the listening connection failed; reconnecting", metadata: ["error": "\(error)"])
                }
                status.listening.store(false, ordering: .releasing)
                try? await connection.close()
            } catch {
                status.listening.store(false, ordering: .releasing)
                logger.debug("job signals: cannot connect; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(2))
        }
        status.listening.store(false, ordering: .releasing)
    }
}
