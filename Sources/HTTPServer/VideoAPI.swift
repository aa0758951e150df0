import Foundation
import JobStore
import TurboServeDomain

/// Everything the video endpoints need, injected: the store, validation, ids and seeds, where uploads go, and the
/// hooks that wake the worker when a job is created or cancelled. Immutable and `Sendable`; one instance serves
/// every request concurrently.
public struct VideoAPI: Sendable {
    public struct Limits: Sendable {
        public var maxJSONBytes = 1 << 20
        public var maxUploadBytes = 16 << 20
        public var defaultListLimit = 20
        public var maxListLimit = 100
        /// New jobs are refused with `queue_full` (429) while this many jobs are queued; nil: unbounded.
        public var maxQueuedJobs: Int?
        /// New jobs are refused with `disk_full` (503) while the output volume has less free space than this.
        public var minFreeDiskBytes: Int64 = 0
        /// How long `POST /v1/videos/sync` waits for its job before answering 504 `wait_timeout`.
        public var syncTimeout: Duration = .seconds(600)
        /// How long finished videos are kept (`storage.retention_hours`), reported as `expires_at`; nil: forever.
        public var retention: Duration?
        public init() {}
    }

    public let store: any JobStore
    public let validator: JobValidator
    public let uploadsDirectory: URL
    public let limits: Limits
    public let makeJobID: @Sendable () -> JobID
    public let randomSeed: @Sendable () -> Int64
    public let jobCreated: @Sendable (JobRecord) -> Void
    public let jobCancelled: @Sendable (JobID) -> Void
    /// Live updates for SSE subscribers; the worker publishes into it.
    public let progress: ProgressHub
    /// API keys and their tenants; empty: auth off.
    public let keys: APIKeys

    public init(
        store: any JobStore, validator: JobValidator = JobValidator(), uploadsDirectory: URL, limits: Limits = Limits(),
        makeJobID: @escaping @Sendable () -> JobID = VideoAPI.randomJobID,
        randomSeed: @escaping @Sendable () -> Int64 = { Int64.random(in: JobValidator.seedRange) },
        jobCreated: @escaping @Sendable (JobRecord) -> Void = { _ in },
        jobCancelled: @escaping @Sendable (JobID) -> Void = { _ in },
        progress: ProgressHub = ProgressHub(), keys: APIKeys = APIKeys()
    ) {
        self.progress = progress
        self.keys = keys
        self.store = store
        self.validator = validator
        self.uploadsDirectory = uploadsDirectory
        self.limits = limits
        self.makeJobID = makeJobID
        self.randomSeed = randomSeed
        self.jobCreated = jobCreated
        self.jobCancelled = jobCancelled
    }

    /// `video_` followed by 24 random hex digits.
    @Sendable public static func randomJobID() -> JobID {
        JobID("video_" + (0..<3).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined().prefix(24))
    }

    /// Validates and stores a new job; the upload (if any) is kept only when the job is created.
    func create(fields: VideoRequestFields, image: MultipartFormData.Part?, tenant: TenantID, idempotencyKey: String?) async throws -> JobRecord {
        try checkFreeDisk()
        let id = makeJobID()
        let imagePath = try image.map { part throws(TurboServeError) in try saveUpload(part, for: id) }
        do {
            // With an Idempotency-Key, an unseeded request gets a seed derived from the key, so a retry resolves to
            // the identical job (and the identical video) instead of looking like a different request.
            let keyedSeed = idempotencyKey.map { Self.seed(fromKey: $0, tenant: tenant) }
            let spec = try validator.validate(try fields.spec(imagePath: imagePath), randomSeed: { keyedSeed ?? randomSeed() })
            let (record, created) = try await store.create(NewJob(id: id, tenant: tenant, spec: spec, idempotencyKey: idempotencyKey, maxQueued: limits.maxQueuedJobs))
            if created { jobCreated(record) } else if let imagePath { try? FileManager.default.removeItem(atPath: imagePath) }
            return record
        } catch {
            if let imagePath { try? FileManager.default.removeItem(atPath: imagePath) }
            throw error
        }
    }

    /// Refuses new work before the disk fills, so jobs fail clearly at the door instead of half-way through.
    func checkFreeDisk() throws(TurboServeError) {
        guard limits.minFreeDiskBytes > 0 else { return }
        let path = FileManager.default.fileExists(atPath: uploadsDirectory.path) ? uploadsDirectory.path : uploadsDirectory.deletingLastPathComponent().path
        guard let free = (try? FileManager.default.attributesOfFileSystem(forPath: path))?[.systemFreeSize] as? NSNumber else { return }
        if free.int64Value < limits.minFreeDiskBytes {
            throw TurboServeError(.diskFull, "the server's disk has \(free.int64Value >> 20) MiB free, below its \(limits.minFreeDiskBytes >> 20) MiB reserve; retry later")
        }
    }

    /// FNV-1a of tenant + key, folded into the seed range.
    static func seed(fromKey key: String, tenant: TenantID) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (tenant.rawValue + "\u{0}" + key).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(hash % UInt64(JobValidator.seedRange.upperBound + 1))
    }

    /// Accepts PNG, JPEG and WebP by their magic bytes (not by the declared type), up to `maxUploadBytes`.
    private func saveUpload(_ part: MultipartFormData.Part, for id: JobID) throws(TurboServeError) -> String {
        guard part.data.count <= limits.maxUploadBytes else {
            throw TurboServeError(.payloadTooLarge, field: "input_reference", "input_reference must be at most \(limits.maxUploadBytes >> 20) MiB; got \(part.data.count) bytes")
        }
        guard let ext = Self.imageExtension(part.data) else {
            throw TurboServeError(.invalidValue, field: "input_reference", "input_reference must be a PNG, JPEG or WebP image")
        }
        let url = uploadsDirectory.appendingPathComponent("\(id.rawValue).\(ext)")
        do {
            try FileManager.default.createDirectory(at: uploadsDirectory, withIntermediateDirectories: true)
            try Data(part.data).write(to: url)
        } catch {
            throw TurboServeError(.internalError, "could not store the upload: \(error)")
        }
        return url.path
    }

    static func imageExtension(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpg" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return "webp" }
        return nil
    }
}
