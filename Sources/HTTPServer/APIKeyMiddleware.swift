import Hummingbird
import TurboServeDomain

/// Guards every route under `/v1/` (the video API and whatever else is mounted there) when API keys are on:
/// a request without a valid `Authorization: Bearer <key>` is answered 401 `invalid_api_key` before any handler
/// runs. Health, readiness, metrics, the OpenAPI document and the UI stay open. The handlers resolve the caller's
/// tenant again from the same header (a dictionary lookup), so the request context type stays the router's own.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if keys.isEnabled, request.uri.path == "/v1" || request.uri.path.hasPrefix("/v1/") {
            do { _ = try keys.caller(authorization: request.headers[.authorization]) } catch { throw APIError(error) }
        }
        return try await next(request, context)
    }
}
