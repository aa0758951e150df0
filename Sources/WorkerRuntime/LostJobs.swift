import Synchronization
import TurboServeDomain

/// Jobs the worker learned it no longer holds (a refused write, a heartbeat, a cancel, attempts used up), waiting
/// for the worker's loop to drop them from its policy. Filled from any task; drained by the worker actor only.
///
/// Thread-safety: a `Mutex` guards the set.
final class LostJobs: Sendable {
    private let ids = Mutex<Set<JobID>>([])

    func add(_ id: JobID) { ids.withLock { _ = $0.insert(id) } }

    /// Everything added since the last call.
    func take() -> Set<JobID> { ids.withLock { ids in defer { ids = [] }; return ids } }
}
