import Foundation
import JobStore
import SchedulingCore
import Synchronization
import TurboServeDomain

/// Persists the core's job events to the store in the order they happened, off the engine loop: the worker
/// enqueues and moves on; one task drains the queue. Every write is fenced on this worker holding the job.
///
/// A refused write means the worker lost the job (cancelled, expired, taken over): the job is reported through
/// `onLost` so the worker drops it at once. A write refused while the store still shows this worker as the holder
/// (an illegal transition: a bug) releases the job to the shared queue instead of leaving it stranded. A retry the
/// store answers with `failed` (attempts used up) ends the job: reported through `onLost` too. Every persisted
/// record is passed to `onRecorded` (live progress, metrics).
///
/// `unwrittenJobs` are the jobs with an event still queued or being written: the worker still holds them (a
/// finished job's last write may wait out a store outage), so its heartbeat keeps their leases.
///
/// Lifetime: `run()` returns after `finish()` once every enqueued event is written.
final class EventRecorder: Sendable {
    struct Artifacts: Sendable {
        let video: String
        let thumbnail: String?
    }

    private typealias Entry = (event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts?)
    private let stream: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation
    private let store: any JobStore
    private let worker: String
    private let maxAttempts: Int
    private let onError: @Sendable (JobID, any Error) -> Void
    private let onRecorded: @Sendable (JobRecord) -> Void
    private let onLost: @Sendable (JobID) -> Void
    /// Events queued or being written, per job.
    private let queued = Mutex<[JobID: Int]>([:])

    init(store: any JobStore, worker: String, maxAttempts: Int, onError: @escaping @Sendable (JobID, any Error) -> Void,
         onRecorded: @escaping @Sendable (JobRecord) -> Void, onLost: @escaping @Sendable (JobID) -> Void) {
        (stream, continuation) = AsyncStream.makeStream(of: Entry.self)
        self.store = store
        self.worker = worker
        self.maxAttempts = maxAttempts
        self.onError = onError
        self.onRecorded = onRecorded
        self.onLost = onLost
    }

    func record(_ event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts? = nil) {
        queued.withLock { $0[event.job, default: 0] += 1 }
        continuation.yield((event, artifacts))
    }

    /// The jobs with an event not yet written (or given up).
    var unwrittenJobs: Set<JobID> { queued.withLock { Set($0.keys) } }

    func finish() { continuation.finish() }

    func run() async {
        for await (event, artifacts) in stream {
            defer { queued.withLock { $0[event.job] = $0[event.job].flatMap { $0 > 1 ? $0 - 1 : nil } } }
            do {
                let record = try await persistRetryingOutages(event, artifacts: artifacts)
                onRecorded(record)
                if record.phase.isTerminal || record.workerID != worker { onLost(event.job) }
            } catch {
                onError(event.job, error)
                await refused(event.job)
            }
        }
    }

    /// A store that answers with a `TurboServeError` has decided (the write is refused); any other error means
    /// it could not answer (database locked, connection lost): the same write is tried again with backoff, in
    /// order, for up to `outageBound`. Past that the job is given up here and its lease runs out.
    private func persistRetryingOutages(_ event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts?) async throws -> JobRecord {
        let giveUp = ContinuousClock.now.advanced(by: Self.outageBound)
        var delay = Duration.milliseconds(50)
        while true {
            do {
                return try await persist(event, artifacts: artifacts)
            } catch let decided as TurboServeError {
                throw decided
            } catch {
                guard ContinuousClock.now < giveUp else { throw error }
                onError(event.job, StoreUnavailable(underlying: "\(error)", retryingIn: delay))
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    static let outageBound: Duration = .seconds(600)

    /// The store refused a write: the job is this worker's no longer, one way or the other.
    private func refused(_ id: JobID) async {
        onLost(id)
        guard let record = try? await store.get(id), record.workerID == worker, !record.phase.isTerminal else { return }
        if let released = try? await store.release(id, worker: worker, reason: "the worker could not record the job's progress; it runs again") {
            onRecorded(released)
        }
    }

    private func persist(_ event: JobEvent<ContinuousClock.Instant>, artifacts: Artifacts?) async throws -> JobRecord {
        let message = event.reason?.message
        switch event.to {
        case .queued:
            let reason = TurboServeError(event.reason?.code ?? .engineError, message ?? "runs again")
            return try await store.retry(event.job, worker: worker, reason: reason, maxAttempts: maxAttempts)
        case .succeeded:
            return try await store.complete(event.job, worker: worker, videoPath: artifacts?.video ?? "", thumbnailPath: artifacts?.thumbnail)
        case .failed:
            return try await store.fail(event.job, worker: worker, code: event.reason?.code.rawValue ?? TurboServeError.Code.internalError.rawValue, message: message ?? "failed")
        case .cancelled:
            // Clients cancel through the store and the worker only drops the job (`forget`): nothing to write.
            guard let record = try await store.get(event.job) else { throw TurboServeError(.notFound, "no job \(event.job)") }
            return record
        case .admitted, .denoising, .decoding, .muxing:
            return try await store.advance(event.job, worker: worker, to: event.to, reason: message)
        }
    }
}

/// The store could not answer a write (locked, unreachable); the recorder tries the same write again.
struct StoreUnavailable: Error, CustomStringConvertible {
    let underlying: String
    let retryingIn: Duration
    var description: String { "the job store is unavailable (\(underlying)); retrying the write in \(retryingIn.seconds) s" }
}
