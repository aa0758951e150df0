import Foundation
import TurboServeDomain

/// Who may call `/v1/*` and which tenant each caller acts for. With no keys, auth is off: anyone may call, new jobs
/// belong to tenant `default`, and every job is visible. With keys, `Authorization: Bearer <key>` is required and
/// a caller sees only its tenant's jobs (another tenant's id answers like an unknown one).
///
/// Immutable and `Sendable`; shared by every request.
public struct APIKeys: Sendable {
    private let tenants: [String: TenantID]

    /// `tenants` maps each key to its tenant; empty turns auth off.
    public init(_ tenants: [String: TenantID] = [:]) { self.tenants = tenants }

    public var isEnabled: Bool { !tenants.isEmpty }

    /// The caller behind an `Authorization` header value; `invalid_api_key` when keys are on and it is missing,
    /// not a Bearer token, or unknown.
    public func caller(authorization: String?) throws(TurboServeError) -> Caller {
        guard isEnabled else { return Caller(tenant: .default, isolated: false) }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            throw TurboServeError(.invalidAPIKey, field: "Authorization", "this server requires an API key: send Authorization: Bearer <key>")
        }
        let key = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard let tenant = tenants[key] else {
            throw TurboServeError(.invalidAPIKey, field: "Authorization", "the API key is not valid for this server")
        }
        return Caller(tenant: tenant, isolated: true)
    }
}
