import Foundation
import Testing
import TurboServeTestSupport
@testable import ServerConfiguration

/// `auth.api_keys` from YAML, the environment and a keys file; problems name the entry and never quote a key.
struct AuthConfigurationTests {
    /// The YAML and keys files this test writes.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-auth") }

    /// Writes `text` to the file `name` in this test's folder; returns its path.
    func write(_ text: String, to name: String) throws -> String {
        let file = scratch.file(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func keysComeFromYAMLTheEnvironmentAndAKeysFile() throws {
        let keysFile = try write("# tenant:key\nglobex:sk-globex-0001\n\n  initech:sk-initech-01  \n", to: "tenants.keys")
        let yaml = try write("auth:\n  api_keys:\n    - {key: sk-acme-00001, tenant: acme}\n  api_keys_file: \(keysFile)\n", to: "turboserve.yaml")
        let (configuration, problems) = ConfigurationLoader.load(path: yaml, environment: [:])
        #expect(problems.isEmpty && configuration.problems().isEmpty)
        #expect(configuration.auth.apiKeys == [
            APIKey(key: "sk-acme-00001", tenant: "acme"), APIKey(key: "sk-globex-0001", tenant: "globex"),
            APIKey(key: "sk-initech-01", tenant: "initech"),
        ])
        let (fromEnvironment, envProblems) = ConfigurationLoader.load(path: nil, environment: ["TURBOSERVE_AUTH_API_KEYS": "acme:sk-a:with-colon, b:sk-bbbbbbbb"])
        #expect(envProblems.isEmpty)
        #expect(fromEnvironment.auth.apiKeys == [APIKey(key: "sk-a:with-colon", tenant: "acme"), APIKey(key: "sk-bbbbbbbb", tenant: "b")])
        #expect(ServerConfiguration().auth.apiKeys.isEmpty)
    }

    @Test func badEntriesAreProblemsThatNameTheEntry() throws {
        var configuration = ServerConfiguration()
        configuration.auth.apiKeys = [APIKey(key: "short", tenant: "acme"), APIKey(key: "sk-dup-dup-1", tenant: "no spaces"), APIKey(key: "sk-dup-dup-1", tenant: "b")]
        let problems = configuration.problems()
        #expect(problems.map(\.key) == ["auth.api_keys[0].key", "auth.api_keys[1].tenant", "auth.api_keys[2].key"])
        #expect(!problems.contains { $0.message.contains("sk-dup-dup-1") || $0.message.contains("short") })

        let yaml = try write("auth:\n  api_keys: [{key: sk-1234567}]\n  api_keys_file: /nonexistent/keys\n", to: "turboserve.yaml")
        let (_, readProblems) = ConfigurationLoader.load(path: yaml, environment: [:])
        #expect(readProblems.map(\.key).sorted() == ["auth.api_keys[0]", "auth.api_keys_file"])
        let noColon = try write("just-a-key-without-tenant\n", to: "no-colon.keys")
        let (_, fileProblems) = ConfigurationLoader.load(path: nil, environment: ["TURBOSERVE_AUTH_API_KEYS_FILE": noColon])
        #expect(fileProblems.first?.key.hasPrefix("auth.api_keys_file") == true)
    }
}
