import JobStore
import ServiceLifecycle
import TurboServeDomain

extension VideoAPI {
    /// Waits until job `id` reaches a terminal state and returns that record, or nil once `timeout` has passed or
    /// graceful shutdown has begun (the job is left as it is). Woken by the `ProgressHub` (the store's signals, whichever process wrote the
    /// change, with its polling fallback): it subscribes before reading the store, so a change between the read and
    /// the wait is not missed. Throws `not_found` for an unknown id.
    func waitUntilFinished(_ id: JobID, timeout: Duration) async throws -> JobRecord? {
        let updates = progress.subscribe(id)
        guard let current = try await store.get(id) else {
            throw TurboServeError.noSuchVideo(id.rawValue)
        }
        if current.phase.isTerminal { return current }
        let store = self.store
        return try await withThrowingTaskGroup(of: JobRecord?.self) { group in
            group.addTask {
                for await record in updates where record.phase.isTerminal { return record }
                // The stream ended without a terminal record (cancelled): whatever the store holds now decides.
                guard !Task.isCancelled, let latest = try await store.get(id), latest.phase.isTerminal else { return nil }
                return latest
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            group.addTask {
                // Graceful shutdown (SIGTERM) ends the wait as the timeout does, so a waiting request never holds
                // the server up; outside a service group this waits until cancelled.
                try await gracefulShutdown()
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
