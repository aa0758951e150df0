import Foundation
import TurboServeDomain
import Yams

/// Reads a `ServerConfiguration`: defaults ← YAML file ← environment (`TURBOSERVE_SERVER_PORT=9000`, i.e.
/// `TURBOSERVE_` + the dotted key upper-cased with `_` for `.`; lists are comma-separated). Unknown keys and
/// ill-typed values are problems naming the key, never ignored silently. Pure apart from reading the file.
public enum ConfigurationLoader {
    /// Every settable key, with how to apply a textual value. The single source of the YAML schema.
    static let settings: [(key: String, apply: @Sendable (inout ServerConfiguration, Setting) throws -> Void)] = [
        ("server.host", { $0.server.host = try $1.string() }),
        ("server.port", { $0.server.port = try $1.int() }),
        ("server.idle_timeout_seconds", { $0.server.idleTimeoutSeconds = try $1.seconds() }),
        ("storage.data_dir", { $0.storage.dataDirectory = try $1.string() }),
        ("storage.database", { $0.storage.database = try $1.string() }),
        ("storage.output_dir", { $0.storage.outputDirectory = try $1.string() }),
        ("storage.retention_hours", { $0.storage.retentionHours = try $1.double() }),
        ("storage.retention_sweep_interval", { $0.storage.retentionSweepSeconds = try $1.seconds() }),
        ("storage.min_free_disk_mb", { $0.storage.minFreeDiskMB = try $1.int() }),
        ("storage.max_connections", { $0.storage.maxConnections = try $1.int() }),
        ("storage.call_timeout_seconds", { $0.storage.callTimeoutSeconds = try $1.seconds() }),
        ("limits.max_queued_jobs", { $0.limits.maxQueuedJobs = try $1.int() }),
        ("limits.max_upload_mb", { $0.limits.maxUploadMB = try $1.int() }),
        ("limits.max_attempts", { $0.limits.maxAttempts = try $1.int() }),
        ("limits.sync_timeout_seconds", { $0.limits.syncTimeoutSeconds = try $1.seconds() }),
        ("limits.max_queued_per_tenant", { $0.limits.maxQueuedPerTenant = try $1.int() }),
        ("limits.requests_per_second", { $0.limits.requestsPerSecond = try $1.double() }),
        ("limits.burst", { $0.limits.burst = try $1.int() }),
        ("limits.max_concurrent_uploads", { $0.limits.maxConcurrentUploads = try $1.int() }),
        ("limits.body_timeout_seconds", { $0.limits.bodyTimeoutSeconds = try $1.seconds() }),
        ("limits.events_heartbeat_seconds", { $0.limits.eventsHeartbeatSeconds = try $1.seconds() }),
        ("limits.max_prompt_bytes", { $0.limits.maxPromptBytes = try $1.int() }),
        ("limits.max_image_pixels", { $0.limits.maxImagePixels = try $1.int() }),
        ("model_cache.max_resident", { $0.modelCache.maxResident = try $1.int() }),
        ("model_cache.keep_alive", { $0.modelCache.keepAliveSeconds = try $1.seconds() }),
        ("model_cache.preload", { $0.modelCache.preload = try $1.list() }),
        ("model_cache.pinned", { $0.modelCache.pinned = try $1.list() }),
        ("engines.devices", { $0.engines.devices = try $1.list() }),
        ("engines.threads_per_engine", { $0.engines.threadsPerEngine = try $1.int() }),
        ("engines.call_timeout_seconds", { $0.engines.callTimeoutSeconds = try $1.seconds() }),
        ("engines.models_dir", { $0.engines.modelsDirectory = try $1.string() }),
        ("engines.default_model", { $0.engines.defaultModel = try $1.string() }),
        ("engines.enabled", { $0.engines.enabled = try $1.list() }),
        ("scheduler.max_batch_size", { $0.scheduler.maxBatchSize = try $1.int() }),
        ("scheduler.slo_factors", { $0.scheduler.sloFactors = try $1.numberMap() }),
        ("scheduler.tenant_weights", { $0.scheduler.tenantWeights = try $1.numberMap() }),
        ("scheduler.affinity_wait_seconds", { $0.scheduler.affinityWaitSeconds = try $1.seconds() }),
        ("scheduler.objective", { $0.scheduler.objective = try $1.oneOf(SchedulingObjective.self) }),
        ("scheduler.arrival_latency_factor", { $0.scheduler.arrivalLatencyFactor = try $1.double() }),
        ("scheduler.policy", { $0.scheduler.policy = try $1.oneOf(ServerConfiguration.SchedulerPolicyName.self) }),
        ("auth.api_keys", { $0.auth.apiKeys = try $1.apiKeys() }),
        ("auth.api_keys_file", { $0.auth.apiKeysFile = try $1.string() }),
        ("workers.lease_seconds", { $0.workers.leaseSeconds = try $1.seconds() }),
        ("workers.heartbeat_seconds", { $0.workers.heartbeatSeconds = try $1.seconds() }),
        ("workers.drain_grace_seconds", { $0.workers.drainGraceSeconds = try $1.seconds() }),
        ("auth.operator_keys", { $0.auth.operatorKeys = try $1.list() }),
        ("auth.operator_keys_file", { $0.auth.operatorKeysFile = try $1.string() }),
        ("auth.metrics_open", { $0.auth.metricsOpen = try $1.bool() }),
    ]

