import ArgumentParser
import Foundation
import JobStore
import JobStorePostgres
import Logging
import ServerConfiguration

/// The job store of a role and the signals it publishes, opened from `storage.database`
/// (`TURBOSERVE_STORAGE_DATABASE`): `sqlite` is a file in `storage.data_dir` that only this process uses (signals
/// in-process); a `postgres://` URL is the fleet's shared database (signals by `LISTEN/NOTIFY`).
struct StoreConnection: Sendable {
    let store: any JobStore
    let signals: any JobSignals
    /// Whether other processes share this store (so a single node may not assume it owns every job).
    let isShared: Bool
    /// Whether the store answers now, and if not why (readiness: unhealthy while the database is unreachable,
    /// restarting or refusing sessions).
    let health: @Sendable () async -> StoreHealth
    /// Exporting the store-wide gauges: one process of those sharing the store does it.
    let storeGauges: any SingleOwnerDuty

    /// Opens the store for `role`, refusing a combination the role cannot honour with a message naming the setting.
    /// SQLite migrates on open. PostgreSQL migrates only for `migrate` and `serve`: api and worker pods never change
    /// the schema, so they never race a release (the migration Job runs first).
    static func open(for role: Role, settings: ServerConfiguration, dataDirectory: URL, logger: Logger) async throws -> StoreConnection {
        let database = settings.storage.database
        if database == "sqlite" {
            if role.needsSharedStore {
                throw ValidationError("storage.database is 'sqlite', a file only one process may use; `turboserve \(role.rawValue)` shares its queue with other processes, so set storage.database (TURBOSERVE_STORAGE_DATABASE) to a postgres:// URL, or run `turboserve serve` for one machine")
            }
            let signals = LocalJobSignals()
            let store = try SQLiteJobStore(path: dataDirectory.appendingPathComponent("turboserve.sqlite").path, signals: signals)
            return StoreConnection(store: store, signals: signals, isShared: false, health: { (try? await store.countByPhase()) != nil ? .healthy : .unhealthy("did not answer a count of its jobs") },
                                   storeGauges: SoleProcessDuty())
        }
        var configuration: PostgresStoreConfiguration
        do { configuration = try PostgresStoreConfiguration(url: database) } catch { throw ValidationError(error.message) }
        configuration.maxConnections = settings.storage.maxConnections
        configuration.callTimeout = .milliseconds(Int64((settings.storage.callTimeoutSeconds * 1000).rounded()))
        configuration.applicationName = "turboserve \(role.rawValue) \(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        let store = PostgresJobStore(configuration: configuration, logger: logger)
        if role == .migrate || role == .serve {
            let applied = try await store.migrate()
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["migrations": "\(applied)"]) }
        }
        let signals = PostgresJobSignals(configuration: configuration, logger: logger)
        return StoreConnection(store: store, signals: signals, isShared: true, health: { await store.health() },
                               storeGauges: PostgresDutyLock(duty: "store-gauges", configuration: configuration, logger: logger))
    }

    /// The URL without its password, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "postgres://…"
    }
}
