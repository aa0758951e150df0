import Artifacts
import Foundation
import JobStore
import TurboServeDomain

/// Everything the video endpoints need, injected: the store, validation, ids and seeds, the artifact store (uploads
/// are put there; content is served and deleted from it), and the
/// live progress of jobs. Workers hear of new and cancelled jobs from the store's signals, not from here. Immutable and `Sendable`; one instance serves
/// every request concurrently.
public struct VideoAPI: Sendable {
    public struct Limits: Sendable {
        public var maxJSONBytes = 1 << 20
        public var maxUploadBytes = 16 << 20
        public var defaultListLimit = 20
        public var maxListLimit = 100
        /// New jobs are refused with `queue_full` (429) while this many jobs are queued; nil: unbounded.
        public var maxQueuedJobs: Int?
        /// A tenant's new jobs are refused with `tenant_queue_full` (429) while it has this many queued; nil: no
        /// per-tenant bound.
        public var maxQueuedPerTenant: Int?
        /// Multipart uploads received at once; beyond it a create is 503 `server_busy` before its body is read.
        public var maxConcurrentUploads = 8
        /// How long reading a request body may take in all; then 408 `request_timeout` and the connection closes.
        public var bodyTimeout: Duration = .seconds(60)
        /// How often an event stream with nothing to say sends a `: keep-alive` comment (a proxy keeps the stream
        /// open, and a client that left is noticed at the next write, which ends its handler).
        public var eventsHeartbeat: Duration = .seconds(15)
        /// The pixel budget of an `input_reference` image, by its header (`limits.max_image_pixels`).
        public var maxImagePixels = 40_000_000
        /// New jobs are refused with `disk_full` (503) while the output volume has less free space than this.
        public var minFreeDiskBytes: Int64 = 0
        /// How long `POST /v1/videos/sync` waits for its job before answering 202 Accepted with the video object.
        public var syncTimeout: Duration = .seconds(600)
        /// How long finished videos are kept (`storage.retention_hours`), reported as `expires_at`; nil: forever.
        public var retention: Duration?
        public init() {}
    }

    public let store: any JobStore
    public let validator: JobValidator
    /// Where uploads are put and videos and thumbnails are served and deleted from.
    public let artifacts: any ArtifactStore
    public let limits: Limits
    public let makeJobID: @Sendable () -> JobID
    public let randomSeed: @Sendable () -> Int64
    /// Live updates for SSE and sync subscribers, followed in the store.
    public let progress: ProgressHub
    /// API keys and their tenants; empty: auth off.
    public let keys: APIKeys
    /// The cap on uploads being received at once (`Limits.maxConcurrentUploads`).
    public let uploadGate: UploadGate
    /// The longest `Idempotency-Key` accepted, in UTF-8 bytes.
    public static let maxIdempotencyKeyBytes = 255

    public init(
        store: any JobStore, validator: JobValidator = JobValidator(), artifacts: any ArtifactStore, limits: Limits = Limits(),
        makeJobID: @escaping @Sendable () -> JobID = VideoAPI.randomJobID,
        randomSeed: @escaping @Sendable () -> Int64 = { Int64.random(in: JobValidator.seedRange) },
        progress: ProgressHub? = nil, keys: APIKeys = APIKeys()
    ) {
        // Without a hub, progress is followed by polling the store alone (no signals reach a private twin).
        self.progress = progress ?? ProgressHub(store: store, signals: LocalJobSignals())
        self.keys = keys
        self.store = store
        self.validator = validator
        self.artifacts = artifacts
        self.limits = limits
        self.makeJobID = makeJobID
        self.randomSeed = randomSeed
        uploadGate = UploadGate(capacity: limits.maxConcurrentUploads)
    }

    /// `video_` followed by 24 random hex digits.
    @Sendable public static func randomJobID() -> JobID {
        JobID("video_" + (hex16(UInt64.random(in: .min ... .max)) + hex16(UInt64.random(in: .min ... .max))).prefix(24))
    }

