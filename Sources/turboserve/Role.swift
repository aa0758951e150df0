/// The process roles of TurboServe. They meet only at the job store, its signals and the artifact directory.
///
/// - `serve`: API and workers in one process, on SQLite (the embedded default) or PostgreSQL.
/// - `api`: stateless HTTP (API, UI, SSE, its own metrics and probes); any number of replicas.
/// - `worker`: one engine with its scheduling core and output pipeline; one per GPU.
/// - `migrate`: applies the store's pending migrations and exits.
enum Role: String, Sendable {
    case serve, api, worker, migrate

    /// Whether the role shares its queue with other processes, so it needs a database they can all reach.
    var needsSharedStore: Bool { self == .api || self == .worker }
}
