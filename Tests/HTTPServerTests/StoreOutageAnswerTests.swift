@testable import HTTPServer
import JobStore
import Testing
import TurboServeDomain

/// A write the store could not answer is a 503 `not_ready` that tells the truth about the write: "nothing was
/// stored" only when the store knows it was not sent; otherwise the id to look up (in the message and in
/// `X-Video-Id`) and how to retry without doing it twice. A decided error passes through unchanged.
struct StoreOutageAnswerTests {
    /// What a create answers when its store call fails with `error`, and its `X-Video-Id` header.
    func refusal(_ error: any Error, keyed: Bool = false) async -> (error: TurboServeError, videoID: String?)? {
        do {
            _ = try await VideoAPI.storeAnswering(video: "video_7", unknownOutcome: VideoAPI.createMayHaveApplied("video_7", keyed: keyed)) { () async throws -> Int in throw error }
            return nil
        } catch let answer as APIError {
            return (answer.error, answer.headers[.videoID])
        } catch {
            return (error as? TurboServeError).map { ($0, nil) }
        }
    }

    @Test func aWriteThatNeverLeftSaysNothingWasStored() async throws {
        let (answer, videoID) = try #require(await refusal(JobStoreUnavailable(backend: "postgresql", reason: "no connection", mayHaveApplied: false)))
        #expect(answer.code == .notReady)
        #expect(answer.message.contains("nothing was stored"))
        #expect(videoID == nil, "no video exists, so none is named")
    }

    @Test func aWriteThatWasSentNamesTheVideoAndAsksForAKeyWhenThereWasNone() async throws {
        let (answer, videoID) = try #require(await refusal(JobStoreUnavailable(backend: "postgresql", reason: "no answer within 5 seconds", mayHaveApplied: true)))
        #expect(answer.code == .notReady)
        #expect(videoID == "video_7")
        #expect(!answer.message.contains("nothing was stored"))
        #expect(answer.message.contains("may still be stored"))
        #expect(answer.message.contains("GET /v1/videos/video_7"))
        #expect(answer.message.contains("send an Idempotency-Key"))
    }

    @Test func aKeyedWriteThatWasSentIsToldToRetryUnderTheSameKey() async throws {
        let (answer, _) = try #require(await refusal(JobStoreUnavailable(backend: "postgresql", reason: "connection reset", mayHaveApplied: true), keyed: true))
        #expect(answer.message.contains("video_7"))
        #expect(answer.message.contains("retry with the same Idempotency-Key"))
    }

    @Test func aDecidedErrorPassesThrough() async throws {
        let decided = TurboServeError(.queueFull, "the queue holds 10 jobs, its limit")
        #expect(await refusal(decided)?.error == decided)
    }
}
