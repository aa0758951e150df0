import ArgumentParser
import Foundation
import ServerConfiguration

/// `turboserve config check`: loads the YAML file plus `TURBOSERVE_*` overrides and reports every problem.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration file and environment overrides; exit 1 if anything is wrong.")

        @Option(name: .long, help: "The YAML configuration file (default: TURBOSERVE_CONFIG, else built-in defaults).")
        var config: String?

        func run() async throws {
            let path = config ?? ProcessInfo.processInfo.environment["TURBOSERVE_CONFIG"]
            let (settings, readProblems) = ConfigurationLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
            let problems = readProblems + settings.problems()
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
                throw ExitCode(1)
            }
            let tenants = Set(settings.auth.apiKeys.map(\.tenant)).sorted()
            let auth = tenants.isEmpty ? "auth off" : "\(settings.auth.apiKeys.count) API keys for \(tenants.joined(separator: ", "))"
            print("configuration OK (\(path ?? "built-in defaults")): listening on \(settings.server.host):\(settings.server.port), database \(settings.storage.database), models \(settings.engines.enabled.joined(separator: ", ")), engines \(settings.engines.devices.joined(separator: ", ")), \(auth)")
        }
    }
}
