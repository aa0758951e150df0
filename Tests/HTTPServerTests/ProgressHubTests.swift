import Artifacts
import Foundation
import HTTPServer
import Hummingbird
import HummingbirdTesting
import JobStore
import Testing
import TurboServeDomain
import TurboServeTestSupport

/// Live progress is read from the store: a signal about a followed job makes the hub read it again, a lost signal
/// is made up for by polling, and the SSE stream follows the job to its end. The tests play the worker (store
/// writes) and the store's signals.
struct ProgressHubTests {
    let store = InMemoryJobStore()
    let signals = LocalJobSignals()
    /// The artifact root of this test alone.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-progress") }

    /// Runs job `id` one transition at a time through `write`, returning after the last.
    static let stages: [JobState] = [.admitted, .denoising(completed: 1, total: 2), .denoising(completed: 2, total: 2), .decoding, .muxing]

    func created(_ id: JobID) async throws {
        _ = try await store.create(NewJob(id: id, spec: try JobValidator().validate(JobSpec(prompt: "p", steps: 2), randomSeed: { 1 })))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
    }

    @Test func eachSignalledChangeReachesTheSubscriberInOrder() async throws {
        try await created("video_1")
        let hub = ProgressHub(store: store, signals: signals, pollInterval: .seconds(3600))
        var updates = hub.subscribe("video_1").makeAsyncIterator()
        #expect(await updates.next()?.phase == .queued) // the record as it was at subscription
        for state in Self.stages {
            _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
            signals.publish(.changed("video_1"))
            #expect(await updates.next()?.state == state)
        }
        _ = try await store.complete("video_1", worker: "w", videoPath: "/v.mp4", thumbnailPath: nil)
        signals.publish(.changed("video_1"))
        #expect(await updates.next()?.phase == .succeeded)
        #expect(await updates.next() == nil) // ends after the terminal record
    }

    @Test func readersOfOneJobShareOneFollowerAndALateReaderStartsFromTheCurrentRecord() async throws {
        try await created("video_1")
        let hub = ProgressHub(store: store, signals: signals, pollInterval: .seconds(3600))
        var first = hub.subscribe("video_1").makeAsyncIterator()
        var second = hub.subscribe("video_1").makeAsyncIterator()
        #expect(await first.next()?.phase == .queued)
        #expect(await second.next()?.phase == .queued)
        #expect(hub.followedJobCount == 1 && hub.subscriberCount == 2)
        _ = try await store.advance("video_1", worker: "w", to: .admitted, reason: nil)
        signals.publish(.changed("video_1"))
        #expect(await first.next()?.phase == .admitted)
        #expect(await second.next()?.phase == .admitted)
        var late = hub.subscribe("video_1").makeAsyncIterator()
        #expect(await late.next()?.phase == .admitted) // unchanged for the others, but new to this reader
        _ = try await store.cancel("video_1")
        signals.publish(.cancelled("video_1"))
        #expect(await first.next()?.phase == .cancelled)
        #expect(await second.next()?.phase == .cancelled)
        #expect(await late.next()?.phase == .cancelled)
        #expect(await first.next() == nil)
        #expect(await second.next() == nil)
        #expect(await late.next() == nil)
        while hub.followedJobCount > 0 { await Task.yield() } // the follower ends with its last reader
    }

    @Test func aLostSignalOnlyDelaysTheUpdate() async throws {
        try await created("video_1")
        let hub = ProgressHub(store: store, signals: signals, pollInterval: .milliseconds(20))
        var updates = hub.subscribe("video_1").makeAsyncIterator()
        #expect(await updates.next()?.phase == .queued)
        _ = try await store.advance("video_1", worker: "w", to: .admitted, reason: nil) // no signal published
        #expect(await updates.next()?.phase == .admitted)
    }

    @Test func signalsAboutOtherJobsWakeNoReader() async throws {
        try await created("video_1")
        let hub = ProgressHub(store: store, signals: signals, pollInterval: .seconds(3600))
        var updates = hub.subscribe("video_1").makeAsyncIterator()
        #expect(await updates.next()?.phase == .queued)
        _ = try await store.advance("video_1", worker: "w", to: .admitted, reason: nil)
        signals.publish(.changed("video_2"))
        signals.publish(.changed("video_1"))
        #expect(await updates.next()?.phase == .admitted)
    }

    @Test func theSSEStreamFollowsTheJobToItsEnd() async throws {
        let hub = ProgressHub(store: store, signals: signals, pollInterval: .seconds(3600))
        let api = VideoAPI(store: store, artifacts: DirectoryArtifactStore(directory: scratch.url), makeJobID: { "video_1" }, progress: hub)
        try await Application(router: HTTPApplication.buildRouter(api: api)).test(.live) { client in
            try await client.execute(uri: "/v1/videos", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"prompt": "p", "steps": 2}"#))
            let worker = Task { [store, signals] in
                while hub.subscriberCount == 0 { await Task.yield() }
                _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
                for state in Self.stages {
                    _ = try await store.advance("video_1", worker: "w", to: state, reason: nil)
                    signals.publish(.changed("video_1"))
                }
                _ = try await store.complete("video_1", worker: "w", videoPath: "/v.mp4", thumbnailPath: nil)
                signals.publish(.changed("video_1"))
            }
            try await client.execute(uri: "/v1/videos/video_1/events", method: .get) { (response: TestResponse) throws in
                #expect(response.headers[.contentType] == "text/event-stream")
                let text = String(buffer: response.body)
                let stages = text.components(separatedBy: "\"stage\":\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
                // Changes between two reads coalesce (newest wins); the order and both ends always hold.
                let order = ["queued", "admitted", "denoising", "decoding", "muxing", "succeeded"]
                #expect(stages.first == "queued" && stages.last == "succeeded")
                #expect(stages.map { order.firstIndex(of: $0) ?? -1 } == stages.map { order.firstIndex(of: $0) ?? -1 }.sorted())
                #expect(text.hasSuffix("event: done\ndata: {\"id\":\"video_1\",\"status\":\"completed\"}\n\n"))
            }
            try await worker.value
        }
    }
}
