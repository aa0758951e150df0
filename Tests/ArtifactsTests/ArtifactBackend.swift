import Artifacts
import Foundation
import Testing
import TurboServeTestSupport

/// Every ArtifactStore backend the contract suite runs against; each case makes a fresh, empty store (the directory
/// backend's in `folder`).
enum ArtifactBackend: String, CaseIterable, CustomTestStringConvertible {
    case directory
    case memory

    var testDescription: String { rawValue }

    func make(in folder: ScratchFolder) -> any ArtifactStore {
        switch self {
        case .directory:
            return DirectoryArtifactStore(uploads: folder.file("uploads"), outputs: folder.file("outputs"))
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