    /// Loads `path` (nil: defaults only) and applies `environment`. Returns the configuration and every problem
    /// found while reading (the caller also checks `problems()` on the result).
    public static func load(path: String?, environment: [String: String]) -> (ServerConfiguration, [ConfigurationProblem]) {
        var configuration = ServerConfiguration()
        var problems: [ConfigurationProblem] = []
        if let path {
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                problems += apply(yaml: text, to: &configuration)
            } catch {
                problems.append(ConfigurationProblem(key: "(file)", message: "cannot read \(path): \(error.localizedDescription)"))
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("TURBOSERVE_") {
            let key = String(name.dropFirst("TURBOSERVE_".count)).lowercased()
            guard let setting = settings.first(where: { $0.key.replacingOccurrences(of: ".", with: "_") == key }) else { continue }
            problems += applying(setting.apply, to: &configuration, Setting(key: setting.key, value: value))
        }
        if let keysFile = configuration.auth.apiKeysFile {
            do {
                configuration.auth.apiKeys += try APIKey.parseFile(try String(contentsOfFile: keysFile, encoding: .utf8), path: keysFile)
            } catch let problem as ConfigurationProblem {
                problems.append(problem)
            } catch {
                problems.append(ConfigurationProblem(key: "auth.api_keys_file", message: "cannot read \(keysFile): \(error.localizedDescription)"))
            }
        }
        if let keysFile = configuration.auth.operatorKeysFile {
            do {
                let lines = try String(contentsOfFile: keysFile, encoding: .utf8).split(separator: "\n").map(\.trimmingWhitespace)
                configuration.auth.operatorKeys += lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            } catch {
                problems.append(ConfigurationProblem(key: "auth.operator_keys_file", message: "cannot read \(keysFile): \(error.localizedDescription)"))
            }
        }
        return (configuration, problems)
    }

    /// Runs one setter; its failure becomes a problem (setters only throw `ConfigurationProblem`).
    static func applying(_ apply: (inout ServerConfiguration, Setting) throws -> Void, to configuration: inout ServerConfiguration, _ setting: Setting) -> [ConfigurationProblem] {
        do {
            try apply(&configuration, setting)
            return []
        } catch let problem as ConfigurationProblem {
            return [problem]
        } catch {
            return [ConfigurationProblem(key: setting.key, message: "\(error)")]
        }
    }

    static func apply(yaml: String, to configuration: inout ServerConfiguration) -> [ConfigurationProblem] {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch {
            return [ConfigurationProblem(key: "(file)", message: "not valid YAML: \(error)")]
        }
        guard let root else { return [] }
        guard let sections = root as? [String: Any] else {
            return [ConfigurationProblem(key: "(file)", message: "the top level must be a mapping of sections")]
        }
        var problems: [ConfigurationProblem] = []
        for (section, body) in sections.sorted(by: { $0.key < $1.key }) {
            guard let fields = body as? [String: Any] else {
                problems.append(ConfigurationProblem(key: section, message: "must be a mapping of settings"))
                continue
            }
            for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
                let key = "\(section).\(field)"
                guard let setting = settings.first(where: { $0.key == key }) else {
                    let allowed = settings.map(\.key).filter { $0.hasPrefix("\(section).") }
                    let hint = allowed.isEmpty ? "unknown section '\(section)'; sections: \(Set(settings.map { $0.key.split(separator: ".")[0] }).sorted().joined(separator: ", "))" : "unknown setting; allowed here: \(allowed.joined(separator: ", "))"
                    problems.append(ConfigurationProblem(key: key, message: hint))
                    continue
                }
                problems += applying(setting.apply, to: &configuration, Setting(key: key, value: value))
            }
        }
        return problems
    }
}

