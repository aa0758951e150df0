import TurboServeDomain

/// A failed engine call: the protocol's stable code, the engine's message, whether retrying can help, the jobs it
/// concerns (nil: the call as a whole, not attributable to any one job), per-job messages when the engine gave them
/// (admission validation), and — when the process died or hung — the tail of its stderr.
///
/// Codes made on this side: `engine_exited` (the process ended) and `engine_timeout` (no reply within the call's
/// deadline; the process was killed). Both are retryable and map to `engine_crashed`: the engine is gone either way.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let retryable: Bool
    public let jobs: [String]?
    /// Job id → what to change, for each job in `jobs` (admission validation); nil otherwise.
    public let problems: [String: String]?
    public let stderrTail: String?

    public init(code: String, message: String, retryable: Bool = false, jobs: [String]? = nil, problems: [String: String]? = nil, stderrTail: String? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.jobs = jobs
        self.problems = problems
        self.stderrTail = stderrTail
    }

    public var description: String {
        var text = "engine \(code): \(message)"
        if let stderrTail, !stderrTail.isEmpty { text += "\n--- engine stderr (tail) ---\n\(stderrTail)" }
        return text
    }

    /// The control plane's code for this engine code.
    public var domainCode: TurboServeError.Code {
        switch code {
        case "out_of_memory": .engineOutOfMemory
        case "model_missing": .modelMissing
        case "disk_full": .diskFull
        case "engine_exited", "engine_timeout": .engineCrashed
        case "bad_input", "invalid_image", "kernel_unavailable": .invalidValue
        default: .engineError
        }
    }
}
