/// Where a job is in its life. The allowed transitions are written down once, in `JobState.allowedNext`, and
/// every layer (scheduler, store, API) checks against it.
///
/// ```
/// queued ──▶ admitted ──▶ denoising(k/n) ──▶ decoding ──▶ muxing ──▶ succeeded
///   │           │              │  ▲ (k+1)        │            │
///   └───────────┴──────────────┴──┴──────────────┴────────────┴──▶ failed | cancelled
/// admitted / denoising / decoding ──▶ queued   (engine lost or preempted with state dropped; attempts bounded)
/// muxing ──▶ queued                           (the process died while the video was being encoded: run it again)
/// ```
public enum JobState: Sendable, Hashable, Codable, CustomStringConvertible {
    case queued
    /// Text (and image) encoded, initial noise drawn; engine holds the job's state.
    case admitted
    /// `completed` of `total` denoise steps done.
    case denoising(completed: Int, total: Int)
    case decoding
    /// Frames are on disk; the CPU pipeline is encoding the MP4 and thumbnail off the engine path.
    case muxing
    case succeeded
    case failed
    case cancelled

    public var phase: Phase {
        switch self {
        case .queued: .queued
        case .admitted: .admitted
        case .denoising: .denoising
        case .decoding: .decoding
        case .muxing: .muxing
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    public var isTerminal: Bool { phase.isTerminal }
    public var description: String {
        if case let .denoising(k, n) = self { return "denoising(\(k)/\(n))" }
        return phase.rawValue
    }

    /// The state's name without step counters; what the store indexes and the API reports.
    public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
        case queued, admitted, denoising, decoding, muxing, succeeded, failed, cancelled

        public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }

        /// The transition table: the only place it is written.
        public var allowedNext: Set<Phase> {
            switch self {
            case .queued: [.admitted, .failed, .cancelled]
            case .admitted: [.denoising, .queued, .failed, .cancelled]
            case .denoising: [.denoising, .decoding, .queued, .failed, .cancelled]
            case .decoding: [.muxing, .queued, .failed, .cancelled]
            case .muxing: [.succeeded, .queued, .failed, .cancelled]
            case .succeeded, .failed, .cancelled: []
            }
        }

        /// The OpenAI Videos API status for this phase.
        public var apiStatus: String {
            switch self {
            case .queued: "queued"
            case .admitted, .denoising, .decoding, .muxing: "in_progress"
            case .succeeded: "completed"
            case .failed, .cancelled: "failed"
            }
        }
    }

    /// Whether `self → next` is allowed. Step counters must advance by exactly one within `denoising`.
    public func canTransition(to next: JobState) -> Bool {
        guard phase.allowedNext.contains(next.phase) else { return false }
        switch (self, next) {
        case let (.denoising(k, n), .denoising(k2, n2)): return n == n2 && k2 == k + 1 && k2 <= n
        case let (.admitted, .denoising(k, n)): return k == 1 && n >= 1
        case let (.denoising(k, n), .decoding): return k == n
        default: return true
        }
    }
}
