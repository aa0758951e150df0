import Hummingbird
import JobStore
import ServiceLifecycleTestKit
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import HTTPServer

/// The bytes of `GET /v1/videos/{id}/events` without HTTP around them: keep-alive comments while a job waits, `done`
/// at its end, the end of the stream (and no `done`) on graceful shutdown, and nothing left running once the reader
/// goes. The tests play the worker (store writes and signals); the hub polls only once an hour, so every update is a
/// signal the test sent.
@Suite(.timeLimit(.minutes(1)))
struct VideoEventStreamTests {
    let store = InMemoryJobStore()
    let signals = LocalJobSignals()
    let hub: ProgressHub
    init() async throws {
        hub = ProgressHub(store: store, signals: signals, pollInterval: .seconds(3600))
        _ = try await store.create(NewJob(id: "video_1", spec: try JobValidator().validate(JobSpec(prompt: "p", steps: 1), randomSeed: { 1 })))
    }

    /// Events as text, each progress event naming only the job's phase.
    func stream(heartbeat: Duration) async throws -> AsyncStream<ByteBuffer>.AsyncIterator {
        let updates = hub.subscribe("video_1")
        let first = try #require(try await store.get("video_1"))
        let stream = VideoEventStream(heartbeat: heartbeat) { ByteBuffer(string: "event: progress\ndata: \($0.phase)\n\n") }
        return stream.events(first: first, updates: updates).makeAsyncIterator()
    }

    func write(_ change: (InMemoryJobStore) async throws -> Void) async throws {
        try await change(store)
        signals.publish(.changed("video_1"))
    }

    @Test func aWaitingJobsStreamSendsKeepAliveCommentsThenItsChangesAndDone() async throws {
        var events = try await stream(heartbeat: .milliseconds(10))
        #expect(await events.next().map { String(buffer: $0) } == "event: progress\ndata: queued\n\n")
        #expect(await events.next().map { String(buffer: $0) } == ": keep-alive\n\n", "nothing changed: a comment, not an event")
        try await write { _ = try await $0.claim(worker: "w", limit: 1, lease: .seconds(3600)) }
        for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
            try await write { _ = try await $0.advance("video_1", worker: "w", to: state, reason: nil) }
        }
        try await write { _ = try await $0.complete("video_1", worker: "w", videoPath: "/v.mp4", thumbnailPath: nil) }
        var seen: [String] = []
        while let event = await events.next() { seen.append(String(buffer: event)) }
        let changes = seen.filter { $0 != ": keep-alive\n\n" }
        #expect(changes.last == "event: done\ndata: {\"id\":\"video_1\",\"status\":\"completed\"}\n\n")
        #expect(changes.dropLast().last == "event: progress\ndata: succeeded\n\n")
        #expect(!changes.dropLast().contains { $0.hasPrefix("event: done") })
    }

    @Test func gracefulShutdownEndsTheStreamWithoutDoneAndTheJobKeepsItsPlace() async throws {
        try await testGracefulShutdown { trigger in
            var events = try await stream(heartbeat: .seconds(3600))
            #expect(await events.next().map { String(buffer: $0) } == "event: progress\ndata: queued\n\n")
            trigger.triggerGracefulShutdown()
            #expect(await events.next() == nil, "the stream ends, without a done the job has not reached")
        }
        #expect(try await store.get("video_1")?.phase == .queued)
        #expect(await eventually { hub.subscriberCount == 0 }, "the subscription is dropped with the stream")
    }

    @Test func aReaderThatLeavesStopsTheStreamAndDropsItsSubscription() async throws {
        var events = try await stream(heartbeat: .seconds(3600))
        #expect(await events.next() != nil)
        #expect(hub.subscriberCount == 1)
        let reader = Task { [events] in
            var events = events
            return await events.next()
        }
        reader.cancel() // what the server does with the body when the client's connection is gone
        _ = await reader.value
        #expect(await eventually { hub.subscriberCount == 0 }, "nothing keeps following a job nobody reads")
    }
}
