import Hummingbird

/// Counts every answer (`HTTPMetrics.requestFinished`), outermost so it sees the final status of errors too.
/// The route label is the router's matched pattern (`context.endpointPath`), `unmatched` when none matched.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, started: started)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, started: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, started: ContinuousClock.Instant) {
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.requestFinished(route: route, method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
    }
}
