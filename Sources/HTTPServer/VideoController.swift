import Artifacts
import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import TurboServeDomain

/// The OpenAI-compatible `/v1/videos` endpoints. Every failure leaves as an `APIError` (OpenAI-shaped body,
/// status mapped in one place); nothing here crashes on input.
struct VideoController<Context: RequestContext>: Sendable {
    let api: VideoAPI

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("videos", use: create)
        group.post("videos/sync", use: createAndWait)
        group.get("videos", use: list)
        group.get("videos/{id}", use: retrieve)
        group.delete("videos/{id}", use: delete)
        group.get("videos/{id}/content", use: content)
        group.get("videos/{id}/events", use: events)
    }

    @Sendable func create(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let (job, adjustments) = try await createJob(request)
            var object = video(job)
            object.adjustments = adjustments.isEmpty ? nil : adjustments
            return try JSONCoding.encoder.encode(object, from: request, context: context)
        }
    }

    /// Reads a create request (JSON; multipart with an optional `input_reference` image; or a urlencoded form,
    /// which is how aiohttp and HTML forms send fields without a file) and stores the job. Returns what the server
    /// adjusted in a form request (ignored fields, accepted-but-unused ones). A body whose `Content-Length` is
    /// over the limit is refused 413 before a byte of it is read; a multipart body takes a slot of the upload
    /// gate (503 `server_busy` when none is free) while it is received.
    func createJob(_ request: Request) async throws -> (JobRecord, adjustments: [String]) {
        let contentType = request.headers[.contentType] ?? "application/json"
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let caller = try caller(request)
        let fields: VideoRequestFields
        var image: MultipartFormData.Part?
        if let boundary = MultipartFormData.boundary(fromContentType: contentType) {
            (fields, image) = try await api.uploadGate.withSlot {
                let form = try MultipartFormData(body: try await collect(request, upTo: api.limits.maxUploadBytes + api.limits.maxJSONBytes), boundary: boundary)
                return (try VideoRequestFields(form: form), form.part(named: "input_reference"))
            }
        } else if mediaType == "application/json" {
            fields = try VideoRequestFields(json: try await collect(request, upTo: api.limits.maxJSONBytes))
        } else if mediaType == "application/x-www-form-urlencoded" {
            fields = try VideoRequestFields(urlencoded: try await collect(request, upTo: api.limits.maxJSONBytes))
        } else {
            throw TurboServeError(.malformedRequest, field: "Content-Type", "Content-Type must be application/json, multipart/form-data or application/x-www-form-urlencoded; got '\(JobValidator.quote(contentType))'")
        }
        let job = try await api.create(fields: fields, image: image, tenant: caller.tenant, idempotencyKey: request.headers[.idempotencyKey])
        return (job, fields.adjustments)
    }

    /// The video object, with `stage_durations` derived from the job's stored event log.
    @Sendable func retrieve(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let job = try await record(request, context)
            var object = video(job)
            object.stageDurations = StageDurations.of(try await api.store.events(of: job.id))
            return try JSONCoding.encoder.encode(object, from: request, context: context)
        }
    }

    @Sendable func list(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let query = request.uri.queryParameters
            var limit = api.limits.defaultListLimit
            if let text = query["limit"].map(String.init) {
                guard let value = Int(text), (1...api.limits.maxListLimit).contains(value) else {
                    throw TurboServeError(.invalidValue, field: "limit", "limit must be an integer from 1 to \(api.limits.maxListLimit); got '\(JobValidator.quote(text))'")
                }
                limit = value
            }
            let orderText = query["order"].map(String.init) ?? "desc"
            guard let order = ListOrder(rawValue: orderText) else {
                throw TurboServeError(.invalidValue, field: "order", "order must be one of asc, desc; got '\(JobValidator.quote(orderText))'")
            }
            let caller = try caller(request)
            // An empty `after=` is no cursor, as an absent one.
            let after = query["after"].flatMap { $0.isEmpty ? nil : JobID(String($0)) }
            // A cursor naming no video the caller can see is a 404, as for that id on any other route.
            if let after, try await api.store.get(after).map({ caller.sees($0) && $0.deletedAt == nil }) != true {
                throw TurboServeError(.notFound, field: "after", "after must be the id of one of your videos; no video '\(JobValidator.quote(after.rawValue))'")
            }
            let page = try await api.store.list(tenant: caller.listFilter, after: after, limit: limit, order: order)
            let videos = page.jobs.map(video)
            let list = VideoList(data: videos, firstId: videos.first?.id, lastId: videos.last?.id, hasMore: page.hasMore)
            return try JSONCoding.encoder.encode(list, from: request, context: context)
        }
    }

    /// OpenAI / vLLM-Omni semantics, for the owner only (another tenant's video is a 404): an unfinished job is
    /// cancelled first (its engine state is freed at the next step boundary); then its stored files go (video,
    /// thumbnail, uploaded image) and the job is marked deleted, so retrieve, list, content, events and a second
    /// delete answer 404 as for an unknown id.
    @Sendable func delete(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let existing = try await record(request, context)
            if !existing.phase.isTerminal {
                _ = try await api.store.cancel(existing.id)
            }
            _ = try await VideoAPI.storeAnswering(video: existing.id, unknownOutcome: "the job store stopped answering after the delete of video \(existing.id) was sent to it, so it may still take effect; retry the delete, which answers 404 if it did") {
                try await api.store.markDeleted(existing.id)
            }
            await api.removeArtifacts(of: existing)
            return try JSONCoding.encoder.encode(VideoDeleted(id: existing.id.rawValue, deleted: true), from: request, context: context)
        }
    }

    /// The MP4 (or `variant=thumbnail`), with single-range `Range: bytes=a-b` support.
    @Sendable func content(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let job = try await record(request, context)
            let variant = request.uri.queryParameters["variant"].flatMap { $0.isEmpty ? nil : String($0) } ?? "video"
            let reference: String?
            let kind: ArtifactKind
            let contentType: String
            switch variant {
            case "video": (reference, kind, contentType) = (job.videoPath, .video, "video/mp4")
            case "thumbnail": (reference, kind, contentType) = (job.thumbnailPath, .thumbnail, "image/jpeg")
            default: throw TurboServeError(.invalidValue, field: "variant", "variant must be one of video, thumbnail; got '\(JobValidator.quote(variant))'")
            }
            if job.phase == .succeeded, let expiredAt = job.expiredAt {
                throw TurboServeError(.videoExpired, field: "video_id", "the content of video '\(job.id)' expired: retention deleted it at \(expiredAt.formatted(.iso8601))")
            }
            guard job.phase == .succeeded, let reference else {
                throw TurboServeError(.conflict, field: "video_id", "video '\(job.id)' has no content yet: its status is \(job.phase.apiStatus)")
            }
            let content = try await ArtifactContent(reference: reference, kind: kind, job: job.id, in: api.artifacts)
            let size = content.size
            var headers: HTTPFields = [.contentType: contentType, .acceptRanges: "bytes"]
            if let rangeHeader = request.headers[.range] {
                guard let range = ByteRange.parse(rangeHeader, size: size) else {
                    headers[.contentRange] = "bytes */\(size)"
                    return Response(status: .rangeNotSatisfiable, headers: headers)
                }
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
                headers[.contentLength] = String(range.count)
                let body = try await content.body(range: range, from: api.artifacts, context: context)
                return Response(status: .partialContent, headers: headers, body: body)
            }
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: try await content.body(from: api.artifacts, context: context))
        }
    }

    /// Server-Sent Events (`VideoEventStream`): `progress` with the video object at once and after every change,
    /// `done` when the job finishes, keep-alive comments between, the end of the stream on graceful shutdown.
    /// Subscribes before reading the store so no change is missed.
    @Sendable func events(request: Request, context: Context) async throws -> Response {
        try await Self.translatingErrors {
            let id = JobID(try context.parameters.require("id"))
            let updates = api.progress.subscribe(id)
            let first = try await record(request, context)
            let stream = VideoEventStream(heartbeat: api.limits.eventsHeartbeat, progressEvent: serverSentEvent)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody(asyncSequence: stream.events(first: first, updates: updates)))
        }
    }

    @Sendable func serverSentEvent(_ record: JobRecord) -> ByteBuffer {
        let json = (try? JSONCoding.encoder.encode(video(record))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "event: progress\ndata: \(json)\n\n")
    }

    /// The API object of a record, with this server's retention.
    func video(_ record: JobRecord) -> VideoObject { VideoObject(record, retention: api.limits.retention) }

    /// The request's caller (tenant), from its `Authorization` header.
    func caller(_ request: Request) throws(TurboServeError) -> Caller {
        try api.keys.caller(authorization: request.headers[.authorization])
    }

    /// The job named by the `id` path parameter, if the caller may see it; `not_found` otherwise (another
    /// tenant's job answers exactly like a missing one).
    private func record(_ request: Request, _ context: Context) async throws -> JobRecord {
        let id = try context.parameters.require("id")
        let caller = try caller(request)
        guard let record = try await api.store.get(JobID(id)), caller.sees(record), record.deletedAt == nil else {
            throw TurboServeError.noSuchVideo(id)
        }
        return record
    }

    /// The whole body, at most `limit` bytes (413 `payload_too_large` at once when `Content-Length` says more,
    /// or as soon as more arrives) and within `limits.bodyTimeout` (408 `request_timeout`: a client trickling
    /// its body cannot hold the request open).
    private func collect(_ request: Request, upTo limit: Int) async throws -> [UInt8] {
        let tooLarge = TurboServeError(.payloadTooLarge, "the request body must be at most \(limit >> 20) MiB")
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        let timeout = api.limits.bodyTimeout
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                do {
                    var buffer = try await request.body.collect(upTo: limit)
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                } catch is CancellationError {
                    return nil
                } catch {
                    throw tooLarge
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let body = try await group.next() ?? nil else {
                throw TurboServeError(.requestTimeout, "the request body did not arrive within \(Int(timeout.seconds)) s (limits.body_timeout_seconds)")
            }
            return body
        }
    }

    /// Maps domain errors to `APIError`; Hummingbird's own HTTP errors pass through.
    static func translatingErrors(_ body: () async throws -> Response) async throws -> Response {
        do { return try await body() } catch let error as TurboServeError { throw APIError(error) }
    }
}

/// A single `bytes=` range resolved against a size: `a-b`, `a-`, or the suffix `-n`.
enum ByteRange {
    static func parse(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard size > 0, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        let start = Int(spec[0].trimmingCharacters(in: .whitespaces))
        let end = Int(spec[1].trimmingCharacters(in: .whitespaces))
        switch (start, end) {
        case let (s?, e?) where s <= e && s < size: return s...min(e, size - 1)
        case let (s?, nil) where spec[1].isEmpty && s < size: return s...(size - 1)
        case let (nil, n?) where spec[0].isEmpty && n > 0: return max(0, size - n)...(size - 1)
        default: return nil
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