    /// `value` as 16 lowercase hex digits, zero-padded (`String(format:)` cost a few percent of a create).
    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Validates and stores a new job; the upload (if any) is kept only when the job is created.
    ///
    /// With an Idempotency-Key the upload is stored under a name derived from the tenant, the key, the fields and
    /// the image bytes (`UploadName`), so an identical retry describes the identical spec and replays the first
    /// job, while a different request under the same key is a 409; the key itself is checked first
    /// (`checkIdempotencyKey`).
    func create(fields: VideoRequestFields, image: MultipartFormData.Part?, tenant: TenantID, idempotencyKey: String?) async throws -> JobRecord {
        try Self.checkIdempotencyKey(idempotencyKey)
        try checkFreeDisk()
        let id = makeJobID()
        let uploadName = idempotencyKey.map { UploadName.keyed(tenant: tenant, key: $0, fields: fields.values, image: image?.data ?? []) } ?? id.rawValue
        var upload: SavedUpload?
        if let image { upload = try await saveUpload(image, named: uploadName) }
        let imagePath = upload.map { artifacts.reference(for: $0.key) }
        // Only the request that wrote the upload removes it: an existing keyed upload belongs to an earlier job.
        let removeUpload = { [artifacts, upload] in if let upload, upload.wroteFile { try? await artifacts.delete(upload.key) } }
        do {
            // With an Idempotency-Key, an unseeded request gets a seed derived from the key, so a retry resolves to
            // the identical job (and the identical video) instead of looking like a different request.
            let keyedSeed = idempotencyKey.map { Self.seed(fromKey: $0, tenant: tenant) }
            var spec: ValidatedJob
            do {
                spec = try validator.validate(try fields.spec(imagePath: imagePath), randomSeed: { keyedSeed ?? randomSeed() })
            } catch {
                throw fields.sentName(error)
            }
            if let image = upload?.image { spec = spec.fitted(toImage: image) }
            var job = NewJob(id: id, tenant: tenant, spec: spec, idempotencyKey: idempotencyKey, maxQueued: limits.maxQueuedJobs)
            job.maxQueuedPerTenant = limits.maxQueuedPerTenant
            let (record, created) = try await Self.storeAnswering(video: id, unknownOutcome: Self.createMayHaveApplied(id, keyed: idempotencyKey != nil)) {
                try await store.create(job)
            }
            if !created, record.spec.imagePath != imagePath { await removeUpload() }
            if record.deletedAt != nil {
                throw TurboServeError(.conflict, field: "Idempotency-Key", "the video created under this Idempotency-Key was deleted; send the request under a new key")
            }
            return record
        } catch {
            await removeUpload()
            throw error
        }
    }

    /// The 503 of a create whose store stopped answering after the job was sent: it may still be stored when the
    /// store wakes (and then it runs), so the client is told its id and how to retry without making a second video.
    static func createMayHaveApplied(_ id: JobID, keyed: Bool) -> String {
        let retry = keyed ? "retry with the same Idempotency-Key, which returns that video if it was stored"
            : "GET /v1/videos/\(id) once the store answers tells whether it was stored; send an Idempotency-Key so a retry can never make a second video"
        return "the job store stopped answering after video \(id) was sent to it, so it may still be stored; \(retry)"
    }

