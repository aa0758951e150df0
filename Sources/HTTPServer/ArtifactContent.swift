import Artifacts
import Hummingbird
import TurboServeDomain

/// A job's stored artifact as an HTTP body: found through the artifact store by the reference its record holds,
/// sent from the backend's local file when it has one (Hummingbird's file I/O, as before the seam) and streamed
/// from the store otherwise.
struct ArtifactContent {
    let key: ArtifactKey
    let size: Int

    /// Chunk size when streaming from a backend without local files.
    static let chunkSize = 256 << 10

    /// The artifact `reference` names; `not_found` when it is not (or no longer) stored.
    init(reference: String, kind: ArtifactKind, job: JobID, in artifacts: any ArtifactStore) async throws(TurboServeError) {
        let gone = TurboServeError(.notFound, field: "video_id", "the content of video '\(job)' is no longer stored")
        guard let key = artifacts.key(forReference: reference, kind: kind) else { throw gone }
        guard let size = try? await artifacts.size(of: key) else { throw gone }
        self.key = key
        self.size = size
    }

    /// All of the artifact, or `range` of it (already resolved against `size`).
    func body(range: ClosedRange<Int>? = nil, from artifacts: any ArtifactStore, context: some RequestContext) async throws -> ResponseBody {
        if let local = artifacts.localURL(for: key) {
            if let range { return try await FileIO().loadFile(path: local.path, range: range, context: context) }
            return try await FileIO().loadFile(path: local.path, context: context)
        }
        let chunks = artifacts.read(key, range: range, chunkSize: Self.chunkSize)
        return ResponseBody(contentLength: range?.count ?? size) { writer in
            for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
    }
}
