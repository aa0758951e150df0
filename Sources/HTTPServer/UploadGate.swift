import Synchronization
import TurboServeDomain

/// Caps how many multipart uploads are being received at once (`limits.max_concurrent_uploads`): beyond the cap
/// a create is answered 503 `server_busy` with `Retry-After` before its body is read, so a flood of large uploads
/// cannot hold the server's memory.
///
/// Thread-safety: one atomic counter; `withSlot` may be called from any task and always gives its slot back.
public final class UploadGate: Sendable {
    public let capacity: Int
    private let inFlight = Atomic<Int>(0)

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Runs `body` holding one slot, or throws `server_busy` when every slot is taken.
    public func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        let before = inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
        defer { inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        guard before < capacity else {
            throw TurboServeError(.serverBusy, "the server is receiving \(capacity) uploads already (limits.max_concurrent_uploads); retry shortly")
        }
        return try await body()
    }

    /// Uploads being received now.
    public var current: Int { inFlight.load(ordering: .relaxed) }
}
