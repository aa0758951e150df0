/// An error a caller can act on: a stable machine-readable `code`, the request `field` it concerns (if any) and a
/// human message that names the field and the allowed values.
///
/// Codes are part of the public contract (API error bodies, engine replies, logs); never rename one once shipped.
/// Mapping a code to an HTTP status happens in exactly one place in the HTTP layer.
public struct TurboServeError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Code
    public let field: String?
    public let message: String

    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// `not_found` on `video_id`: there is no job `id` the caller may see (the one message for an unknown job, from
    /// the HTTP layer and every store; the id is quoted as `JobValidator.quote` cuts it).
    public static func noSuchVideo(_ id: String) -> TurboServeError {
        TurboServeError(.notFound, field: "video_id", "no video with id '\(JobValidator.quote(id))'")
    }

    public var description: String {
        if let field { return "\(code.rawValue) (\(field)): \(message)" }
        return "\(code.rawValue): \(message)"
    }

    /// Stable error codes. Grouped by who can fix the problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        // The caller can fix these (HTTP 4xx).
        case invalidValue = "invalid_value"
        case missingField = "missing_field"
        case unknownModel = "unknown_model"
        case unsupportedForModel = "unsupported_for_model"
        case malformedRequest = "malformed_request"
        /// A JSON body named a field the API does not have (a typo such as `modle`); the message lists the fields.
        case unknownField = "unknown_field"
        /// Two fields that set the same thing disagree (`size` and `aspect_ratio`, `num_frames` and `seconds`).
        case conflictingFields = "conflicting_fields"
        case payloadTooLarge = "payload_too_large"
        case notFound = "not_found"
        case conflict = "conflict"
        case unauthorized = "unauthorized"
        /// A valid key that may not use this route (a tenant key on an operator route such as `/v1/operations`).
        case forbidden = "forbidden"
        /// The route exists but not with this method (HTTP 405, with `Allow`).
        case methodNotAllowed = "method_not_allowed"
        /// The client sent its request (headers or body) too slowly (`limits.body_timeout_seconds`).
        case requestTimeout = "request_timeout"
        /// No `Authorization: Bearer <key>`, or a key the server does not know (API keys configured).
        case invalidAPIKey = "invalid_api_key"
        /// The job finished long enough ago that its files were deleted (`storage.retention_hours`).
        case videoExpired = "video_expired"
        // Capacity: retry later (HTTP 429 / 503).
        case queueFull = "queue_full"
        /// This tenant already has `limits.max_queued_per_tenant` jobs queued; other tenants are unaffected.
        case tenantQueueFull = "tenant_queue_full"
        /// The tenant sent requests faster than `limits.requests_per_second` (burst `limits.burst`) allows.
        case rateLimited = "rate_limit_exceeded"
        /// Too many uploads are being received at once (`limits.max_concurrent_uploads`); retry shortly.
        case serverBusy = "server_busy"
        case notReady = "not_ready"
        case diskFull = "disk_full"
        /// Reserved: `POST /v1/videos/sync` once answered a wait past `limits.sync_timeout_seconds` with this (504);
        /// it now answers 202 with the video object. Kept so the code's meaning never changes.
        case waitTimeout = "wait_timeout"
        // The engine or the server failed (HTTP 5xx or a failed job).
        case engineOutOfMemory = "engine_out_of_memory"
        case engineCrashed = "engine_crashed"
        /// The engine process was restarted while this job held state, but the job was not in the plan that
        /// failed: it runs again without an attempt counted.
        case engineRestarted = "engine_restarted"
        /// The worker's lease on the job ran out (it stopped heartbeating); the job went back to the queue.
        case leaseExpired = "lease_expired"
        /// A worker wrote to a job it no longer holds (cancelled, expired, taken over); the write changed nothing.
        case jobNotHeld = "job_not_held"
        /// Engine state dropped at a step boundary to make room for more urgent work; the job runs again.
        case preempted = "preempted"
        case engineError = "engine_error"
        /// The video encoder (ffmpeg) is not installed where the server looks (`PATH`).
        case encoderUnavailable = "encoder_unavailable"
        /// The video encoder ran and failed (non-zero exit); its message says why.
        case encodingFailed = "encoding_failed"
        case modelMissing = "model_missing"
        case cancelled = "cancelled"
        case internalError = "internal_error"
    }
}

extension TurboServeError.Code {
    /// Whether a retry for this reason uses one of the job's attempts (the store counts them, bounded by
    /// `limits.max_attempts`). A fault the job may have caused counts — the engine died or hung running it, an
    /// engine error no job was named for, its lease ran out; what the scheduler chose (preemption, a batch split
    /// after a memory refusal) or a fault of another job (a restart that dropped this job's state as a bystander)
    /// does not.
    public var countsAsAttempt: Bool {
        switch self {
        case .preempted, .engineOutOfMemory, .engineRestarted: false
        default: true
        }
    }
}
