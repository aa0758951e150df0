import TurboServeDomain

/// A failed engine call: the protocol's stable code, the engine's message, whether retrying can help, the jobs it
/// concerns, and — when the process died — the tail of its stderr.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let retryable: Bool
    public let jobs: [String]?
    public let stderrTail: String?

    public init(code: String, message: String, retryable: Bool = false, jobs: [String]? = nil, stderrTail: String? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.jobs = jobs
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
        case "engine_exited", "engine_timeout": .engineCrashed
        case "bad_input", "kernel_unavailable": .invalidValue
        default: .engineError
        }
    }
}
