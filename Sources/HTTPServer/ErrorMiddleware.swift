import Hummingbird
import Logging
import TurboServeDomain

/// The outermost middleware: every failure, from any layer, leaves in OpenAI's error shape. Domain errors become
/// `APIError`; the router's own "no route" becomes 405 with `Allow` for a known path and an unsupported method,
/// else 404 `not_found`; Hummingbird's other HTTP errors keep their status with an OpenAI body; anything else is
/// a 500 `internal_error` whose details go to the log, never to the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    /// Counts capacity refusals by reason; nil: not counted.
    let metrics: HTTPMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if HTTPMetrics.capacityCodes.contains(error.error.code) { metrics?.rateLimited(reason: error.error.code) }
            return try error.response(from: request, context: context)
        } catch let error as TurboServeError {
            if HTTPMetrics.capacityCodes.contains(error.code) { metrics?.rateLimited(reason: error.code) }
            return try APIError(error).response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            return try notFound(request, context: context)
        } catch let error as HTTPError {
            let code: TurboServeError.Code = error.status == .contentTooLarge ? .payloadTooLarge : error.status.code < 500 ? .malformedRequest : .internalError
            let message = error.body ?? error.status.reasonPhrase
            var response = try APIError(TurboServeError(code, message)).response(from: request, context: context)
            response.status = error.status
            return response
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try APIError(TurboServeError(.internalError, "the server failed to answer this request")).response(from: request, context: context)
        }
    }

    private func notFound(_ request: Request, context: Context) throws -> Response {
        if let methods = routes.methods(for: request.uri.path), !methods.contains(request.method.rawValue) {
            var error = APIError(TurboServeError(.methodNotAllowed, "\(request.method.rawValue) is not supported here; allowed: \(methods.joined(separator: ", "))"))
            error.headers[.allow] = methods.joined(separator: ", ")
            return try error.response(from: request, context: context)
        }
        return try APIError(TurboServeError(.notFound, "no route for \(request.method.rawValue) \(JobValidator.quote(request.uri.path))")).response(from: request, context: context)
    }
}
