import Foundation
import PostgresNIO
import TurboServeDomain

/// Where and how the PostgreSQL job store connects: parsed from `storage.database`
/// (`postgres://user:password@host:port/database?sslmode=disable&schema=name`; `host=/socket/dir` in the query
/// selects a unix socket), plus the limits of one call.
public struct PostgresStoreConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// A directory holding the server's unix socket (`.s.PGSQL.<port>`); when set, `host` is not used.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    /// The schema holding the store's tables (its `search_path`); every instance sharing a queue uses the same
    /// one. Tests use a fresh schema each.
    public var schema: String
    /// TLS: `disable` (default on loopback) or `require`.
    public var requireTLS: Bool
    /// The longest one store call waits for a connection and its answer before it throws `JobStoreUnavailable`.
    public var callTimeout: Duration = .seconds(5)
    /// The longest `migrate()` may take once the database has answered (DDL on a large table is slow).
    public var migrationDeadline: Duration = .seconds(600)
    /// The longest one migration attempt waits for a table's lock before it gives way to running transactions
    /// (`lock_timeout`; the fleet's queries on that table queue behind it meanwhile) and is tried again.
    public var migrationLockTimeout: Duration = .seconds(1)
    /// Connections this process keeps at most.
    public var maxConnections: Int = 20
    /// The most creates committed in one transaction (`GroupCommitter`).
    public var createBatch: Int = 32
    /// How this process's sessions appear in `pg_stat_activity.application_name` (the role, host and pid), so an
    /// operator can tell whose session holds a lock. PostgreSQL keeps the first 63 bytes.
    public var applicationName = "turboserve"
    /// Create transactions this process runs at once: creates hold the queue bounds' exclusive lock to their
    /// commit, so a second batch waits at the lock, ready the moment the first commits.
    public var createsInFlight: Int = 2

    public init(host: String = "127.0.0.1", port: Int = 5432, socketDirectory: String? = nil, username: String = "postgres",
                password: String? = nil, database: String = "postgres", schema: String = "public", requireTLS: Bool = false) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.username = username
        self.password = password
        self.database = database
        self.schema = schema
        self.requireTLS = requireTLS
    }

    /// Parses a `postgres://` or `postgresql://` URL; throws `invalid_value` naming `storage.database` otherwise.
    public init(url: String) throws(TurboServeError) {
        func invalid(_ why: String) -> TurboServeError {
            TurboServeError(.invalidValue, field: "storage.database", "storage.database must be postgres://user[:password]@host[:port]/database[?sslmode=disable|require&schema=name]; \(why)")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              ["postgres", "postgresql"].contains(scheme) else { throw invalid("got a value that is not such a URL") }
        self.init()
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        if let user = components.user, !user.isEmpty { username = user }
        password = components.password
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty { database = path }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard ["disable", "require", "prefer", "allow"].contains(value) else { throw invalid("sslmode must be disable or require; got '\(value)'") }
                requireTLS = value == "require"
            case "schema":
                guard Self.isIdentifier(value) else { throw invalid("schema must be letters, digits and _ (not starting with a digit); got '\(value)'") }
                schema = value
            case "host": socketDirectory = value
            default: throw invalid("unknown parameter '\(item.name)' (allowed: sslmode, schema, host)")
            }
        }
    }

    /// A plain SQL identifier: safe to put in a `search_path` and a channel name without quoting.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 48 else { return false }
        let allowed = CharacterSet.lowercaseLetters.union(.uppercaseLetters).union(.decimalDigits).union(CharacterSet(charactersIn: "_"))
        return !CharacterSet.decimalDigits.contains(first) && text.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    /// The channel every store on this schema notifies and every listener on it hears.
    var channel: String { "turboserve_jobs_\(schema)".lowercased() }

    /// The transaction-scoped advisory lock one rescuer at a time holds (`PostgresJobStore.rescueExpired`).
    var rescueLock: String { "turboserve.rescue:\(schema)" }

    /// What every session of the store sets at connect:
    /// - `search_path`: the schema; `application_name`: `applicationName`.
    /// - `synchronous_commit` on: an acknowledged write is on disk whatever the server's default.
    /// - `idle_in_transaction_session_timeout` of `callTimeout`: a process stopped inside a transaction (SIGSTOP, a
    ///   frozen VM, a partition) holds that transaction's locks (a job's row, the rescue lock, the queue bounds')
    ///   only until its caller would have given up anyway; then the server ends the session, rolls it back and
    ///   every other process goes on. No live caller idles that long inside a transaction: it is abandoned by then.
    var sessionParameters: [(String, String)] {
        [("search_path", schema), ("application_name", applicationName), ("synchronous_commit", "on"),
         ("idle_in_transaction_session_timeout", "\(Self.milliseconds(callTimeout))")]
    }

    /// A server setting's value in milliseconds, at least 1 (0 would turn a timeout off).
    static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The server's unix socket when `socketDirectory` is set.
    var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    /// Where the store connects, for messages: the socket, or host:port (never the credentials).
    var address: String { socketPath ?? "\(host):\(port)" }

    /// The pool's configuration, each session with `sessionParameters`. The pool keeps at least one connection: it
    /// opens a connection for a call that waits only when the call arrives, or when it falls below that minimum
    /// when one closes. A call queued while the last connection was leased by a call abandoned at its deadline
    /// (`CallConnection` closes it) would otherwise wait for a connection nobody opens, until another call came.
    var client: PostgresClient.Configuration {
        var configuration = if let socketPath {
            PostgresClient.Configuration(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database,
                                         tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        }
        configuration.options.additionalStartupParameters = sessionParameters
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = callTimeout
        return configuration
    }

    /// A single connection's configuration (the listener's, a duty lock's), with the same `sessionParameters`;
    /// `idleSessionTimeout` ends the session once it has idled that long (the duty lock's, pinged while it runs).
    func connection(idleSessionTimeout: Duration? = nil) throws -> PostgresConnection.Configuration {
        var configuration = if let socketPath {
            PostgresConnection.Configuration(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database,
                                             tls: requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable)
        }
        configuration.options.additionalStartupParameters = sessionParameters
            + (idleSessionTimeout.map { [("idle_session_timeout", "\(Self.milliseconds($0))")] } ?? [])
        configuration.options.connectTimeout = .init(callTimeout)
        return configuration
    }
}
