import Foundation

/// Where uploads, MP4s and thumbnails live: every role (api, worker, serve) reaches them only through this seam.
/// The default backend is a directory every role mounts (`DirectoryArtifactStore`; a shared volume in Kubernetes);
/// `InMemoryArtifactStore` is its twin for tests; an object-store backend implements the same requirements.
///
/// Guarantees every backend gives (checked by one contract suite, `ArtifactStoreContractTests`):
/// - `put` is atomic: a reader sees the previous state or the whole new artifact, never part of one; a put over
///   an existing key replaces it whole.
/// - `size(of:)` is nil exactly when the key names no stored artifact; `read` yields the bytes of one stored
///   version, in order, in chunks of at most `chunkSize`.
/// - `delete` is idempotent: deleting a missing key succeeds; after it returns, `size(of:)` is nil.
/// - `reference(for:)` is what a job record stores (`video_path`, `thumbnail_path`, the spec's `image_path`) and
///   `key(forReference:kind:)` maps it back; those two are the only place references and keys meet. A reference
///   the backend did not make (a caller's own file given to `turboserve generate`) maps to nil: not an artifact,
///   never read, served or deleted through the store.
///
/// The engine is a separate process that reads its input image and writes its outputs as local files. A backend
/// whose artifacts are local files says so with `localURL(for:)`, and callers then use that file in place (no
/// copy); otherwise `localCopy(of:in:)` stages a download and `destination(for:scratch:)` a file to upload.
///
/// Thread-safety: `Sendable`; every method may be called from any task concurrently.
public protocol ArtifactStore: Sendable {
    /// What a job record stores for `key`; stable for the life of the data (the directory layout's absolute path
    /// for `DirectoryArtifactStore`, so existing records keep working).
    func reference(for key: ArtifactKey) -> String
    /// The key a stored reference names, if it is one of this backend's artifacts of `kind`.
    func key(forReference reference: String, kind: ArtifactKind) -> ArtifactKey?

    /// Stores `data` under `key`, atomically.
    func put(_ data: Data, at key: ArtifactKey) async throws(ArtifactStoreError)
    /// Stores a copy of the local file `file` under `key`, atomically; `file` itself is left in place.
    func put(contentsOf file: URL, at key: ArtifactKey) async throws(ArtifactStoreError)
    /// The stored size in bytes; nil when nothing is stored under `key`.
    func size(of key: ArtifactKey) async throws(ArtifactStoreError) -> Int?
    /// The bytes of `range` (all of them when nil), streamed in chunks of at most `chunkSize` bytes. The stream
    /// ends with `notFound` when nothing is stored and `invalidRange` when `range` reaches past the end.
    func read(_ key: ArtifactKey, range: ClosedRange<Int>?, chunkSize: Int) -> AsyncThrowingStream<Data, any Error>
    /// Removes `key`'s artifact; succeeds when there was none.
    func delete(_ key: ArtifactKey) async throws(ArtifactStoreError)

    /// The local file that holds `key`'s artifact when this backend keeps artifacts as local files (it need not
    /// exist yet); nil for a backend that does not (then stage with `localCopy` / `destination`).
    func localURL(for key: ArtifactKey) -> URL?
    /// Free bytes where new artifacts go, if the backend can tell (the API refuses work below its reserve).
    func availableBytes() -> Int64?
}

extension ArtifactStore {
    /// The whole artifact in memory (small artifacts only: thumbnails, uploads, tests).
    public func data(of key: ArtifactKey) async throws -> Data {
        var bytes = Data()
        for try await chunk in read(key, range: nil, chunkSize: 1 << 20) { bytes.append(chunk) }
        return bytes
    }

    /// The keys a job record names: its video, thumbnail and uploaded image, those that are this backend's.
    public func keys(videoPath: String?, thumbnailPath: String?, imagePath: String?) -> [ArtifactKey] {
        [(videoPath, ArtifactKind.video), (thumbnailPath, .thumbnail), (imagePath, .upload)].compactMap { reference, kind in
            reference.flatMap { key(forReference: $0, kind: kind) }
        }
    }

    /// A local file with `key`'s bytes, for a process that needs a path (the engine's input image): the backend's
    /// own file when it has one (no copy), else a copy downloaded into `scratch` that the caller removes
    /// (`isStaged` true).
    public func localCopy(of key: ArtifactKey, in scratch: URL) async throws -> (url: URL, isStaged: Bool) {
        if let local = localURL(for: key) { return (local, false) }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let url = scratch.appendingPathComponent("staged-\(UUID().uuidString)-\(key.fileName)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw ArtifactStoreError(.ioFailed, key, "could not create a scratch file") }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        do {
            for try await chunk in read(key, range: nil, chunkSize: 1 << 20) { try handle.write(contentsOf: chunk) }
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        return (url, true)
    }

    /// Where a local producer (the encoder) writes `key`'s file: the backend's own file when it has one, written
    /// in place; else a scratch file that `commit` uploads and removes.
    public func destination(for key: ArtifactKey, scratch: URL) -> ArtifactDestination {
        if let local = localURL(for: key) { return ArtifactDestination(key: key, url: local, isStaged: false) }
        return ArtifactDestination(key: key, url: scratch.appendingPathComponent("output-\(UUID().uuidString)-\(key.fileName)"), isStaged: true)
    }
}

/// A local file a producer writes for `key` (see `ArtifactStore.destination(for:scratch:)`).
public struct ArtifactDestination: Sendable {
    public let key: ArtifactKey
    public let url: URL
    /// True when `url` is a scratch file: `commit` uploads it and removes it.
    public let isStaged: Bool

    /// Makes the written file the stored artifact (an upload of a staged file; nothing for one written in place).
    public func commit(to store: any ArtifactStore) async throws(ArtifactStoreError) {
        guard isStaged else { return }
        defer { try? FileManager.default.removeItem(at: url) }
        try await store.put(contentsOf: url, at: key)
    }

    /// Removes a staged file that will not be committed (the producer failed).
    public func discard() {
        if isStaged { try? FileManager.default.removeItem(at: url) }
    }
}
