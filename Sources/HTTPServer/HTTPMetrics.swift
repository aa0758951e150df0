import Prometheus
import TurboServeDomain

/// The HTTP families of `/metrics`: `turboserve_http_requests_total{route,method,status}`,
/// `turboserve_http_request_duration_seconds{route}` (time to the response head; an SSE stream counts until its
/// headers are sent) and `turboserve_rate_limited_requests_total{reason}`. `route` is the router's pattern
/// (`/v1/videos/{id}`), never the raw path, or `unmatched`, so label values stay few whatever clients send.
///
/// Thread-safety: the registry's collectors are thread-safe; this type holds no other state.
public struct HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    static let buckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        .map { .nanoseconds(Int64($0 * 1e9)) }
    /// The refusals counted as rate-limited: a request rate, a queue bound, the upload cap.
    static let capacityCodes: Set<TurboServeError.Code> = [.rateLimited, .queueFull, .tenantQueueFull, .serverBusy]
    static let methods: Set<String> = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]

    /// Creates the rate-limit counter of every capacity reason at 0, so the first refusal already shows in
    /// `rate()` / `increase()` (a series that appears with its first event hides that event from both).
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for reason in Self.capacityCodes { _ = rateLimitedCounter(reason) }
    }

    func requestFinished(route: String, method: String, status: Int, duration: Duration) {
        let method = Self.methods.contains(method) ? method : "other"
        registry.makeCounter(
            descriptor: Self.name("http_requests", "total", "HTTP requests answered, by route pattern, method and status."),
            labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", "seconds", "Time from request head to response head, by route pattern."),
            labels: [("route", route)], buckets: Self.buckets).record(duration)
    }

    /// A request refused for capacity: `reason` is the error code (`rate_limit_exceeded`, `queue_full`,
    /// `tenant_queue_full`, `server_busy`).
    func rateLimited(reason: TurboServeError.Code) { rateLimitedCounter(reason).increment() }

    private func rateLimitedCounter(_ reason: TurboServeError.Code) -> Counter {
        registry.makeCounter(
            descriptor: Self.name("rate_limited_requests", "total", "Requests refused by a rate limit, a queue bound or the upload cap, by reason."),
            labels: [("reason", reason.rawValue)])
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "turboserve", metricName: metric, unitName: unit, helpText: help)
    }
}
