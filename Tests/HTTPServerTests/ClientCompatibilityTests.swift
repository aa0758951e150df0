import Artifacts
import Foundation
@testable import HTTPServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// Issue 14: the requests clients written for vLLM-Omni and the OpenAI SDK send (urlencoded forms, no `model`, one
/// frame, `num_inference_steps`), strictness for JSON bodies (unknown and conflicting fields, out-of-range
/// `seconds`) with adjustments reported for forms, DELETE that deletes, stage durations, unknown routes.
struct ClientCompatibilityTests {
    let store = InMemoryJobStore()
    let scratch: ScratchFolder
    var uploads: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-compat") }

    func app() -> some ApplicationProtocol {
        let counter = Counter((1...20).map { "video_\($0)" })
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: uploads), makeJobID: { JobID(counter.next()) }, randomSeed: { 42 })
        return Application(router: HTTPApplication.buildRouter(api: api))
    }

    func post(_ client: some TestClientProtocol, _ body: String, type: String = "application/json", uri: String = "/v1/videos",
              _ check: @escaping (TestResponse) throws -> Void) async throws {
        try await client.execute(uri: uri, method: .post, headers: [.contentType: type], body: ByteBuffer(string: body)) { try check($0) }
    }

    @Test func aURLEncodedTextOnlyFormWithoutModelRunsTheDefaultTextModel() async throws {
        try await app().test(.router) { client in
            try await post(client, "prompt=Random+prompt+0%21&width=64&height=64&num_frames=9&num_inference_steps=2&seed=3&fps=16",
                           type: "application/x-www-form-urlencoded") { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let video = try response.jsonObject()
                #expect(video["model"] as? String == "tiny-t2v")
                #expect(video["prompt"] as? String == "Random prompt 0!")
                #expect(video["steps"] as? Int == 2 && video["num_frames"] as? Int == 9 && video["size"] as? String == "64x64")
                #expect(video["adjustments"] == nil)
            }
        }
    }

    @Test func aMultipartRequestWithAnImageAndNoModelRunsTheDefaultImageModel() async throws {
        let form = Multipart(fields: ["prompt": "waves", "num_inference_steps": "2"], file: ("input_reference", "in.png", "image/png", TestImages.tinyPNG))
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: form.contentType], body: form.body) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try response.jsonObject()["model"] as? String == "tiny-i2v")
            }
        }
    }

    @Test func oneFrameIsServed() async throws {
        try await app().test(.router) { client in
            try await post(client, "prompt=still&num_frames=1", type: "application/x-www-form-urlencoded") { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try response.jsonObject()["num_frames"] as? Int == 1)
            }
        }
    }

    @Test func formFieldsTheServerDoesNotKnowAreIgnoredAndReported() async throws {
        try await app().test(.router) { client in
            try await post(client, "prompt=p&guidance_scale=5&negative_prompt=blur", type: "application/x-www-form-urlencoded") { (response: TestResponse) throws in
                #expect(response.status == .ok)
                let adjustments = try #require(try response.jsonObject()["adjustments"] as? [String])
                #expect(adjustments.contains { $0.contains("'guidance_scale'") })
                #expect(adjustments.contains { $0.hasPrefix("negative_prompt") })
            }
        }
    }

    @Test(arguments: [
        (#"{"prompt": "p", "modle": "tiny-i2v"}"#, "modle", "unknown_field", "did you mean 'model'"),
        (#"{"prompt": "p", "seconds": "10"}"#, "seconds", "invalid_value", "at most 2 for tiny-t2v"),
        (#"{"prompt": "p", "size": "64x64", "aspect_ratio": "16:9"}"#, "aspect_ratio", "conflicting_fields", "64x64"),
        (#"{"prompt": "p", "size": "64x64", "width": 112, "height": 64}"#, "width", "conflicting_fields", "112"),
        (#"{"prompt": "p", "num_frames": 9, "seconds": 2}"#, "seconds", "conflicting_fields", "num_frames is 9"),
        (#"{"prompt": "p", "steps": 2, "num_inference_steps": 4}"#, "num_inference_steps", "conflicting_fields", "disagree"),
        (#"{"prompt": "p", "num_inference_steps": 50}"#, "num_inference_steps", "invalid_value", "num_inference_steps must be"),
        (#"{"prompt": "p", "frames": 10}"#, "frames", "invalid_value", "frames must be 4k+1"),
        (#"{"prompt": "p", "input_reference": "/etc/passwd"}"#, "input_reference", "invalid_value", "multipart"),
    ])
    func strictJSONNamesTheFieldTheClientSent(body: String, param: String, code: String, says: String) async throws {
        try await app().test(.router) { client in
            try await post(client, body) { (response: TestResponse) throws in
                #expect(response.status == .badRequest)
                let error = try response.apiError()
                #expect(error["param"] as? String == param)
                #expect(error["code"] as? String == code)
                #expect((error["message"] as? String)?.contains(says) == true, "\(error["message"] ?? "")")
            }
        }
        #expect(try await store.list(tenant: nil, after: nil, limit: 10, order: .newestFirst).jobs.isEmpty)
    }

    @Test func agreeingWaysOfSayingTheSameThingAreAccepted() async throws {
        try await app().test(.router) { client in
            try await post(client, #"{"prompt": "p", "size": "112x64", "aspect_ratio": "16:9", "num_frames": 17, "seconds": 1, "steps": 2, "num_inference_steps": 2}"#) { (response: TestResponse) throws in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func deletingAFinishedVideoRemovesItsFilesAndItAnswers404Everywhere() async throws {
        let video = uploads.appendingPathComponent("out.mp4"), thumbnail = uploads.appendingPathComponent("out.jpg")
        try Data([1, 2, 3]).write(to: video)
        try Data([4]).write(to: thumbnail)
        try await app().test(.router) { client in
            try await post(client, #"{"prompt": "p", "steps": 1}"#) { #expect($0.status == .ok) }
            try await post(client, #"{"prompt": "q", "steps": 1}"#) { #expect($0.status == .ok) }
            _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
            for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
                _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            }
            _ = try await store.complete("video_1", worker: "w", videoPath: video.path, thumbnailPath: thumbnail.path)
            try await client.execute(uri: "/v1/videos/video_1", method: .get) { (response: TestResponse) throws in
                let durations = try #require(try response.jsonObject()["stage_durations"] as? [String: Double])
                #expect(Set(durations.keys) == ["admit", "denoise", "decode", "mux"])
                #expect(try response.jsonObject()["peak_memory_mb"] == nil)
            }
            try await client.execute(uri: "/v1/videos/video_1", method: .delete) { (response: TestResponse) throws in
                #expect(response.status == .ok)
                #expect(try response.jsonObject()["deleted"] as? Bool == true)
            }
            for uri in ["/v1/videos/video_1", "/v1/videos/video_1/content", "/v1/videos/video_1/content?variant=thumbnail", "/v1/videos/video_1/events"] {
                try await client.execute(uri: uri, method: .get) { (response: TestResponse) throws in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(try response.apiError()["code"] as? String == "not_found")
                }
            }
            try await client.execute(uri: "/v1/videos", method: .get) { (response: TestResponse) throws in
                let ids = (try response.jsonObject()["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(ids == ["video_2"])
            }
            try await client.execute(uri: "/v1/videos?after=video_1", method: .get) { #expect($0.status == .notFound) }
        }
        #expect(!FileManager.default.fileExists(atPath: video.path) && !FileManager.default.fileExists(atPath: thumbnail.path))
    }

    @Test func unknownRoutesAnswerInOpenAIsErrorShape() async throws {
        try await app().test(.router) { client in
            for (uri, method) in [("/v1/videos/video_1/remix", HTTPRequest.Method.post), ("/v1/nothing", .get), ("/v2/videos", .post)] {
                try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { (response: TestResponse) throws in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(try response.apiError()["code"] as? String == "not_found", "\(uri)")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                }
            }
        }
    }
}

/// Stage durations come from the stored event log: each interval is charged to the stage its closing event ends.
struct StageDurationsTests {
    @Test func intervalsAreChargedToTheStageTheyEnd() {
        let start = Date(timeIntervalSince1970: 1_000)
        let events = [("", "queued", 0.0), ("queued", "admitted", 2.0), ("admitted", "denoising(1/2)", 3.0),
                      ("denoising(1/2)", "queued", 3.5), ("queued", "admitted", 4.0), ("admitted", "denoising(1/2)", 4.5),
                      ("denoising(1/2)", "denoising(2/2)", 5.5), ("denoising(2/2)", "decoding", 6.25), ("decoding", "muxing", 6.25),
                      ("muxing", "succeeded", 7.0)]
            .map { StoredJobEvent(job: "j", at: start.addingTimeInterval($0.2), from: $0.0, to: $0.1) }
        let durations = StageDurations.of(events)
        #expect(durations == ["admit": 2.5, "denoise": 2.5, "retried": 0.5, "decode": 0.75, "mux": 0.75])
        #expect(StageDurations.of(Array(events.prefix(1))).isEmpty)
    }
}
