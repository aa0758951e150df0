/// What an artifact is, independent of where a backend keeps it.
public enum ArtifactKind: String, Sendable, Hashable, CaseIterable {
    /// An I2V conditioning image received by the API (`input_reference`).
    case upload
    /// The MP4 a worker produced.
    case video
    /// The JPEG thumbnail a worker produced.
    case thumbnail
}

/// Names one artifact: its kind, a name (a job id, or for an upload sent with an Idempotency-Key the keyed name
/// `UploadName` derives) and a file extension. Keys, not paths: a backend decides where the bytes live.
///
/// Uploads and outputs are separate namespaces; a job's video and thumbnail share one (the directory layout keeps
/// them in one folder) and differ by extension (`video(of:)`, `thumbnail(of:)`).
///
/// Guarantees: `name` and `fileExtension` are non-empty and hold only ASCII letters, digits, `_` and `-`, so
/// `fileName` is one safe path component (or object-key segment) on every backend; the initialiser returns nil
/// for anything else.
public struct ArtifactKey: Sendable, Hashable, CustomStringConvertible {
    public let kind: ArtifactKind
    public let name: String
    public let fileExtension: String

    public init?(_ kind: ArtifactKind, name: String, fileExtension: String) {
        guard Self.isSafe(name), Self.isSafe(fileExtension) else { return nil }
        self.kind = kind
        self.name = name
        self.fileExtension = fileExtension
    }

    /// The key of `fileName` (`<name>.<ext>`, split at the last dot); nil when it is not of that form.
    public init?(_ kind: ArtifactKind, fileName: some StringProtocol) {
        guard let dot = fileName.lastIndex(of: ".") else { return nil }
        self.init(kind, name: String(fileName[..<dot]), fileExtension: String(fileName[fileName.index(after: dot)...]))
    }

    /// The video a worker writes for job `job`.
    public static func video(of job: String) -> ArtifactKey? { ArtifactKey(.video, name: job, fileExtension: "mp4") }
    /// The thumbnail a worker writes for job `job`.
    public static func thumbnail(of job: String) -> ArtifactKey? { ArtifactKey(.thumbnail, name: job, fileExtension: "jpg") }

    /// `<name>.<ext>`: the file name in the directory layout.
    public var fileName: String { "\(name).\(fileExtension)" }

    public var description: String { "\(kind.rawValue)/\(fileName)" }

    static func isSafe(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
        }
    }
}
