import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The default `ArtifactStore`: files in directories every role mounts (a shared volume in a fleet). The layout is
/// the one TurboServe has always used, so existing data keeps working: uploads as `<uploads>/<name>.<ext>`
/// (`storage.data_dir/uploads`), videos and thumbnails as `<outputs>/<job>.mp4|jpg` (`storage.output_dir`,
/// default `storage.data_dir/outputs`). A reference is the file's absolute path, as job records hold today.
///
/// Atomicity: every put writes a hidden temporary file in the destination directory and renames it over the
/// final name (one `rename(2)` on one file system), so a reader — on this node or another mounting the volume —
/// sees the old file or the whole new one.
///
/// Thread-safety: immutable; concurrent puts of one key each rename a complete file, the last one wins.
public struct DirectoryArtifactStore: ArtifactStore {
    public let uploads: URL
    public let outputs: URL

    public init(uploads: URL, outputs: URL) {
        self.uploads = uploads.standardizedFileURL
        self.outputs = outputs.standardizedFileURL
    }

    /// Every kind in one directory (tests, the `generate` command's scratch data directory).
    public init(directory: URL) { self.init(uploads: directory, outputs: directory) }

    public func directory(of kind: ArtifactKind) -> URL { kind == .upload ? uploads : outputs }

    public func localURL(for key: ArtifactKey) -> URL? { directory(of: key.kind).appendingPathComponent(key.fileName) }

    public func reference(for key: ArtifactKey) -> String { directory(of: key.kind).appendingPathComponent(key.fileName).path }

    public func key(forReference reference: String, kind: ArtifactKind) -> ArtifactKey? {
        let url = URL(fileURLWithPath: reference).standardizedFileURL
        guard url.deletingLastPathComponent().path == directory(of: kind).path else { return nil }
        return ArtifactKey(kind, fileName: url.lastPathComponent)
    }

    public func put(_ data: Data, at key: ArtifactKey) async throws(ArtifactStoreError) {
        try replace(key) { temporary in try data.write(to: temporary) }
    }

    public func put(contentsOf file: URL, at key: ArtifactKey) async throws(ArtifactStoreError) {
        try replace(key) { temporary in try FileManager.default.copyItem(at: file, to: temporary) }
    }

    public func size(of key: ArtifactKey) async throws(ArtifactStoreError) -> Int? {
        let path = directory(of: key.kind).appendingPathComponent(key.fileName).path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attributes[.size] as? NSNumber)?.intValue
    }

    public func read(_ key: ArtifactKey, range: ClosedRange<Int>?, chunkSize: Int) -> AsyncThrowingStream<Data, any Error> {
        let url = directory(of: key.kind).appendingPathComponent(key.fileName)
        return AsyncThrowingStream { continuation in
            let reader = Task {
                do {
                    guard let handle = try? FileHandle(forReadingFrom: url) else { throw ArtifactStoreError(.notFound, key, "nothing is stored") }
                    defer { try? handle.close() }
                    let size = Int(try handle.seekToEnd())
                    if size == 0 && range == nil { continuation.finish(); return }
                    let wanted = range ?? 0...(size - 1)
                    guard wanted.lowerBound >= 0, wanted.upperBound < size else { throw ArtifactStoreError(.invalidRange, key, "bytes \(wanted) of \(size)") }
                    try handle.seek(toOffset: UInt64(wanted.lowerBound))
                    var remaining = wanted.count
                    while remaining > 0, !Task.isCancelled {
                        guard let chunk = try handle.read(upToCount: min(chunkSize, remaining)), !chunk.isEmpty else {
                            throw ArtifactStoreError(.ioFailed, key, "the file ended early")
                        }
                        remaining -= chunk.count
                        continuation.yield(chunk)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    public func delete(_ key: ArtifactKey) async throws(ArtifactStoreError) {
        let path = directory(of: key.kind).appendingPathComponent(key.fileName).path
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { return }
            throw ArtifactStoreError(.ioFailed, key, "could not delete: \(type(of: error))")
        }
    }

    /// Bytes an unprivileged writer may still use on the uploads' file system (its parent's while the uploads
    /// directory does not exist yet). One `statvfs(2)`: every create asks, so no `FileManager` dictionary.
    public func availableBytes() -> Int64? {
        var stats = statvfs()
        guard statvfs(uploads.path, &stats) == 0 || statvfs(uploads.deletingLastPathComponent().path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Writes through a hidden temporary file beside the destination, then renames it over the destination.
    private func replace(_ key: ArtifactKey, write: (URL) throws -> Void) throws(ArtifactStoreError) {
        let folder = directory(of: key.kind)
        let destination = folder.appendingPathComponent(key.fileName)
        let temporary = folder.appendingPathComponent(".\(key.fileName).partial-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try write(temporary)
            guard rename(temporary.path, destination.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ArtifactStoreError(.ioFailed, key, "could not store: \(type(of: error))")
        }
    }
}
