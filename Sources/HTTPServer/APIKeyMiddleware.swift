import Hummingbird
import TurboServeDomain

/// The one place where access is decided, before any handler runs: every route under `/v1/` needs a tenant key
/// when tenant keys are configured, the operator routes need an operator key (`APIKeys.checkOperator`), and a
/// tenant's requests pass its token bucket (`RequestRateLimiter`, 429 `rate_limit_exceeded` with `Retry-After`).
/// Which class a path belongs to is `GatewayPath.access`, on the canonical path, so `//v1/operations` and friends
/// cannot slip past. Handlers resolve the caller's tenant again from the same header (a dictionary lookup), so
/// the request context type stays the router's own.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    let limiter: RequestRateLimiter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch try GatewayPath.access(request.uri.path, metricsOpen: keys.metricsOpen) {
        case .open: break
        case .operator: try keys.checkOperator(authorization: request.headers[.authorization])
        case .tenant:
            let caller = try keys.caller(authorization: request.headers[.authorization])
            try limiter?.admit(caller.tenant.rawValue)
        }
        return try await next(request, context)
    }
}
