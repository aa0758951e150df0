import Artifacts
import Foundation
import Testing
import TurboServeTestSupport

/// The free-disk reading every create's disk guard asks for: the uploads' file system, or its parent's before the
/// uploads directory exists; it agrees with what Foundation reports for the same file system.
struct FreeSpaceTests {
    func foundationFreeBytes(_ path: String) throws -> Int64 {
        try #require((try FileManager.default.attributesOfFileSystem(forPath: path)[.systemFreeSize] as? NSNumber)?.int64Value)
    }

    @Test func theUploadsFileSystemIsReadAndAgreesWithFoundation() throws {
        let root = try ScratchFolder("turboserve-free")
        defer { root.remove() }
        let store = DirectoryArtifactStore(directory: root.url)
        let free = try #require(store.availableBytes())
        // Other processes write meanwhile: the two readings agree within 256 MiB, and neither is zero.
        let foundation = try foundationFreeBytes(root.path)
        #expect(free > 0 && abs(free - foundation) < 256 << 20)
    }

    @Test func beforeTheUploadsDirectoryExistsItsParentIsRead() throws {
        let parent = try ScratchFolder("turboserve-free")
        defer { parent.remove() }
        let store = DirectoryArtifactStore(directory: parent.file("not-yet"))
        let free = try #require(store.availableBytes())
        let foundation = try foundationFreeBytes(parent.path)
        #expect(free > 0 && abs(free - foundation) < 256 << 20)
    }

    @Test func aPathWithNoFileSystemAboveItReadsAsUnknown() {
        let store = DirectoryArtifactStore(directory: URL(fileURLWithPath: "/no-such-root-\(UUID().uuidString)/a/b"))
        #expect(store.availableBytes() == nil)
    }
}
