import JobStore
import Logging
import ServiceLifecycle

/// Returns to the shared queue, every `interval`, the jobs whose worker stopped renewing its lease (died, hung,
/// lost its network): `JobStore.rescueExpired`. Any number of processes may run one; the store makes each rescue
/// happen once. A `Service`: stops on graceful shutdown.
public struct LeaseRescuer: Service {
    let store: any JobStore
    let interval: Duration
    let maxAttempts: Int
    let logger: Logger
    let metrics: ServiceMetrics?

    public init(store: any JobStore, interval: Duration, maxAttempts: Int, logger: Logger, metrics: ServiceMetrics?) {
        self.store = store
        self.interval = interval
        self.maxAttempts = maxAttempts
        self.logger = logger
        self.metrics = metrics
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await rescueOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One sweep; returns how many jobs went back to the queue.
    @discardableResult
    public func rescueOnce() async -> Int {
        do {
            let rescued = try await store.rescueExpired(maxAttempts: maxAttempts)
            if !rescued.isEmpty {
                metrics?.leasesExpired(rescued.count)
                logger.warning("lease expired: jobs returned to the queue (their worker stopped heartbeating)", metadata: ["jobs": "\(rescued.map(\.rawValue))"])
            }
            return rescued.count
        } catch {
            logger.warning("the job store is unavailable; lease rescue will try again", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
