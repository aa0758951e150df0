import Hummingbird
import JobStore
import Prometheus
import TurboServeDomain

/// Builds the router: `/v1/videos…` (behind the API keys, when configured), `/healthz` (the process is up) and
/// `/readyz` (200 when `readiness` answers nil, else 503 `not_ready` naming the `NotReadyReason`). Tests use the router directly; `turboserve serve` wraps it in an `Application`.
public enum HTTPApplication {
    /// `metrics` renders the Prometheus text exposition served at `/metrics`; `ui` serves the web UI at `/`;
    /// `workers` gives each worker's last heartbeat for `/v1/operations` (nil: the store's, `JobStore.workers()`);
    /// `registry` receives the HTTP families (`HTTPMetrics`); `rateLimiter` is the per-tenant token bucket (nil: no
    /// request-rate limit); `restartEngines` restarts this process's engines for `POST /v1/operations/engines/restart`
    /// and returns how many.
    ///
    /// Middleware order (outermost first; Hummingbird applies middleware to the routes added after it, and all of
    /// them to the "no route" answer): metrics, errors in OpenAI's shape, access (`APIKeyMiddleware`), then routes.
    public static func buildRouter(
        api: VideoAPI, readiness: @escaping @Sendable () async -> NotReadyReason? = { nil },
        metrics: @escaping @Sendable () async -> String = { "" },
        ui: StaticUIFiles = StaticUIFiles(directory: nil),
        workers: (@Sendable () async throws -> [WorkerHeartbeat])? = nil,
        registry: PrometheusCollectorRegistry? = nil,
        rateLimiter: RequestRateLimiter? = nil,
        restartEngines: @escaping @Sendable () async -> Int = { 0 }
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let httpMetrics = registry.map(HTTPMetrics.init)
        if let httpMetrics { router.add(middleware: HTTPMetricsMiddleware(metrics: httpMetrics)) }
        router.add(middleware: ErrorMiddleware(routes: RouteTable(), metrics: httpMetrics))
        router.add(middleware: APIKeyMiddleware(keys: api.keys, limiter: rateLimiter))
        addProbes(to: router, readiness: readiness, metrics: metrics) { reason in throw APIError(TurboServeError(.notReady, reason.message)) }
        router.get("openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: OpenAPIDocument.json)))
        }
        VideoController(api: api).addRoutes(to: router.group("v1"))
        ModelsController(validator: api.validator).addRoutes(to: router.group("v1"))
        OperationsController(store: api.store, workers: workers ?? { [store = api.store] in try await store.workers() }).addRoutes(to: router.group("v1"))
        EngineRestartController(restart: restartEngines).addRoutes(to: router.group("v1"))
        ui.addRoutes(to: router)
        return router
    }

    /// A worker's probe port: `/healthz`, `/readyz` (200, or 503 with the `NotReadyReason`'s message as plain text)
    /// and `/metrics`.
    public static func probeRouter(
        readiness: @escaping @Sendable () async -> NotReadyReason?, metrics: @escaping @Sendable () async -> String
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        addProbes(to: router, readiness: readiness, metrics: metrics) { reason in
            Response(status: .serviceUnavailable, body: .init(byteBuffer: .init(string: reason.message + "\n")))
        }
        return router
    }

    /// The routes every role serves: `/healthz` (the process is up), `/readyz` (200 "ready", else what `notReady`
    /// makes of the reason: the API's JSON error, the probe port's plain text) and `/metrics`.
    private static func addProbes(
        to router: Router<BasicRequestContext>, readiness: @escaping @Sendable () async -> NotReadyReason?,
        metrics: @escaping @Sendable () async -> String, notReady: @escaping @Sendable (NotReadyReason) throws -> Response
    ) {
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            guard let reason = await readiness() else { return Response(status: .ok, body: .init(byteBuffer: .init(string: "ready\n"))) }
            return try notReady(reason)
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: await metrics())))
        }
    }
}
