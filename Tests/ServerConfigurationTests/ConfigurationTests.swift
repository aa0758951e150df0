import Foundation
import Testing
import TurboServeTestSupport
@testable import ServerConfiguration

struct ConfigurationTests {
    func load(_ yaml: String?, env: [String: String] = [:]) throws -> (ServerConfiguration, [ConfigurationProblem]) {
        guard let yaml else { return ConfigurationLoader.load(path: nil, environment: env) }
        return try withScratchFolder("turboserve-config") { folder in
            let file = folder.file("turboserve.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            return ConfigurationLoader.load(path: file.path, environment: env)
        }
    }

    @Test func defaultsAreUsable() throws {
        let (configuration, problems) = try load(nil)
        #expect(problems.isEmpty && configuration.problems().isEmpty)
        #expect(configuration.storage.database == "sqlite" && configuration.engines.defaultModel == "tiny-t2v")
    }

    @Test func yamlThenEnvironment() throws {
        let yaml = """
        server: {port: 9000}
        model_cache:
          max_resident: 3
          keep_alive: 5m
          preload: [tiny-t2v, tiny-i2v]
        scheduler:
          slo_factors: {interactive: 2}
        """
        let (configuration, problems) = try load(yaml, env: ["TURBOSERVE_SERVER_PORT": "9100", "TURBOSERVE_ENGINES_DEVICES": "cuda:0, cuda:1", "HOME": "/root"])
        #expect(problems.isEmpty)
        #expect(configuration.server.port == 9100)
        #expect(configuration.modelCache.maxResident == 3 && configuration.modelCache.keepAliveSeconds == 300)
        #expect(configuration.modelCache.preload == ["tiny-t2v", "tiny-i2v"])
        #expect(configuration.engines.devices == ["cuda:0", "cuda:1"])
        #expect(configuration.scheduler.sloFactors == ["interactive": 2])
    }

    @Test func unknownKeysAndBadTypesNameTheKey() throws {
        let yaml = """
        server: {prot: 9000}
        model_cache: {max_resident: many}
        gpu: {count: 2}
        """
        let (_, problems) = try load(yaml)
        #expect(problems.map(\.key).sorted() == ["gpu.count", "model_cache.max_resident", "server.prot"])
        #expect(problems.first { $0.key == "server.prot" }?.message.contains("server.port") == true)
    }

    @Test func semanticProblemsListAllowedValues() throws {
        var configuration = ServerConfiguration()
        configuration.engines.devices = ["tpu"]
        configuration.modelCache.preload = ["sora"]
        configuration.scheduler.sloFactors = ["urgent": 0]
        configuration.storage.database = "mysql://x"
        let keys = configuration.problems().map(\.key)
        #expect(keys.contains("engines.devices") && keys.contains("model_cache.preload") && keys.contains("storage.database"))
        #expect(keys.contains("scheduler.slo_factors") && keys.contains("scheduler.slo_factors.urgent"))
        #expect(configuration.problems().first { $0.key == "engines.devices" }?.message.contains("cuda:N") == true)
    }

    @Test func databaseConnectionsAreBounded() throws {
        #expect(try load(nil).0.storage.maxConnections == 20)
        let (few, problems) = try load("storage: {max_connections: 4}")
        #expect(problems.isEmpty && few.storage.maxConnections == 4 && few.problems().isEmpty)
        let (none, read) = try load(nil, env: ["TURBOSERVE_STORAGE_MAX_CONNECTIONS": "0"])
        #expect(read.isEmpty)
        let problem = try #require(none.problems().first { $0.key == "storage.max_connections" })
        #expect(problem.message.contains("from 1 to 1000") && problem.message.contains("got 0"))
    }

    @Test func theStoreCallDeadlineIsBounded() throws {
        #expect(try load(nil).0.storage.callTimeoutSeconds == 5)
        let (patient, problems) = try load("storage: {call_timeout_seconds: 15s}")
        #expect(problems.isEmpty && patient.storage.callTimeoutSeconds == 15 && patient.problems().isEmpty)
        for (value, shown) in [("0.5", "0.5"), ("3m", "180.0")] {
            let (wrong, read) = try load(nil, env: ["TURBOSERVE_STORAGE_CALL_TIMEOUT_SECONDS": value])
            #expect(read.isEmpty)
            let problem = try #require(wrong.problems().first { $0.key == "storage.call_timeout_seconds" })
            #expect(problem.message.contains("from 1 to 120 seconds") && problem.message.contains("got \(shown)"), "\(problem.message)")
        }
    }

    @Test func schedulerObjective() throws {
        let (deadlines, problems) = try load("scheduler: {objective: deadlines}")
        #expect(problems.isEmpty && deadlines.scheduler.objective == .deadlines)
        #expect(try load(nil).0.scheduler.objective == .tail)
        let (_, wrong) = try load(nil, env: ["TURBOSERVE_SCHEDULER_OBJECTIVE": "fastest"])
        let problem = try #require(wrong.first { $0.key == "scheduler.objective" })
        #expect(problem.message.contains("tail, deadlines, arrival") && problem.message.contains("fastest"))
        let (arrival, none) = try load("scheduler: {objective: arrival, arrival_latency_factor: 0.5}")
        #expect(none.isEmpty && arrival.scheduler.objective == .arrival && arrival.scheduler.arrivalLatencyFactor == 0.5)
        #expect(try load(nil).0.scheduler.arrivalLatencyFactor == 0.3)
        let (negative, read) = try load(nil, env: ["TURBOSERVE_SCHEDULER_ARRIVAL_LATENCY_FACTOR": "-1"])
        #expect(read.isEmpty && negative.scheduler.arrivalLatencyFactor == -1)
        let factorProblem = try #require(negative.problems().first { $0.key == "scheduler.arrival_latency_factor" })
        #expect(factorProblem.message.contains("from 0") && factorProblem.message.contains("-1"))
    }

    @Test func schedulerPolicy() throws {
        #expect(try load(nil).0.scheduler.policy == .turboserve)
        let (serial, problems) = try load(nil, env: ["TURBOSERVE_SCHEDULER_POLICY": "serial"])
        #expect(problems.isEmpty && serial.scheduler.policy == .serial)
        let (_, wrong) = try load("scheduler: {policy: fifo}")
        let problem = try #require(wrong.first { $0.key == "scheduler.policy" })
        #expect(problem.message.contains("turboserve, serial") && problem.message.contains("fifo"))
    }

    @Test func engineCallTimeout() throws {
        #expect(try load(nil).0.engines.callTimeoutSeconds == 600)
        let (yaml, problems) = try load("engines: {call_timeout_seconds: 2m}")
        #expect(problems.isEmpty && yaml.engines.callTimeoutSeconds == 120)
        let (fromEnvironment, _) = try load(nil, env: ["TURBOSERVE_ENGINES_CALL_TIMEOUT_SECONDS": "45"])
        #expect(fromEnvironment.engines.callTimeoutSeconds == 45)
        var zero = ServerConfiguration()
        zero.engines.callTimeoutSeconds = 0
        let problem = try #require(zero.problems().first { $0.key == "engines.call_timeout_seconds" })
        #expect(problem.message.contains("more than 0") && problem.message.contains("got 0"))
        let (_, wrong) = try load("engines: {call_timeout_seconds: soon}")
        #expect(wrong.map(\.key) == ["engines.call_timeout_seconds"])
    }

    @Test func modelsDirectoryIsReadFromYAMLAndEnvironmentAndUnsetByDefault() throws {
        #expect(try load(nil).0.engines.modelsDirectory == nil)
        let (yaml, problems) = try load("engines: {models_dir: /mnt/models}")
        #expect(problems.isEmpty && yaml.engines.modelsDirectory == "/mnt/models")
        let (fromEnvironment, _) = try load(nil, env: ["TURBOSERVE_ENGINES_MODELS_DIR": "/srv/weights"])
        #expect(fromEnvironment.engines.modelsDirectory == "/srv/weights")
    }

    @Test func invalidYAMLIsAProblemNotACrash() throws {
        let (_, problems) = try load("server: [unclosed")
        #expect(problems.first?.key == "(file)")
    }
}
