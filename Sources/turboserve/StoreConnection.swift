import ArgumentParser
import Foundation
import JobStore
import Logging
import ServerConfiguration

/// The job store of a role and the signals it publishes, opened from `storage.database`
/// (`TURBOSERVE_STORAGE_DATABASE`): `sqlite` is a file in `storage.data_dir` that only this process uses; a
/// `postgres://` URL is the fleet's shared database.
struct StoreConnection: Sendable {
    let store: any JobStore
    let signals: any JobSignals
    /// Whether other processes share this store (so a single node may not assume it owns every job).
    let isShared: Bool
    /// Whether the store answers now (readiness: false while the database is unreachable or restarting).
    let isHealthy: @Sendable () async -> Bool

    /// Opens the store for `role`, refusing a combination the role cannot honour with a message naming the setting.
    /// Opening applies pending migrations (SQLite always; PostgreSQL only for `migrate` and `serve`, so api and
    /// worker pods never race a schema change and the migration Job runs first).
    static func open(for role: Role, settings: ServerConfiguration, dataDirectory: URL, logger: Logger) async throws -> StoreConnection {
        let database = settings.storage.database
        guard database == "sqlite" else {
            throw ValidationError("storage.database: PostgreSQL ('\(redacted(database))') is not wired into this build yet; use 'sqlite' with `turboserve serve`")
        }
        if role.needsSharedStore {
            throw ValidationError("storage.database is 'sqlite', a file only one process may use; `turboserve \(role.rawValue)` shares its queue with other processes, so set storage.database (TURBOSERVE_STORAGE_DATABASE) to a postgres:// URL, or run `turboserve serve` for one machine")
        }
        let signals = LocalJobSignals()
        let sqlite = try SQLiteJobStore(path: dataDirectory.appendingPathComponent("turboserve.sqlite").path)
        return StoreConnection(store: SignallingJobStore(base: sqlite, signals: signals), signals: signals, isShared: false, isHealthy: { (try? await sqlite.countByPhase()) != nil })
    }

    /// The URL without its password, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "postgres://…"
    }
}
