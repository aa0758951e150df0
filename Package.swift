// swift-tools-version: 6.1
import PackageDescription

// Dependency policy: keep the set lean. The scheduling core and the domain import nothing but the standard
// library (and swift-collections' data structures); I/O libraries enter only at the shell targets.
let package = Package(
    name: "TurboServe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "turboserve", targets: ["turboserve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Value types shared by every layer: job specs, validation, models, shapes, the job state machine, errors.
        .target(name: "TurboServeDomain"),
        // The pure scheduler: no I/O, no wall clock, no environment. Generic over an injected clock.
        .target(
            name: "SchedulingCore",
            dependencies: [
                "TurboServeDomain",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            // The core is generic over its clock; this lets clients (the simulator, the worker) specialize it for
            // their clock instead of running it through generic metadata.
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]
        ),
        // Discrete-event simulator, calibrated cost model, baseline policies, bench reports.
        .target(name: "Simulation", dependencies: ["TurboServeDomain", "SchedulingCore"]),
        // The durable job record: protocol JobStore, its in-memory twin, SQLite (GRDB). PostgreSQL joins later.
        .target(
            name: "JobStore",
            dependencies: ["TurboServeDomain", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The PostgreSQL backend of JobStore (PostgresNIO) and the LISTEN/NOTIFY JobSignals: the fleet's shared queue.
        .target(
            name: "JobStorePostgres",
            dependencies: [
                "JobStore", "TurboServeDomain",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Uploads, MP4s and thumbnails: protocol ArtifactStore, the shared-directory default and its in-memory twin.
        .target(name: "Artifacts"),
        // One YAML file + TURBOSERVE_* environment overrides, validated with messages that name the key.
        .target(
            name: "ServerConfiguration",
            dependencies: ["TurboServeDomain", .product(name: "Yams", package: "Yams")]
        ),
        // The imperative shell: drives a scheduling policy, the store, an engine and the output pipeline.
        .target(
            name: "WorkerRuntime",
            dependencies: [
                "TurboServeDomain", "SchedulingCore", "JobStore", "EngineBridge", "Artifacts",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The OpenAI-compatible HTTP API (Hummingbird 2): controllers, error mapping, multipart, ranges.
        .target(
            name: "HTTPServer",
            dependencies: [
                "TurboServeDomain", "JobStore", "Artifacts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Engine process supervision, protocol codec, typed client; output pipeline (ffmpeg).
        .target(name: "EngineBridge", dependencies: ["TurboServeDomain"]),
        .executableTarget(
            name: "turboserve",
            dependencies: [
                "TurboServeDomain", "SchedulingCore", "Simulation", "EngineBridge", "JobStore", "JobStorePostgres", "HTTPServer", "WorkerRuntime", "ServerConfiguration", "Artifacts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: ["TurboServeDomain", "SchedulingCore", "Simulation"],
            path: "Benchmarks/CoreBenchmarks"
        ),
        .executableTarget(
            name: "StoreBenchmarks",
            dependencies: ["JobStore", "JobStorePostgres", "TurboServeDomain", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/StoreBenchmarks"
        ),
        // Clocks, fixtures and polling the test suites share (one copy, not one per suite).
        .target(name: "TurboServeTestSupport", dependencies: ["TurboServeDomain", "SchedulingCore"], path: "Tests/TurboServeTestSupport"),
        .testTarget(name: "TurboServeDomainTests", dependencies: ["TurboServeDomain"]),
        .testTarget(name: "SchedulingCoreTests", dependencies: ["SchedulingCore", "TurboServeDomain"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "SchedulingCore", "TurboServeDomain", "TurboServeTestSupport"]),
        .testTarget(
            name: "JobStoreTests",
            dependencies: ["JobStore", "JobStorePostgres", "TurboServeDomain", "TurboServeTestSupport", .product(name: "Logging", package: "swift-log"), .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "JobStore", "TurboServeDomain", "Artifacts", "TurboServeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "TurboServeTestSupport"]),
        .testTarget(name: "WorkerRuntimeTests", dependencies: ["WorkerRuntime", "SchedulingCore", "JobStore", "TurboServeDomain", "EngineBridge", "Artifacts", "TurboServeTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ServerConfigurationTests", dependencies: ["ServerConfiguration", "TurboServeTestSupport"]),
        .testTarget(name: "EngineBridgeTests", dependencies: ["EngineBridge", "TurboServeDomain", "SchedulingCore", "WorkerRuntime", "TurboServeTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
