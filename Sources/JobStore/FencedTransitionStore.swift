import Foundation
import TurboServeDomain

/// A store whose five fenced transitions — `advance`, `complete`, `fail`, `retry`, `release` — are each one
/// read-check-write of a single job record. The store supplies `mutateRecord`; this protocol's extension supplies
/// the transitions, which are the `JobRecord` methods that check the caller's hold and return the event to record.
///
/// What a conforming store guarantees in `mutateRecord`: it reads job `id` (`not_found` if there is none), calls
/// `body` once with the record and the store's now, and — when `body` returns an event — writes the changed record
/// and that event together, atomically with respect to every other write to the job (a lock, a transaction, a row
/// lock), then signals the change; when `body` returns nil or throws, nothing is written. It returns the record as
/// written (or as read, if unchanged). `package`: the hook is for this package's stores; clients see `JobStore`.
package protocol FencedTransitionStore: JobStore {
    func mutateRecord(_ id: JobID, _ body: @escaping @Sendable (inout JobRecord, Date) throws -> StoredJobEvent?) async throws -> JobRecord
}

extension FencedTransitionStore {
    public func advance(_ id: JobID, worker: String, to next: JobState, reason: String?) async throws -> JobRecord {
        try await mutateRecord(id) { job, at in try job.advance(by: worker, to: next, at: at, reason: reason) }
    }

    public func complete(_ id: JobID, worker: String, videoPath: String, thumbnailPath: String?) async throws -> JobRecord {
        try await mutateRecord(id) { job, at in try job.complete(by: worker, videoPath: videoPath, thumbnailPath: thumbnailPath, at: at) }
    }

    public func fail(_ id: JobID, worker: String, code: String, message: String) async throws -> JobRecord {
        try await mutateRecord(id) { job, at in try job.fail(by: worker, at: at, code: code, message: message) }
    }

    public func retry(_ id: JobID, worker: String, reason: TurboServeError, maxAttempts: Int) async throws -> JobRecord {
        try await mutateRecord(id) { job, at in try job.retry(by: worker, at: at, reason: reason, maxAttempts: maxAttempts) }
    }

    public func release(_ id: JobID, worker: String, reason: String) async throws -> JobRecord {
        try await mutateRecord(id) { job, at in try job.release(by: worker, at: at, reason: reason) }
    }
}
