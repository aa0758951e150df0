import Foundation
import TurboServeDomain

/// Who may call what. Tenant keys (`auth.api_keys`) open `/v1/*` and name the tenant a caller acts for; operator
/// keys (`auth.operator_keys`, a separate list) open the operator routes (`/v1/operations`, and `/metrics` unless
/// `metricsOpen`). With neither kind configured, auth is off: anyone may call anything, new jobs belong to tenant
/// `default`, and every job is visible. With tenant keys, a caller sees only its tenant's jobs (another tenant's id
/// answers like an unknown one).
///
/// Immutable and `Sendable`; shared by every request.
public struct APIKeys: Sendable {
    private let tenants: [String: TenantID]
    private let operators: Set<String>
    /// `/metrics` answers without a key even when auth is on (a Prometheus scraper on a private network).
    public let metricsOpen: Bool

    /// `tenants` maps each key to its tenant; `operators` are the operator keys. Both empty turns auth off.
    public init(_ tenants: [String: TenantID] = [:], operators: Set<String> = [], metricsOpen: Bool = false) {
        self.tenants = tenants
        self.operators = operators
        self.metricsOpen = metricsOpen
    }

    /// Tenant keys are on: `/v1/*` needs one and tenants are isolated.
    public var isEnabled: Bool { !tenants.isEmpty }

    /// Operator routes need an operator key (whenever any key is configured).
    public var operatorRequired: Bool { isEnabled || !operators.isEmpty }

    /// The caller behind an `Authorization` header value; `invalid_api_key` when keys are on and it is missing,
    /// not a Bearer token, or unknown.
    public func caller(authorization: String?) throws(TurboServeError) -> Caller {
        guard isEnabled else { return Caller(tenant: .default, isolated: false) }
        let key = try Self.bearer(authorization)
        guard let tenant = tenants[key] else {
            throw TurboServeError(.invalidAPIKey, field: "Authorization", "the API key is not valid for this server")
        }
        return Caller(tenant: tenant, isolated: true)
    }

    /// Admits an operator: nothing to check when auth is off; else the key must be an operator key. A tenant key
    /// is `forbidden` (403), no or an unknown key `invalid_api_key` (401).
    public func checkOperator(authorization: String?) throws(TurboServeError) {
        guard operatorRequired else { return }
        let key = try Self.bearer(authorization)
        if operators.contains(key) { return }
        if tenants[key] != nil {
            throw TurboServeError(.forbidden, field: "Authorization", "this route needs an operator key (auth.operator_keys); a tenant's API key may not use it")
        }
        throw TurboServeError(.invalidAPIKey, field: "Authorization", "the API key is not valid for this server")
    }

    /// The token of `Authorization: Bearer <token>`.
    static func bearer(_ authorization: String?) throws(TurboServeError) -> String {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            throw TurboServeError(.invalidAPIKey, field: "Authorization", "this server requires an API key: send Authorization: Bearer <key>")
        }
        return authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
    }
}
