import Foundation
import JobStore
import TurboServeDomain

/// The OpenAI Videos API `video` object, plus TurboServe's own fields (`steps`, `seed`, `stage`, …) which the
/// official SDKs carry through as extra attributes.
struct VideoObject: Encodable, Sendable {
    let id: String
    let object = "video"
    let model: String
    let status: String
    let progress: Int
    let createdAt: Int
    let completedAt: Int?
    let expiresAt: Int?
    let size: String
    let seconds: String
    let quality = "standard"
    let remixedFromVideoId: String? = nil
    let error: ErrorDetail?
    // TurboServe extras.
    let stage: String
    let step: Int
    let steps: Int
    let numFrames: Int
    let fps: Int
    let seed: Int64
    let sampler: String
    let sigmaMax: Double
    let priority: String
    let prompt: String
    /// Seconds spent per stage (`admit`, `denoise`, `decode`, `mux`, `retried`), from the stored event log
    /// (`StageDurations`); set on retrieve, absent elsewhere.
    var stageDurations: [String: Double]?
    /// What the server adjusted in a form request (ignored fields, …); only in the create answer, absent when none.
    var adjustments: [String]?

    struct ErrorDetail: Encodable, Sendable {
        let code: String
        let message: String
    }

    /// `retention` (how long finished videos are kept) sets `expires_at` of a succeeded video; once retention has
    /// deleted the files it is the time that happened.
    init(_ record: JobRecord, retention: Duration? = nil) {
        let spec = record.spec
        id = record.id.rawValue
        model = spec.model
        status = record.phase.apiStatus
        progress = Self.progress(record)
        createdAt = Int(record.createdAt.timeIntervalSince1970)
        completedAt = record.completedAt.map { Int($0.timeIntervalSince1970) }
        let expiry = record.expiredAt ?? retention.flatMap { kept in
            record.phase == .succeeded ? record.completedAt?.addingTimeInterval(kept.seconds) : nil
        }
        expiresAt = expiry.map { Int($0.timeIntervalSince1970) }
        size = "\(spec.width)x\(spec.height)"
        seconds = Self.format(seconds: Double(spec.frames - 1) / Double(spec.fps))
        error = record.phase == .failed || record.phase == .cancelled
            ? ErrorDetail(code: record.errorCode ?? record.phase.rawValue, message: PathRedaction.redact(record.errorMessage ?? "the job was \(record.phase.rawValue)"))
            : nil
        stage = record.phase.rawValue
        step = record.stepsCompleted
        steps = spec.steps
        numFrames = spec.frames
        fps = spec.fps
        seed = spec.seed
        sampler = spec.sampler.rawValue
        sigmaMax = spec.sigmaMax
        priority = spec.priority.rawValue
        prompt = spec.prompt
    }

    /// 0–100: admission 5, denoising spans 10–85 by step, decoding 90, muxing 95, done 100.
    static func progress(_ record: JobRecord) -> Int {
        switch record.phase {
        case .queued: 0
        case .admitted: 5
        case .denoising: 10 + 75 * record.stepsCompleted / max(record.spec.steps, 1)
        case .decoding: 90
        case .muxing: 95
        case .succeeded: 100
        case .failed, .cancelled: 0
        }
    }

    static func format(seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.2f", seconds)
    }
}

/// `GET /v1/videos`: OpenAI's list envelope.
struct VideoList: Encodable, Sendable {
    let object = "list"
    let data: [VideoObject]
    let firstId: String?
    let lastId: String?
    let hasMore: Bool
}

struct VideoDeleted: Encodable, Sendable {
    let id: String
    let object = "video.deleted"
    let deleted: Bool
}