/// One raw value (from YAML or the environment) and typed readers that name the key on failure.
struct Setting {
    let key: String
    let value: Any

    private func fail(_ expected: String) -> ConfigurationProblem {
        ConfigurationProblem(key: key, message: "must be \(expected); got '\(value)'")
    }

    func string() throws(ConfigurationProblem) -> String {
        if let s = value as? String { return s }
        if let i = value as? Int { return String(i) }
        throw fail("a string")
    }

    /// A value of a string enumeration; the message lists the allowed values.
    func oneOf<Value: RawRepresentable & CaseIterable>(_ type: Value.Type) throws(ConfigurationProblem) -> Value where Value.RawValue == String {
        let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
        guard let value = Value(rawValue: try string()) else { throw fail("one of \(allowed)") }
        return value
    }

    func bool() throws(ConfigurationProblem) -> Bool {
        if let b = value as? Bool { return b }
        switch (value as? String)?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw fail("true or false")
        }
    }

    func int() throws(ConfigurationProblem) -> Int {
        if let i = value as? Int { return i }
        if let s = value as? String, let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        throw fail("an integer")
    }

    func double() throws(ConfigurationProblem) -> Double {
        if let d = value as? Double { return d }
        if let i = value as? Int { return Double(i) }
        if let s = value as? String, let d = Double(s.trimmingCharacters(in: .whitespaces)) { return d }
        throw fail("a number")
    }

    /// Seconds, as a number or with a unit: `300`, `300s`, `5m`, `1h`.
    func seconds() throws(ConfigurationProblem) -> Double {
        if let d = try? double() { return d }
        guard let s = value as? String, let unit = s.last, let number = Double(s.dropLast()) else { throw fail("a duration like 300, 300s, 5m or 1h") }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        default: throw fail("a duration like 300, 300s, 5m or 1h")
        }
    }

    func list() throws(ConfigurationProblem) -> [String] {
        if let items = value as? [Any] { return items.map { "\($0)" } }
        if let s = value as? String { return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        throw fail("a list")
    }

    /// `[{key, tenant}, …]` in YAML, or `tenant:key,tenant:key` in the environment.
    func apiKeys() throws(ConfigurationProblem) -> [APIKey] {
        if let items = value as? [Any] {
            return try items.enumerated().map { (index, item) throws(ConfigurationProblem) in
                guard let map = item as? [String: Any], Set(map.keys) == ["key", "tenant"] else {
                    throw ConfigurationProblem(key: "\(key)[\(index)]", message: "must be a mapping with exactly key and tenant")
                }
                return APIKey(key: try Setting(key: "\(key)[\(index)].key", value: map["key"]!).string(),
                              tenant: try Setting(key: "\(key)[\(index)].tenant", value: map["tenant"]!).string())
            }
        }
        if let s = value as? String {
            return try s.split(separator: ",").map { (entry) throws(ConfigurationProblem) in try APIKey.parse(String(entry), key: key) }
        }
        throw fail("a list of {key, tenant} mappings")
    }

    /// `{name: number}` in YAML, or `name=number,name=number` in the environment.
    func numberMap() throws(ConfigurationProblem) -> [String: Double] {
        if let map = value as? [String: Any] {
            var result: [String: Double] = [:]
            for (name, raw) in map {
                result[name] = try Setting(key: "\(key).\(name)", value: raw).double()
            }
            return result
        }
        if let s = value as? String {
            var result: [String: Double] = [:]
            for pair in s.split(separator: ",") {
                let parts = pair.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let number = Double(parts[1]) else { throw fail("name=number pairs separated by commas") }
                result[parts[0]] = number
            }
            return result
        }
        throw fail("a mapping of names to numbers")
    }
}
