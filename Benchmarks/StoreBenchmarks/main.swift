// The job store side by side, in one run: durable creates (16 concurrent clients) and contended claims (4
// workers) on SQLite and on PostgreSQL, at the store level (no HTTP). Reports throughput and p50/p99 latencies.
// Run: eval "$(scripts/start-test-postgres)"; swift run StoreBenchmarks [--creates 8000] [--clients 16] [--workers 4]
//      [--backends sqlite,postgres]
//      (PostgreSQL from TURBOSERVE_TEST_POSTGRES or --postgres URL; a fresh schema per run)
import Foundation
import JobStore
import JobStorePostgres
import Logging
import TurboServeDomain

struct Options {
    var creates = 8000
    var clients = 16
    var workers = 4
    var claimBatch = 4
    var postgres = ProcessInfo.processInfo.environment["TURBOSERVE_TEST_POSTGRES"]
    var backends: Set<String> = ["sqlite", "postgres"]

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next()
            switch flag {
            case "--creates": creates = value.flatMap(Int.init) ?? creates
            case "--clients": clients = value.flatMap(Int.init) ?? clients
            case "--workers": workers = value.flatMap(Int.init) ?? workers
            case "--claim-batch": claimBatch = value.flatMap(Int.init) ?? claimBatch
            case "--postgres": postgres = value
            case "--backends": backends = Set((value ?? "").split(separator: ",").map(String.init))
            default: FileHandle.standardError.write(Data("unknown flag \(flag)\n".utf8)); exit(2)
            }
        }
    }
}

/// Latency samples in milliseconds.
struct Samples {
    var values: [Double] = []
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }
}

struct Result {
    var backend: String
    var createsPerSecond: Double
    var create: Samples
    var claim: Samples
    var claimed: Int
}

let spec = try JobValidator().validate(JobSpec(prompt: "a fox in the snow", model: "tiny-t2v", steps: 2, seed: 1), randomSeed: { 0 })

/// `clients` tasks create `creates` jobs between them, each waiting for its create before the next (the HTTP
/// handler's pattern): the bounded queue and per-tenant bound are on, as `serve` configures them by default.
func measureCreates(_ store: any JobStore, options: Options) async throws -> (perSecond: Double, samples: Samples) {
    let perClient = options.creates / options.clients
    let clock = ContinuousClock()
    let started = clock.now
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for client in 0..<options.clients {
            group.addTask {
                var mine: [Double] = []
                for i in 0..<perClient {
                    var job = NewJob(id: JobID("c\(client)-\(i)"), tenant: TenantID("tenant-\(client)"), spec: spec, idempotencyKey: "k\(client)-\(i)", maxQueued: 10_000)
                    job.maxQueuedPerTenant = 1_000
                    let before = clock.now
                    _ = try await store.create(job)
                    mine.append((clock.now - before).milliseconds)
                }
                return mine
            }
        }
        return try await group.reduce(into: [Double]()) { $0 += $1 }
    }
    let elapsed = (clock.now - started).milliseconds / 1000
    return (Double(latencies.count) / elapsed, Samples(values: latencies))
}

/// `workers` tasks claim `claimBatch` jobs at a time from the queue the creates filled, concurrently, until it is
/// empty; each claim call is timed. Each worker finishes its batch (untimed) before claiming again, as a real
/// worker holds only what it is running: the claim counts the jobs every worker holds, and a benchmark that
/// never finished any would grow that set to the whole queue.
func measureClaims(_ store: any JobStore, options: Options) async throws -> (samples: Samples, claimed: Int) {
    let clock = ContinuousClock()
    let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
        for worker in 0..<options.workers {
            group.addTask {
                var mine: [Double] = []
                var count = 0
                while true {
                    let before = clock.now
                    let batch = try await store.claim(worker: "worker-\(worker)", limit: options.claimBatch, lease: .seconds(60))
                    mine.append((clock.now - before).milliseconds)
                    if batch.isEmpty { return (mine, count) }
                    count += batch.count
                    for job in batch {
                        _ = try await store.fail(job.id, worker: "worker-\(worker)", code: "engine_error", message: "benchmark: done")
                    }
                }
            }
        }
        return try await group.reduce(into: ([Double](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
    }
    return (Samples(values: results.0), results.1)
}

func run(_ name: String, _ store: any JobStore, options: Options) async throws -> Result {
    let creates = try await measureCreates(store, options: options)
    let claims = try await measureClaims(store, options: options)
    return Result(backend: name, createsPerSecond: creates.perSecond, create: creates.samples, claim: claims.samples, claimed: claims.claimed)
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

let options = Options(CommandLine.arguments)
var logger = Logger(label: "turboserve.bench.store")
logger.logLevel = .error
var results: [Result] = []

if options.backends.contains("sqlite") {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("turboserve-bench-\(UUID().uuidString).sqlite")
    results.append(try await run("SQLite (WAL, synchronous=FULL)", try SQLiteJobStore(path: file.path), options: options))
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
}

if options.backends.contains("postgres"), let url = options.postgres {
    var configuration = try PostgresStoreConfiguration(url: url)
    configuration.schema = "bench_\(UInt32.random(in: 0...UInt32.max))"
    configuration.maxConnections = options.clients + options.workers
    try await PostgresJobStore.migrate(configuration: configuration, logger: logger)
    let store = PostgresJobStore(configuration: configuration, logger: logger)
    results.append(try await run("PostgreSQL (synchronous_commit=on)", store, options: options))
    store.shutdown()
} else if options.backends.contains("postgres") {
    print("(no PostgreSQL: set TURBOSERVE_TEST_POSTGRES or pass --postgres URL)")
}

func format(_ value: Double) -> String { String(format: "%.2f", value) }
print("Job store, \(options.creates) creates by \(options.clients) clients, then claims of \(options.claimBatch) by \(options.workers) workers until empty")
print("| backend | creates/s | create p50 (ms) | create p99 (ms) | claim p50 (ms) | claim p99 (ms) | jobs claimed |")
print("|---|---:|---:|---:|---:|---:|---:|")
for result in results {
    print("| \(result.backend) | \(Int(result.createsPerSecond)) | \(format(result.create.percentile(0.5))) | \(format(result.create.percentile(0.99))) | \(format(result.claim.percentile(0.5))) | \(format(result.claim.percentile(0.99))) | \(result.claimed) |")
}
