/// One API key and the tenant its callers act for (`auth.api_keys`). Written `tenant:key` in the environment
/// (`TURBOSERVE_AUTH_API_KEYS=acme:sk-1,globex:sk-2`) and in a keys file; `{key, tenant}` in YAML.
public struct APIKey: Sendable, Equatable {
    public var key: String
    public var tenant: String

    public init(key: String, tenant: String) {
        self.key = key
        self.tenant = tenant
    }

    /// Parses `tenant:key` (split at the first `:`, so a key may contain `:`).
    static func parse(_ text: String, key setting: String) throws(ConfigurationProblem) -> APIKey {
        guard let colon = text.firstIndex(of: ":") else {
            throw ConfigurationProblem(key: setting, message: "must be tenant:key; got an entry without ':'")
        }
        return APIKey(key: String(text[text.index(after: colon)...]).trimmingWhitespace, tenant: String(text[..<colon]).trimmingWhitespace)
    }

    /// The keys of a keys file: one `tenant:key` per line; blank lines and `#` comments are skipped.
    static func parseFile(_ text: String, path: String) throws(ConfigurationProblem) -> [APIKey] {
        var keys: [APIKey] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let entry = line.trimmingWhitespace
            guard !entry.isEmpty, !entry.hasPrefix("#") else { continue }
            keys.append(try parse(entry, key: "auth.api_keys_file (\(path) line \(number + 1))"))
        }
        return keys
    }

    /// Tenants are short names (`[A-Za-z0-9._-]`, 1–64); keys at least 8 characters, no spaces, each used once.
    /// Problems never quote a key.
    static func problems(_ keys: [APIKey]) -> [ConfigurationProblem] {
        var problems: [ConfigurationProblem] = []
        var seen: Set<String> = []
        for (index, entry) in keys.enumerated() {
            let allowed = entry.tenant.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            if entry.tenant.isEmpty || entry.tenant.count > 64 || !allowed {
                problems.append(ConfigurationProblem(key: "auth.api_keys[\(index)].tenant", message: "must be 1 to 64 of A-Z a-z 0-9 . _ -; got '\(entry.tenant)'"))
            }
            if entry.key.count < 8 || entry.key.contains(where: \.isWhitespace) {
                problems.append(ConfigurationProblem(key: "auth.api_keys[\(index)].key", message: "must be at least 8 characters without spaces (tenant '\(entry.tenant)')"))
            }
            if !seen.insert(entry.key).inserted {
                problems.append(ConfigurationProblem(key: "auth.api_keys[\(index)].key", message: "is used twice (tenant '\(entry.tenant)'); each key names one tenant"))
            }
        }
        return problems
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
