import Foundation
import TurboServeDomain

/// Who may reach a request path, decided once for every route (the `APIKeyMiddleware` is the only caller), on
/// the path's canonical segments so that spelling cannot change the answer: `//v1//operations`, `/v1/./models`,
/// `/%76%31/operations` and `/V1/operations` are classified exactly like `/v1/operations`.
///
/// Non-canonical spellings (empty segments, `.`/`..`, a trailing slash) are refused outright with 404: the
/// router would treat some of them as the canonical route, and no client needs them.
enum GatewayPath {
    enum Access: Equatable {
        /// Health, readiness, the OpenAPI document, the UI; `/metrics` when `auth.metrics_open`.
        case open
        /// `/v1/*`: a tenant's API key when tenant keys are configured.
        case tenant
        /// `/v1/operations`, `/metrics`: an operator key whenever any key is configured.
        case `operator`
    }

    static func access(_ path: String, metricsOpen: Bool) throws(TurboServeError) -> Access {
        guard path != "/" else { return .open }
        let raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard path.hasPrefix("/"), !raw.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw TurboServeError(.notFound, "no route for this path: use the canonical spelling (single slashes, no '.' or '..' segments, no trailing slash)")
        }
        // Decoding is only needed where a `%` is (Foundation's decoder was a visible part of every request's cost).
        let segments = raw.map { ($0.contains("%") ? $0.removingPercentEncoding ?? String($0) : String($0)).lowercased() }
        if segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.contains("/") }) {
            throw TurboServeError(.notFound, "no route for this path: encoded slashes and dot segments are not allowed")
        }
        switch segments.first {
        case "v1": return segments.count > 1 && segments[1] == "operations" ? .operator : .tenant
        case "metrics": return metricsOpen ? .open : .operator
        default: return .open
        }
    }
}
