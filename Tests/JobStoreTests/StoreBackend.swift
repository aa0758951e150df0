import Foundation
@testable import JobStorePostgres
import JobStore
import Logging
import Synchronization
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// Every JobStore backend the contract suite runs against.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The backends this run tests: PostgreSQL needs `TURBOSERVE_TEST_POSTGRES` (`scripts/start-test-postgres`
    /// prints it). Without it the PostgreSQL cases are skipped with a message, except under `CI=true`, where they
    /// run and fail.
    static let available: [StoreBackend] = {
        guard PostgresTestDatabase.dsn == nil, !PostgresTestDatabase.required else { return allCases }
        print("JobStoreTests: TURBOSERVE_TEST_POSTGRES is not set; skipping the PostgreSQL cases (eval \"$(scripts/start-test-postgres)\" runs them)")
        return allCases.filter { $0 != .postgres }
    }()

    /// A store on a new database. The SQLite case keeps its file in `folder`: the file named `file`, which a later
    /// call can open again, or else a file of its own.
    func make(time: TestTime, in folder: ScratchFolder, file: String? = nil) async throws -> any JobStore {
        try await makeShared(time: time, count: 1, in: folder, file: file)[0]
    }

    /// `count` store instances on one database (the in-memory twin: one instance, shared), as separate processes
    /// would open it.
    func makeShared(time: TestTime, count: Int, in folder: ScratchFolder, file: String? = nil, signals: LocalJobSignals? = nil) async throws -> [any JobStore] {
        switch self {
        case .memory:
            let store = InMemoryJobStore(now: { time.now }, signals: signals)
            return Array(repeating: store, count: count)
        case .sqlite:
            let url = folder.file(file ?? "\(UUID().uuidString).sqlite")
            return try (0..<count).map { _ in try SQLiteJobStore(path: url.path, now: { time.now }, signals: signals) }
        case .postgres:
            let configuration = try await PostgresTestDatabase.freshSchema()
            return (0..<count).map { _ in PostgresJobStore(configuration: configuration, clock: .pinned({ time.now }), logger: PostgresTestDatabase.logger) }
        }
    }

    /// A store publishing its changes and a `JobSignals` that hears them as another process would (PostgreSQL:
    /// a second store instance writes, a listener on its own connection hears). `ready` says when the listener
    /// is in place.
    func makeSignalled(time: TestTime, in folder: ScratchFolder) async throws -> (store: any JobStore, signals: any JobSignals, ready: @Sendable () -> Bool) {
        switch self {
        case .memory, .sqlite:
            let signals = LocalJobSignals()
            return (try await makeShared(time: time, count: 1, in: folder, signals: signals)[0], signals, { true })
        case .postgres:
            let configuration = try await PostgresTestDatabase.freshSchema()
            let store = PostgresJobStore(configuration: configuration, clock: .pinned({ time.now }), logger: PostgresTestDatabase.logger)
            let listener = PostgresJobSignals(configuration: configuration, logger: PostgresTestDatabase.logger)
            return (store, listener, { listener.isListening })
        }
    }
}

/// The PostgreSQL server the tests use (`TURBOSERVE_TEST_POSTGRES`), one fresh schema per store test.
enum PostgresTestDatabase {
    static let dsn = ProcessInfo.processInfo.environment["TURBOSERVE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static let logger: Logger = {
        var logger = Logger(label: "turboserve.tests.postgres")
        logger.logLevel = .error
        return logger
    }()

    /// The configuration of a new, migrated schema of its own.
    static func freshSchema() async throws -> PostgresStoreConfiguration {
        var configuration = try unmigratedSchema()
        configuration.maxConnections = 4
        try await PostgresJobStore.migrate(configuration: configuration, logger: logger)
        return configuration
    }

    /// The configuration of a schema name nobody used yet (created by the first migration).
    static func unmigratedSchema() throws -> PostgresStoreConfiguration {
        guard let dsn else {
            throw TurboServeError(.invalidValue, field: "TURBOSERVE_TEST_POSTGRES", "CI=true requires the PostgreSQL cases: set TURBOSERVE_TEST_POSTGRES (scripts/start-test-postgres prints it)")
        }
        var configuration = try PostgresStoreConfiguration(url: dsn)
        configuration.schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // Every store case migrates its own schema at once; on two busy cores a call can wait behind that DDL
        // for longer than production's 5 s. The outage tests set their own short deadlines.
        configuration.callTimeout = .seconds(60)
        return configuration
    }
}

