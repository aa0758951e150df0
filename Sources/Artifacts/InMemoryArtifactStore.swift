import Foundation
import Synchronization

/// The in-memory twin of `DirectoryArtifactStore`: the same contract, no file system. References are
/// `memory:<kind>/<name>.<ext>`; it has no local files, so callers exercise the staging paths
/// (`localCopy`, `destination`) an object-store backend needs.
///
/// Thread-safety: one `Mutex` guards the contents; each operation is atomic.
public final class InMemoryArtifactStore: ArtifactStore {
    private let contents = Mutex<[ArtifactKey: Data]>([:])

    public init() {}

    /// Every stored key (tests).
    public var keys: Set<ArtifactKey> { contents.withLock { Set($0.keys) } }

    public func reference(for key: ArtifactKey) -> String { "memory:\(key.kind.rawValue)/\(key.fileName)" }

    public func key(forReference reference: String, kind: ArtifactKind) -> ArtifactKey? {
        let prefix = "memory:\(kind.rawValue)/"
        guard reference.hasPrefix(prefix) else { return nil }
        return ArtifactKey(kind, fileName: reference.dropFirst(prefix.count))
    }

    public func put(_ data: Data, at key: ArtifactKey) async throws(ArtifactStoreError) {
        contents.withLock { $0[key] = data }
    }

    public func put(contentsOf file: URL, at key: ArtifactKey) async throws(ArtifactStoreError) {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw ArtifactStoreError(.ioFailed, key, "could not read the source file") }
        contents.withLock { $0[key] = data }
    }

    public func size(of key: ArtifactKey) async throws(ArtifactStoreError) -> Int? { contents.withLock { $0[key]?.count } }

    public func read(_ key: ArtifactKey, range: ClosedRange<Int>?, chunkSize: Int) -> AsyncThrowingStream<Data, any Error> {
        let stored = contents.withLock { $0[key] }
        return AsyncThrowingStream { continuation in
            guard let stored else { return continuation.finish(throwing: ArtifactStoreError(.notFound, key, "nothing is stored")) }
            guard !stored.isEmpty || range != nil else { return continuation.finish() }
            let wanted = range ?? 0...(stored.count - 1)
            guard wanted.lowerBound >= 0, wanted.upperBound < stored.count else {
                return continuation.finish(throwing: ArtifactStoreError(.invalidRange, key, "bytes \(wanted) of \(stored.count)"))
            }
            var start = wanted.lowerBound
            while start <= wanted.upperBound {
                let end = min(start + chunkSize, wanted.upperBound + 1)
                continuation.yield(Data(stored[(stored.startIndex + start)..<(stored.startIndex + end)]))
                start = end
            }
            continuation.finish()
        }
    }

    public func delete(_ key: ArtifactKey) async throws(ArtifactStoreError) { contents.withLock { _ = $0.removeValue(forKey: key) } }

    public func localURL(for key: ArtifactKey) -> URL? { nil }

    public func availableBytes() -> Int64? { nil }
}
