import Artifacts
import Foundation
import Testing
import TurboServeTestSupport

/// The `ArtifactStore` contract, run against every backend: what one backend guarantees, all do.
struct ArtifactStoreContractTests {
    let video = ArtifactKey.of(.video, "video_1", "mp4")
    /// This test's files: the directory backend's folders and the test's own source and scratch files.
    let folder: ScratchFolder
    init() throws { folder = try ScratchFolder("turboserve-artifacts") }

    /// Bytes that differ at every offset a chunk boundary could hide an off-by-one in.
    static func bytes(_ count: Int) -> Data { Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }) }

    func collect(_ store: any ArtifactStore, _ key: ArtifactKey, range: ClosedRange<Int>? = nil, chunkSize: Int = 1 << 20) async throws -> [Data] {
        var chunks: [Data] = []
        for try await chunk in store.read(key, range: range, chunkSize: chunkSize) { chunks.append(chunk) }
        return chunks
    }

    @Test(arguments: ArtifactBackend.allCases)
    func aPutArtifactReadsBackWholeAndByRange(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        let bytes = Self.bytes(10_000)
        try await store.put(bytes, at: video)
        #expect(try await store.size(of: video) == 10_000)
        #expect(try await store.data(of: video) == bytes)
        let chunks = try await collect(store, video, range: 1_000...4_499, chunkSize: 1_024)
        #expect(chunks.map(\.count) == [1_024, 1_024, 1_024, 428])
        #expect(chunks.reduce(Data(), +) == bytes[1_000...4_499])
    }

    @Test(arguments: ArtifactBackend.allCases)
    func aPutReplacesTheWholeArtifact(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        try await store.put(Self.bytes(5_000), at: video)
        try await store.put(Data("short".utf8), at: video)
        #expect(try await store.data(of: video) == Data("short".utf8))
        #expect(try await store.size(of: video) == 5)
    }

    @Test(arguments: ArtifactBackend.allCases)
    func putFromAFileCopiesItAndLeavesTheSource(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        let source = folder.file("source.jpg")
        try Self.bytes(300).write(to: source)
        let thumbnail = ArtifactKey.of(.thumbnail, "video_1", "jpg")
        try await store.put(contentsOf: source, at: thumbnail)
        #expect(try await store.data(of: thumbnail) == Self.bytes(300))
        #expect(FileManager.default.fileExists(atPath: source.path))
    }

    @Test(arguments: ArtifactBackend.allCases)
    func anUploadAndAnOutputOfOneNameAreDistinct(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        try await store.put(Data("video".utf8), at: video)
        #expect(try await store.size(of: .of(.upload, "video_1", "mp4")) == nil)
        try await store.put(Data("thumbnail".utf8), at: .of(.thumbnail, "video_1", "jpg"))
        #expect(try await store.data(of: video) == Data("video".utf8))
    }

    @Test(arguments: ArtifactBackend.allCases)
    func deleteIsIdempotent(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        try await store.put(Data("x".utf8), at: video)
        try await store.delete(video)
        #expect(try await store.size(of: video) == nil)
        try await store.delete(video)
        #expect(try await store.size(of: video) == nil)
    }

    @Test(arguments: ArtifactBackend.allCases)
    func readingAMissingArtifactOrAPastTheEndRangeFailsWithItsCode(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        do {
            _ = try await collect(store, video)
            Issue.record("reading a missing artifact must fail")
        } catch let error as ArtifactStoreError {
            #expect(error.code == .notFound && error.key == video)
        }
        try await store.put(Self.bytes(10), at: video)
        do {
            _ = try await collect(store, video, range: 5...10)
            Issue.record("a range past the end must fail")
        } catch let error as ArtifactStoreError {
            #expect(error.code == .invalidRange)
        }
    }

    @Test(arguments: ArtifactBackend.allCases)
    func anEmptyArtifactReadsAsNoBytes(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        try await store.put(Data(), at: video)
        #expect(try await store.size(of: video) == 0)
        #expect(try await collect(store, video).isEmpty)
    }

    @Test(arguments: ArtifactBackend.allCases)
    func referencesMapBackToTheirKeyAndForeignOnesToNothing(backend: ArtifactBackend) {
        let store = backend.make(in: folder)
        let upload = ArtifactKey.of(.upload, "key-0123abcd", "png")
        #expect(store.key(forReference: store.reference(for: upload), kind: .upload) == upload)
        #expect(store.key(forReference: store.reference(for: video), kind: .video) == video)
        // A reference read as another kind, or a caller's own file, is not this store's artifact.
        #expect(store.key(forReference: store.reference(for: upload), kind: .video) == nil)
        #expect(store.key(forReference: "/home/someone/cat.png", kind: .upload) == nil)
        let keys = store.keys(videoPath: store.reference(for: video), thumbnailPath: nil, imagePath: "/elsewhere/cat.png")
        #expect(keys == [video])
    }

    @Test(arguments: ArtifactBackend.allCases)
    func aLocalCopyHasTheBytesAndIsStagedOnlyWithoutLocalFiles(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        let scratch = folder.file("scratch")
        let upload = ArtifactKey.of(.upload, "video_1", "png")
        try await store.put(Self.bytes(2_000), at: upload)
        let copy = try await store.localCopy(of: upload, in: scratch)
        #expect(FileManager.default.contents(atPath: copy.url.path) == Self.bytes(2_000))
        #expect(copy.isStaged == (store.localURL(for: upload) == nil))
    }

    @Test(arguments: ArtifactBackend.allCases)
    func aCommittedDestinationIsStoredAndItsScratchFileGone(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        let scratch = folder.file("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let destination = store.destination(for: video, scratch: scratch)
        try FileManager.default.createDirectory(at: destination.url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.bytes(700).write(to: destination.url)
        try await destination.commit(to: store)
        #expect(try await store.data(of: video) == Self.bytes(700))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    /// Concurrent readers during repeated replacements only ever see one whole version.
    @Test(arguments: ArtifactBackend.allCases)
    func readersNeverSeeAPartialArtifact(backend: ArtifactBackend) async throws {
        let store = backend.make(in: folder)
        let versions = (0..<4).map { version in Data(repeating: UInt8(version), count: 64 * 1024) }
        try await store.put(versions[0], at: video)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 1...20 { try await store.put(versions[round % versions.count], at: video) }
            }
            for _ in 0..<3 {
                group.addTask {
                    for _ in 0..<20 {
                        let seen = try await store.data(of: video)
                        #expect(versions.contains(seen), "a reader saw \(seen.count) bytes that are no whole version")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

struct ArtifactKeyTests {
    @Test func keysRefuseAnythingThatIsNotOneSafePathComponent() {
        #expect(ArtifactKey(.upload, name: "../etc/passwd", fileExtension: "png") == nil)
        #expect(ArtifactKey(.upload, name: "a", fileExtension: "") == nil)
        #expect(ArtifactKey(.video, fileName: "noextension") == nil)
        #expect(ArtifactKey(.video, fileName: "video_1.mp4") == .of(.video, "video_1", "mp4"))
        #expect(ArtifactKey.video(of: "video_2")?.fileName == "video_2.mp4")
    }
}