    /// An Idempotency-Key is 1 to `maxIdempotencyKeyBytes` bytes of visible ASCII; the error never echoes it.
    static func checkIdempotencyKey(_ key: String?) throws(TurboServeError) {
        guard let key else { return }
        guard !key.isEmpty, key.utf8.count <= maxIdempotencyKeyBytes, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw TurboServeError(.invalidValue, field: "Idempotency-Key", "Idempotency-Key must be 1 to \(maxIdempotencyKeyBytes) visible ASCII characters; got \(key.utf8.count) bytes")
        }
    }

    /// Runs a store write about `video`; a store that could not answer (locked, unreachable, hung) becomes 503
    /// `not_ready` with a retry hint, never a 500. It says "nothing was stored" only when that is known; when the
    /// write had gone out before the store stopped answering (`JobStoreUnavailable.mayHaveApplied`), it answers
    /// `unknownOutcome`, which tells the client how to find out and how to retry without doing the write twice, and
    /// carries the video's id in `X-Video-Id` like every answer about a video that may exist.
    static func storeAnswering<T>(video: JobID, unknownOutcome: @autoclosure () -> String, _ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let decided as TurboServeError {
            throw decided
        } catch let unavailable as JobStoreUnavailable where unavailable.mayHaveApplied {
            var answer = APIError(TurboServeError(.notReady, unknownOutcome()))
            answer.headers[.videoID] = video.rawValue
            throw answer
        } catch {
            throw TurboServeError(.notReady, "the job store is busy or unavailable; nothing was stored, retry in a few seconds")
        }
    }

    /// Refuses new work before the disk fills, so jobs fail clearly at the door instead of half-way through.
    func checkFreeDisk() throws(TurboServeError) {
        guard limits.minFreeDiskBytes > 0 else { return }
        guard let free = artifacts.availableBytes() else { return }
        if free < limits.minFreeDiskBytes {
            throw TurboServeError(.diskFull, "the server's disk has \(free >> 20) MiB free, below its \(limits.minFreeDiskBytes >> 20) MiB reserve; retry later")
        }
    }

    /// FNV-1a of tenant + key, folded into the seed range.
    static func seed(fromKey key: String, tenant: TenantID) -> Int64 {
        var hash = UploadName.FNV(basis: 0xcbf2_9ce4_8422_2325)
        for byte in (tenant.rawValue + "\u{0}" + key).utf8 { hash.add(byte) }
        return Int64(hash.hash % UInt64(JobValidator.seedRange.upperBound + 1))
    }

    /// Removes a deleted job's artifacts: its video, thumbnail and uploaded image. Best effort: an artifact already
    /// gone is no error (retention may have run), and a failed delete leaves the job deleted (its content is no
    /// longer served either way).
    func removeArtifacts(of job: JobRecord) async {
        for key in artifacts.keys(videoPath: job.videoPath, thumbnailPath: job.thumbnailPath, imagePath: job.spec.imagePath) {
            try? await artifacts.delete(key)
        }
    }

    /// An upload as `saveUpload` left it: its key, whether this request wrote it, and the image's pixel size.
    struct SavedUpload: Sendable {
        let key: ArtifactKey
        let wroteFile: Bool
        let image: FrameSize
    }

    /// Accepts a complete PNG, JPEG or WebP (`ImageHeader`: by its bytes, not its declared type, within the pixel
    /// budget), up to `maxUploadBytes`, put in the artifact store as the upload `<name>.<ext>` (atomically, so a
    /// concurrent identical retry never sees half a file).
    /// `wroteFile` is false when an upload of that name existed already (a keyed retry: same name, same bytes).
    private func saveUpload(_ part: MultipartFormData.Part, named name: String) async throws(TurboServeError) -> SavedUpload {
        guard part.data.count <= limits.maxUploadBytes else {
            throw TurboServeError(.payloadTooLarge, field: "input_reference", "input_reference must be at most \(limits.maxUploadBytes >> 20) MiB; got \(part.data.count) bytes")
        }
        let header = try ImageHeader.inspect(part.data, maxPixels: limits.maxImagePixels)
        let image = FrameSize(width: header.width, height: header.height)
        guard let key = ArtifactKey(.upload, name: name, fileExtension: header.format) else {
            throw TurboServeError(.internalError, "could not name the upload")
        }
        if (try? await artifacts.size(of: key)) != nil { return SavedUpload(key: key, wroteFile: false, image: image) }
        do {
            try await artifacts.put(Data(part.data), at: key)
        } catch {
            throw TurboServeError(.internalError, "could not store the upload")
        }
        return SavedUpload(key: key, wroteFile: true, image: image)
    }
}
