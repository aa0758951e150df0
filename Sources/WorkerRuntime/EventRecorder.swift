import Foundation
import JobStore
import SchedulingCore
import TurboServeDomain

/// Persists the core's job events to the store in the order they happened, off the engine loop: the worker
/// enqueues and moves on; one task drains the queue. A store error is logged through `onError` and does not stop
/// later events (the job's next event will be refused by the store's state machine and surface there).
/// Every persisted record is passed to `onRecorded` (live progress).
///
/// Lifetime: `run()` returns after `finish()` once every enqueued event is written.
final class EventRecorder: Sendable {
    enum Entry: Sendable {
        case event(JobEvent<ContinuousClock.Instant>, artifacts: Artifacts?)
    }

    struct Artifacts: Sendable {
        let video: String
        let thumbnail: String?
    }

    private let stream: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation
    private let store: any JobStore
    private let worker: String
    private let maxAttempts: Int
    private let onError: @Sendable (JobID, any Error) -> Void
    private let onRecorded: @Sendable (JobRecord) -> Void

    init(store: any JobStore, worker: String, maxAttempts: Int, onError: @escaping @Sendable (JobID, any Error) -> Void, onRecorded: @escaping @Sendable (JobRecord) -> Void) {
        self.onRecorded = onRecorded
        (stream, continuation) = AsyncStream.makeStream(of: Entry.self)
        self.store = store
        self.worker = worker
        self.maxAttempts = maxAttempts
        self.onError = onError
    }

    func record(_ event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts? = nil) {
        continuation.yield(.event(event, artifacts: artifacts))
    }

    func finish() { continuation.finish() }

    func run() async {
        for await entry in stream {
            guard case let .event(event, artifacts) = entry else { continue }
            do {
                if let record = try await persist(event, artifacts: artifacts) { onRecorded(record) }
            } catch {
                onError(event.job, error)
            }
        }
    }

    private func persist(_ event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts?) async throws -> JobRecord? {
        let reason = event.reason?.message
        switch event.to {
        case .queued:
            return try await store.requeue(event.job, worker: worker, reason: reason ?? "requeued", maxAttempts: maxAttempts + 1)
        case .succeeded:
            return try await store.complete(event.job, worker: worker, videoPath: artifacts?.video ?? "", thumbnailPath: artifacts?.thumbnail)
        case .failed:
            return try await store.fail(event.job, worker: nil, code: event.reason?.code.rawValue ?? TurboServeError.Code.internalError.rawValue, message: reason ?? "failed")
        case .cancelled:
            return try await store.cancel(event.job)
        case .admitted, .denoising, .decoding, .muxing:
            return try await store.advance(event.job, worker: worker, to: event.to, reason: reason)
        }
    }
}
