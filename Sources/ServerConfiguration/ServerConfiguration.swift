import Foundation
import TurboServeDomain

/// Every setting of a TurboServe node, with the defaults a fresh machine runs with (SQLite under `./var`, the tiny
/// CPU models, one engine). Loaded from one YAML file, then overridden by `TURBOSERVE_*` environment variables
/// (see `ConfigurationLoader`), then checked by `problems()`.
public struct ServerConfiguration: Sendable, Equatable {
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// A connection is closed when it sends nothing for this long: before its request head is complete (a
        /// slowloris client), between body chunks, or idle between requests. Never while a response streams.
        public var idleTimeoutSeconds = 30.0
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
        /// PostgreSQL only: the most pooled connections this process opens (opened as calls need them). Each
        /// process also keeps one for job signals, and an api replica one for the queue gauges' duty, so a fleet
        /// needs (this + 2) × processes under the server's `max_connections` (`docs/deploy.md`).
        public var maxConnections = 20
        /// PostgreSQL only: the longest one store call waits for a connection and its answer before the caller is
        /// told the store is unavailable (a create answers 503; a worker retries). The same figure bounds how long a
        /// process stopped inside a transaction keeps its locks (the server ends such a session once it has idled
        /// this long) and paces the queue gauges' keep-alive (a stopped holder loses the duty after three).
        public var callTimeoutSeconds = 5.0
    }

    public struct Limits: Sendable, Equatable {
        /// Beyond this many queued jobs, `POST /v1/videos` answers 429 `queue_full` and stores nothing.
        public var maxQueuedJobs = 10_000
        public var maxUploadMB = 16
        public var maxAttempts = 3
        /// How long `POST /v1/videos/sync` waits for its video before answering 202 Accepted with the video object.
        public var syncTimeoutSeconds = 600.0
        /// Beyond this many queued jobs of one tenant, its creates answer 429 `tenant_queue_full`; 0: no bound.
        public var maxQueuedPerTenant = 1_000
        /// Requests per second per tenant (token bucket, 429 `rate_limit_exceeded` with `Retry-After`); 0: off.
        public var requestsPerSecond = 0.0
        /// Requests a tenant may send at once above its rate (bucket size); 0: twice `requests_per_second`.
        public var burst = 0
        /// Multipart uploads received at once; beyond it a create is 503 `server_busy` before its body is read.
        public var maxConcurrentUploads = 8
        /// A request body must arrive within this long in all, else 408 `request_timeout`.
        public var bodyTimeoutSeconds = 60.0
        /// An event stream (`GET /v1/videos/{id}/events`) with nothing to say sends a `: keep-alive` comment this often.
        public var eventsHeartbeatSeconds = 15.0
        /// `prompt` and `negative_prompt` at most this many UTF-8 bytes (and 2000 characters).
        public var maxPromptBytes = 16_384
        /// An `input_reference` image may declare at most this many pixels (width × height, by its header).
        public var maxImagePixels = 40_000_000
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
        /// Where the engines find model weights (`engines.models_dir`); nil: `models/` under `storage.data_dir`.
        /// `TURBOSERVE_MODELS_DIR` in the environment overrides both (`EngineLocator.locate`).
        public var modelsDirectory: String?
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
        /// Model affinity across a fleet: a worker's claim prefers queued jobs for the models it holds, but a job
        /// queued this long is taken by the next claim of its class whatever the claimer holds. 0 turns it off.
        public var affinityWaitSeconds = 10.0
        /// What the scheduler favours under contention: a short tail (default), deadlines met, or arrival order
        /// (`SchedulingObjective`).
        public var objective: SchedulingObjective = .tail
        /// Under `objective: arrival`, how far a shorter job may go before an earlier, longer one: when it arrived
        /// less than this × the difference of their isolated latencies later (0: strict arrival order).
        public var arrivalLatencyFactor = SchedulingObjective.defaultArrivalLatencyFactor
        /// Which policy plans each engine: TurboServe's core (the default) or the serial baseline (one job at a
        /// time in arrival order, as upstream's server does), kept selectable to measure the core against it on
        /// the real engine.
        public var policy: SchedulerPolicyName = .turboserve
    }

    /// The policies `serve` and `worker` can run (`scheduler.policy`).
    public enum SchedulerPolicyName: String, Sendable, CaseIterable {
        case turboserve
        case serial
    }

    public struct Auth: Sendable, Equatable {
        /// API keys and the tenant each one acts for. Empty (and no keys file): auth is off, every job belongs to
        /// tenant `default`.
        public var apiKeys: [APIKey] = []
        /// A file with more keys, one `tenant:key` per line (`#` comments), read when the configuration loads.
        public var apiKeysFile: String?
        /// Operator keys, a separate list: they open `/v1/operations` (and `/metrics`), which tenant keys do not.
        /// With any key configured, those routes need one of these.
        public var operatorKeys: [String] = []
        /// A file with more operator keys, one per line (`#` comments).
        public var operatorKeysFile: String?
        /// Keep `/metrics` open without a key (a Prometheus scraper on a private network).
        public var metricsOpen = false
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
        check(server.idleTimeoutSeconds >= 1 && server.idleTimeoutSeconds <= 3_600, "server.idle_timeout_seconds", "must be from 1 to 3600 seconds; got \(server.idleTimeoutSeconds)")
        check(storage.database == "sqlite" || storage.database.hasPrefix("postgres://") || storage.database.hasPrefix("postgresql://"),
              "storage.database", "must be sqlite or a postgres:// URL; got '\(storage.database)'")
        check(storage.retentionHours >= 0, "storage.retention_hours", "must be 0 (keep forever) or more; got \(storage.retentionHours)")
        check(storage.retentionSweepSeconds >= 1, "storage.retention_sweep_interval", "must be at least 1 second (e.g. 600, 10m, 1h); got \(storage.retentionSweepSeconds)")
        check(storage.minFreeDiskMB >= 0, "storage.min_free_disk_mb", "must be 0 or more; got \(storage.minFreeDiskMB)")
        check((1...1000).contains(storage.maxConnections), "storage.max_connections", "must be from 1 to 1000 (this process's pooled PostgreSQL connections at most); got \(storage.maxConnections)")
        check(storage.callTimeoutSeconds >= 1 && storage.callTimeoutSeconds <= 120, "storage.call_timeout_seconds", "must be from 1 to 120 seconds (how long one PostgreSQL call may wait for its answer); got \(storage.callTimeoutSeconds)")
        check(limits.maxQueuedJobs >= 1, "limits.max_queued_jobs", "must be at least 1; got \(limits.maxQueuedJobs)")
        check((1...1024).contains(limits.maxUploadMB), "limits.max_upload_mb", "must be from 1 to 1024; got \(limits.maxUploadMB)")
        check(limits.syncTimeoutSeconds > 0 && limits.syncTimeoutSeconds <= 86_400, "limits.sync_timeout_seconds", "must be more than 0 and at most 86400 seconds; got \(limits.syncTimeoutSeconds)")
        check((1...20).contains(limits.maxAttempts), "limits.max_attempts", "must be from 1 to 20; got \(limits.maxAttempts)")
        check(limits.maxQueuedPerTenant >= 0, "limits.max_queued_per_tenant", "must be 0 (no bound) or more; got \(limits.maxQueuedPerTenant)")
        check(limits.requestsPerSecond >= 0 && limits.requestsPerSecond.isFinite, "limits.requests_per_second", "must be 0 (off) or a positive number; got \(limits.requestsPerSecond)")
        check(limits.burst >= 0, "limits.burst", "must be 0 (twice requests_per_second) or more; got \(limits.burst)")
        check((1...1_024).contains(limits.maxConcurrentUploads), "limits.max_concurrent_uploads", "must be from 1 to 1024; got \(limits.maxConcurrentUploads)")
        check(limits.bodyTimeoutSeconds >= 1 && limits.bodyTimeoutSeconds <= 3_600, "limits.body_timeout_seconds", "must be from 1 to 3600 seconds; got \(limits.bodyTimeoutSeconds)")
        check(limits.eventsHeartbeatSeconds >= 1 && limits.eventsHeartbeatSeconds <= 300, "limits.events_heartbeat_seconds", "must be from 1 to 300 seconds; got \(limits.eventsHeartbeatSeconds)")
        check((256...1 << 20).contains(limits.maxPromptBytes), "limits.max_prompt_bytes", "must be from 256 to 1048576; got \(limits.maxPromptBytes)")
        check((1...1 << 28).contains(limits.maxImagePixels), "limits.max_image_pixels", "must be from 1 to 268435456; got \(limits.maxImagePixels)")
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
        check((0...10).contains(scheduler.arrivalLatencyFactor), "scheduler.arrival_latency_factor", "must be from 0 (strict arrival order) to 10; got \(scheduler.arrivalLatencyFactor)")
        check(scheduler.affinityWaitSeconds >= 0, "scheduler.affinity_wait_seconds", "must be 0 or more seconds; got \(scheduler.affinityWaitSeconds)")
        for (tenant, weight) in scheduler.tenantWeights {
            check(weight > 0, "scheduler.tenant_weights.\(tenant)", "must be greater than 0; got \(weight)")
        }
        check(workers.leaseSeconds >= 1, "workers.lease_seconds", "must be at least 1 second; got \(workers.leaseSeconds)")
        check(workers.heartbeatSeconds > 0 && workers.heartbeatSeconds * 2 <= workers.leaseSeconds, "workers.heartbeat_seconds",
              "must be more than 0 and at most half of workers.lease_seconds (\(workers.leaseSeconds)); got \(workers.heartbeatSeconds)")
        check(workers.drainGraceSeconds >= 0, "workers.drain_grace_seconds", "must be 0 or more seconds; got \(workers.drainGraceSeconds)")
        problems += APIKey.problems(auth.apiKeys)
        for (index, key) in auth.operatorKeys.enumerated() {
            check(key.count >= 8 && !key.contains(where: \.isWhitespace), "auth.operator_keys[\(index)]", "must be at least 8 characters without spaces")
            check(!auth.apiKeys.contains { $0.key == key }, "auth.operator_keys[\(index)]", "is also a tenant's API key; operator keys must be separate")
        }
        return problems
    }
}

/// One thing wrong with a configuration: the dotted key (as written in YAML or its `TURBOSERVE_…` variable) and why.
public struct ConfigurationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String
    public var description: String { "\(key): \(message)" }
}
