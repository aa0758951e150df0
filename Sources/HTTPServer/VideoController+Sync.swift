import Artifacts
import HTTPTypes
import Hummingbird
import JobStore
import TurboServeDomain

/// `POST /v1/videos/sync` (vLLM-Omni): the same request as `POST /v1/videos`, answered with the finished MP4.
///
/// Outcomes, each carrying the job id in `X-Video-Id`:
/// - the job succeeded: 200 `video/mp4`, the whole file;
/// - the job failed: the OpenAI-shaped error of the job's own code (status mapped by `APIError`);
/// - the job was cancelled (`DELETE`) meanwhile: 409 `cancelled`;
/// - a replayed job whose files retention deleted: 404 `video_expired`;
/// - `limits.syncTimeout` passed first: 202 Accepted with the video object (`Location: /v1/videos/{id}`); the job
///   keeps running and can be polled by its id. (Not a 504: nothing failed, and no gateway is involved.)
/// A request that is refused before a job exists (validation, queue full, disk full) gets the usual error and no
/// header. An Idempotency-Key replay waits for (or returns) the first job.
extension VideoController {
    @Sendable func createAndWait(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let (job, _) = try await createJob(request)
            let headers: HTTPFields = [.videoID: job.id.rawValue]
            guard let finished = try await api.waitUntilFinished(job.id, timeout: api.limits.syncTimeout) else {
                // Not an error of the server's (no 5xx): the job was accepted and keeps running.
                var response = try JSONCoding.encoder.encode(video(job), from: request, context: context)
                response.status = .accepted
                response.headers.append(contentsOf: headers)
                response.headers[.location] = "/v1/videos/\(job.id)"
                return response
            }
            guard finished.phase == .succeeded, let reference = finished.videoPath else {
                return try Self.errorResponse(Self.failure(of: finished), headers: headers, request: request, context: context)
            }
            var fileHeaders = headers
            fileHeaders[.contentType] = "video/mp4"
            let content = try await ArtifactContent(reference: reference, kind: .video, job: job.id, in: api.artifacts)
            fileHeaders[.contentLength] = String(content.size)
            return Response(status: .ok, headers: fileHeaders, body: try await content.body(from: api.artifacts, context: context))
        }
    }

    /// Why a finished job has no video to send: its own error (failed, cancelled), or retention deleted it (an
    /// Idempotency-Key replay of an old job).
    static func failure(of job: JobRecord) -> TurboServeError {
        if job.phase == .succeeded {
            return TurboServeError(.videoExpired, field: "video_id", "the content of video '\(job.id)' expired: retention deleted it")
        }
        if job.phase == .cancelled {
            return TurboServeError(.cancelled, field: "video_id", "video '\(job.id)' was cancelled (DELETE /v1/videos/\(job.id)) before it finished")
        }
        let code = job.errorCode.flatMap(TurboServeError.Code.init(rawValue:)) ?? .internalError
        return TurboServeError(code, job.errorMessage ?? "video '\(job.id)' failed")
    }

    /// An `APIError` response with extra headers (the job id) that a thrown error could not carry.
    static func errorResponse(_ error: TurboServeError, headers: HTTPFields, request: Request, context: Context) throws -> Response {
        var response = try APIError(error).response(from: request, context: context)
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension HTTPField.Name {
    /// The job behind an answer: every `/v1/videos/sync` answer about a created job, and a create or delete whose
    /// store stopped answering after the write reached it, so the caller can follow the video up.
    static let videoID = Self("X-Video-Id")!
}
