import Artifacts
import Foundation
import JobStore
import Logging
import SchedulingCore
import ServiceLifecycle
import TurboServeDomain

/// Output retention (`storage.retention_hours`) as a `Service` in the server's `ServiceGroup`: a sweep at start,
/// then one every `interval` on the injected clock, until graceful shutdown.
///
/// A sweep takes every finished job that completed more than `retention` ago (by the injected wall time `now`) and
/// is not expired yet, deletes its MP4, thumbnail and uploaded first frame from the artifact store, then marks it
/// expired in the job store. Artifacts go first: a crash in between leaves a job whose files are gone but which the next sweep marks, never a
/// job marked expired whose files linger. The record itself stays (its content then answers `video_expired`).
///
/// Thread-safety: a value type holding only `Sendable` collaborators; `sweep()` may run from any task, though the
/// service runs one sweep at a time.
public struct RetentionService<C: Clock>: Service where C.Duration == Duration {
    let store: any JobStore
    let artifacts: any ArtifactStore
    let retention: Duration
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: ServiceMetrics?
    /// Jobs expired per store call; a sweep loops until nothing is due.
    let batchSize: Int

    public init(store: any JobStore, artifacts: any ArtifactStore, retention: Duration, interval: Duration, clock: C, now: @escaping @Sendable () -> Date = Date.init, logger: Logger, metrics: ServiceMetrics? = nil, batchSize: Int = 100) {
        self.metrics = metrics
        self.store = store
        self.artifacts = artifacts
        self.retention = retention
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
        self.batchSize = batchSize
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let expired = try await sweep()
                    if !expired.isEmpty {
                        logger.info("retention deleted outputs", metadata: ["jobs": "\(expired.count)"])
                        metrics?.videosExpired(expired.count)
                    }
                } catch is CancellationError {
                    return  // shutdown cancelled the sweep: a clean stop, not a failure
                } catch {
                    logger.warning("retention sweep failed; retrying next interval", metadata: ["error": "\(error)"])
                }
                try await clock.sleep(for: interval)
            }
        }
    }

    /// Expires everything due now; returns the ids, oldest completion first. A job whose artifacts cannot be
    /// deleted (other than already gone) is logged and left for the next sweep.
    @discardableResult
    public func sweep() async throws -> [JobID] {
        let cutoff = now().addingTimeInterval(-retention.seconds)
        var expired: [JobID] = []
        var skipped: Set<JobID> = []
        while true {
            let due = try await store.expirable(finishedBefore: cutoff, limit: batchSize + skipped.count).filter { !skipped.contains($0.id) }
            for job in due {
                var removed = true
                for key in artifacts.keys(videoPath: job.videoPath, thumbnailPath: job.thumbnailPath, imagePath: job.spec.imagePath) {
                    removed = await remove(key) && removed
                }
                guard removed else {
                    skipped.insert(job.id)
                    continue
                }
                _ = try await store.markExpired(job.id)
                expired.append(job.id)
            }
            if due.isEmpty { return expired }
        }
    }

    /// Deletes an artifact; true when it is gone (also when it was gone already).
    func remove(_ key: ArtifactKey) async -> Bool {
        do {
            try await artifacts.delete(key)
            return true
        } catch {
            logger.warning("retention could not delete an artifact", metadata: ["artifact": "\(key)", "error": "\(error.code.rawValue)"])
            return false
        }
    }
}
