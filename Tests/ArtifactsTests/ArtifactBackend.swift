import Artifacts
import Foundation
import Testing

/// Every ArtifactStore backend the contract suite runs against; each case makes a fresh, empty store.
enum ArtifactBackend: String, CaseIterable, CustomTestStringConvertible {
    case directory
    case memory

    var testDescription: String { rawValue }

    func make() -> any ArtifactStore {
        switch self {
        case .directory:
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("turboserve-artifacts-\(UUID().uuidString)")
            return DirectoryArtifactStore(uploads: root.appendingPathComponent("uploads"), outputs: root.appendingPathComponent("outputs"))
        case .memory:
            return InMemoryArtifactStore()
        }
    }
}

extension ArtifactKey {
    /// A key known to be valid (tests only).
    static func of(_ kind: ArtifactKind, _ name: String, _ fileExtension: String) -> ArtifactKey {
        ArtifactKey(kind, name: name, fileExtension: fileExtension)!
    }
}
