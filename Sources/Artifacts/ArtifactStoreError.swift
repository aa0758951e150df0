/// Why an artifact operation failed. `code` is stable (logs, metrics, tests match on it); `message` is for people
/// and never carries a path.
public struct ArtifactStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The key names no stored artifact.
        case notFound = "artifact_not_found"
        /// The backend could not read, write or delete (disk full, permissions, unreachable object store).
        case ioFailed = "artifact_io_failed"
        /// A byte range outside the artifact was asked for.
        case invalidRange = "artifact_invalid_range"
    }

    public let code: Code
    public let key: ArtifactKey
    public let message: String

    public init(_ code: Code, _ key: ArtifactKey, _ message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(key): \(message)" }
}
