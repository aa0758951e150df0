import Foundation
import TurboServeDomain

/// Every setting of a TurboServe node, with the defaults a fresh machine runs with (SQLite under `./var`, the tiny
/// CPU models, one engine). Loaded from one YAML file, then overridden by `TURBOSERVE_*` environment variables
/// (see `ConfigurationLoader`), then checked by `problems()`.
public struct ServerConfiguration: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
    }

    public struct Storage: Sendable, Equatable {
        /// Database, uploads and (unless `outputDirectory` is set) videos live here.
        public var dataDirectory = "./var"
        /// `sqlite` (embedded default) or a `postgres://` URL (multi-node).
        public var database = "sqlite"
        public var outputDirectory: String?
        /// Finished videos older than this are deleted (0 keeps them forever); their job records stay.
        public var retentionHours = 168.0
        /// How often retention looks for expired videos.
        public var retentionSweepSeconds = 600.0
        /// New jobs are refused (and running ones fail clearly) below this much free disk.
        public var minFreeDiskMB = 1024
    }

    public struct Limits: Sendable, Equatable {
        /// Beyond this many queued jobs, `POST /v1/videos` answers 429 `queue_full` and stores nothing.
        public var maxQueuedJobs = 10_000
        public var maxUploadMB = 16
        public var maxAttempts = 3
        /// How long `POST /v1/videos/sync` waits for its video before answering 504 `wait_timeout`.
        public var syncTimeoutSeconds = 600.0
    }

    public struct ModelCache: Sendable, Equatable {
        /// Distinct models kept on each device at most (an I2V model's two experts count once).
        public var maxResident = 2
        /// An idle expert is evicted after this long.
        public var keepAliveSeconds = 300.0
        /// Loaded when the engine starts.
        public var preload: [String] = ["tiny-t2v"]
        /// Never evicted.
        public var pinned: [String] = []
    }

    public struct Engines: Sendable, Equatable {
        /// One engine process per entry (one per GPU): `cpu`, `cuda`, `cuda:N`, or `auto`.
        public var devices = ["auto"]
        public var threadsPerEngine = 2
        /// Deadline of one engine call in seconds (`load` gets 4×). A call with no reply by then means the engine
        /// hangs: the bridge kills it (SIGKILL) and the call fails `engine_timeout`, handled like the engine exiting.
        public var callTimeoutSeconds = 600.0
        public var modelsDirectory = "./var/models"
        public var defaultModel = "tiny-t2v"
        /// Models offered by the API (must be installed, or tiny).
        public var enabled = ["tiny-t2v", "tiny-i2v"]
    }

    public struct Scheduler: Sendable, Equatable {
        public var maxBatchSize = 4
        /// Deadline = factor × the job's isolated latency, per priority class.
        public var sloFactors: [String: Double] = ["interactive": 3, "standard": 5, "batch": 20]
        /// Fair-share weights by tenant (absent tenants weigh 1).
        public var tenantWeights: [String: Double] = [:]
        /// What the scheduler favours under contention: a short tail (default) or deadlines met (`SchedulingObjective`).
        public var objective: SchedulingObjective = .tail
    }

    public struct Auth: Sendable, Equatable {
        /// API keys and the tenant each one acts for. Empty (and no keys file): auth is off, every job belongs to
        /// tenant `default`.
        public var apiKeys: [APIKey] = []
        /// A file with more keys, one `tenant:key` per line (`#` comments), read when the configuration loads.
        public var apiKeysFile: String?
    }

    public var server = Server()
    public var storage = Storage()
    public var limits = Limits()
    public var modelCache = ModelCache()
    public var engines = Engines()
    public var scheduler = Scheduler()
    public var auth = Auth()
    public var workers = Workers()

    /// How workers hold jobs (the ownership rules of `JobStore`).
    public struct Workers: Sendable, Equatable {
        /// A claim or heartbeat holds a worker's jobs this long; a worker silent longer loses them to the rescuer.
        public var leaseSeconds = 60.0
        /// How often a worker renews its leases (well under the lease).
        public var heartbeatSeconds = 10.0
        /// On SIGTERM, how long started jobs may run before the worker releases them to the queue.
        public var drainGraceSeconds = 60.0
    }

    public init() {}

    /// Everything wrong with this configuration, each naming its key and the allowed values. Empty when usable.
    public func problems() -> [ConfigurationProblem] {
        var problems: [ConfigurationProblem] = []
        func check(_ ok: Bool, _ key: String, _ message: String) {
            if !ok { problems.append(ConfigurationProblem(key: key, message: message)) }
        }
        check((1...65_535).contains(server.port), "server.port", "must be from 1 to 65535; got \(server.port)")
        check(!server.host.isEmpty, "server.host", "must not be empty")
        check(storage.database == "sqlite" || storage.database.hasPrefix("postgres://") || storage.database.hasPrefix("postgresql://"),
              "storage.database", "must be sqlite or a postgres:// URL; got '\(storage.database)'")
        check(storage.retentionHours >= 0, "storage.retention_hours", "must be 0 (keep forever) or more; got \(storage.retentionHours)")
        check(storage.retentionSweepSeconds >= 1, "storage.retention_sweep_interval", "must be at least 1 second (e.g. 600, 10m, 1h); got \(storage.retentionSweepSeconds)")
        check(storage.minFreeDiskMB >= 0, "storage.min_free_disk_mb", "must be 0 or more; got \(storage.minFreeDiskMB)")
        check(limits.maxQueuedJobs >= 1, "limits.max_queued_jobs", "must be at least 1; got \(limits.maxQueuedJobs)")
        check((1...1024).contains(limits.maxUploadMB), "limits.max_upload_mb", "must be from 1 to 1024; got \(limits.maxUploadMB)")
        check(limits.syncTimeoutSeconds > 0 && limits.syncTimeoutSeconds <= 86_400, "limits.sync_timeout_seconds", "must be more than 0 and at most 86400 seconds; got \(limits.syncTimeoutSeconds)")
        check((1...20).contains(limits.maxAttempts), "limits.max_attempts", "must be from 1 to 20; got \(limits.maxAttempts)")
        check(modelCache.maxResident >= 1, "model_cache.max_resident", "must be at least 1; got \(modelCache.maxResident)")
        check(modelCache.keepAliveSeconds >= 0, "model_cache.keep_alive", "must be 0 or more seconds; got \(modelCache.keepAliveSeconds)")
        let known = ModelCatalog.ids
        for (key, list) in [("model_cache.preload", modelCache.preload), ("model_cache.pinned", modelCache.pinned), ("engines.enabled", engines.enabled)] {
            for id in list where !known.contains(id) {
                problems.append(ConfigurationProblem(key: key, message: "unknown model '\(id)'; known: \(known.joined(separator: ", "))"))
            }
        }
        check(known.contains(engines.defaultModel), "engines.default_model", "unknown model '\(engines.defaultModel)'; known: \(known.joined(separator: ", "))")
        check(engines.enabled.contains(engines.defaultModel), "engines.default_model", "must be one of engines.enabled (\(engines.enabled.joined(separator: ", ")))")
        check(!engines.devices.isEmpty, "engines.devices", "must list at least one device")
        for device in engines.devices {
            let ok = device == "auto" || device == "cpu" || device == "cuda" || (device.hasPrefix("cuda:") && Int(device.dropFirst(5)) != nil)
            check(ok, "engines.devices", "'\(device)' is not a device; allowed: auto, cpu, cuda, cuda:N")
        }
        check((1...256).contains(engines.threadsPerEngine), "engines.threads_per_engine", "must be from 1 to 256; got \(engines.threadsPerEngine)")
        check(engines.callTimeoutSeconds > 0 && engines.callTimeoutSeconds <= 86_400, "engines.call_timeout_seconds", "must be more than 0 and at most 86400 seconds (a call's deadline; load gets 4×); got \(engines.callTimeoutSeconds)")
        check((1...64).contains(scheduler.maxBatchSize), "scheduler.max_batch_size", "must be from 1 to 64; got \(scheduler.maxBatchSize)")
        for (name, factor) in scheduler.sloFactors {
            check(PriorityClass(rawValue: name) != nil, "scheduler.slo_factors", "unknown class '\(name)'; allowed: \(PriorityClass.allCases.map(\.rawValue).joined(separator: ", "))")
            check(factor > 0, "scheduler.slo_factors.\(name)", "must be greater than 0; got \(factor)")
        }
        for (tenant, weight) in scheduler.tenantWeights {
            check(weight > 0, "scheduler.tenant_weights.\(tenant)", "must be greater than 0; got \(weight)")
        }
        check(workers.leaseSeconds >= 1, "workers.lease_seconds", "must be at least 1 second; got \(workers.leaseSeconds)")
        check(workers.heartbeatSeconds > 0 && workers.heartbeatSeconds * 2 <= workers.leaseSeconds, "workers.heartbeat_seconds",
              "must be more than 0 and at most half of workers.lease_seconds (\(workers.leaseSeconds)); got \(workers.heartbeatSeconds)")
        check(workers.drainGraceSeconds >= 0, "workers.drain_grace_seconds", "must be 0 or more seconds; got \(workers.drainGraceSeconds)")
        problems += APIKey.problems(auth.apiKeys)
        return problems
    }
}

/// One thing wrong with a configuration: the dotted key (as written in YAML or its `TURBOSERVE_…` variable) and why.
public struct ConfigurationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String
    public var description: String { "\(key): \(message)" }
}
