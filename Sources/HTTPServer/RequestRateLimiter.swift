import Synchronization
import TurboServeDomain

/// A token bucket per tenant (`limits.requests_per_second`, `limits.burst`): each request takes a token, tokens
/// refill continuously at `rate` per second up to `burst`; a request finding the bucket empty is refused with
/// `rate_limit_exceeded` (429) and told, in `retryAfterSeconds`, when the next token arrives. One tenant's
/// flood empties only its own bucket.
///
/// Time is injected (`now`, in seconds on any monotonic scale) so tests step it by hand. Memory: one bucket per
/// tenant seen; tenants are the configured keys' (or `default` with auth off).
///
/// Thread-safety: one `Mutex` guards the buckets; `admit` may be called from any task.
public final class RequestRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updatedAt: Double
    }

    public let rate: Double
    public let burst: Double
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// `rate` tokens per second (> 0), at most `burst` (≥ 1) saved up.
    public init(rate: Double, burst: Int, now: @escaping @Sendable () -> Double = RequestRateLimiter.monotonicSeconds) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.now = now
    }

    /// Takes a token of `tenant`'s bucket, or throws `rate_limit_exceeded` carrying the wait (`Retry-After`) in
    /// whole seconds.
    public func admit(_ tenant: String) throws(APIError) {
        let at = now()
        let wait: Double? = buckets.withLock { table in
            var bucket = table[tenant] ?? Bucket(tokens: burst, updatedAt: at)
            bucket.tokens = min(burst, bucket.tokens + max(0, at - bucket.updatedAt) * rate)
            bucket.updatedAt = at
            defer { table[tenant] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw APIError(
                TurboServeError(.rateLimited, "too many requests: this tenant may send \(Self.format(rate)) per second (burst \(Int(burst))); retry in \(seconds) s"),
                retryAfterSeconds: seconds)
        }
    }

    @Sendable public static func monotonicSeconds() -> Double {
        let now = ContinuousClock.now.duration(to: origin)
        return -(Double(now.components.seconds) + Double(now.components.attoseconds) * 1e-18)
    }

    private static let origin = ContinuousClock.now

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
