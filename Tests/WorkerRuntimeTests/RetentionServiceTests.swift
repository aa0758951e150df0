import Artifacts
import Foundation
import JobStore
import Logging
import Synchronization
import Testing
import TurboServeTestSupport
import TurboServeDomain
@testable import WorkerRuntime

/// Retention on an injected clock: each sweep expires exactly the finished jobs older than the retention, deletes
/// their files (video, thumbnail, upload) and keeps their records. No sleeps: the test advances the clock and waits
/// until the service is asleep again.
struct RetentionServiceTests {
    let scratch: ScratchFolder
    var directory: URL { scratch.url }
    let wall = WallTime()
    init() throws { scratch = try ScratchFolder("turboserve-retention") }

    func file(_ name: String) throws -> String {
        let path = scratch.file(name).path
        try Data(name.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func pass(_ seconds: TimeInterval) { wall.advance(seconds) }

    /// Creates, runs and finishes a job at the current wall time: succeeded with a video and thumbnail, or failed.
    func finish(_ id: JobID, in store: any JobStore, succeeded: Bool, imagePath: String? = nil) async throws {
        let spec = try JobValidator().validate(
            JobSpec(prompt: "p", model: imagePath == nil ? "tiny-t2v" : "tiny-i2v", imagePath: imagePath, steps: 1, seed: 1), randomSeed: { 0 })
        _ = try await store.create(NewJob(id: id, spec: spec))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
        _ = try await store.advance(id, worker: "w", to: .admitted, reason: nil)
        guard succeeded else {
            _ = try await store.fail(id, worker: "w", code: "engine_error", message: "boom")
            return
        }
        for state: JobState in [.denoising(completed: 1, total: 1), .decoding, .muxing] {
            _ = try await store.advance(id, worker: "w", to: state, reason: nil)
        }
        _ = try await store.complete(id, worker: "w", videoPath: try file("\(id).mp4"), thumbnailPath: try file("\(id).jpg"))
    }

    @Test func sweepsExpireOnlyFinishedJobsPastTheRetention() async throws {
        let store = InMemoryJobStore(now: { [wall] in wall.now })
        try await finish("old", in: store, succeeded: true)
        pass(50 * 60)
        let upload = try file("failed.png")
        try await finish("failed", in: store, succeeded: false, imagePath: upload)
        _ = try await store.create(NewJob(id: "waiting", spec: try JobValidator().validate(JobSpec(prompt: "p"), randomSeed: { 0 })))
        let old = try #require(try await store.get("old"))

        let clock = ManualClock()
        let metrics = ServiceMetrics()
        let service = RetentionService(
            store: store, artifacts: DirectoryArtifactStore(directory: directory), retention: .seconds(3600), interval: .seconds(600), clock: clock,
            now: { [wall] in wall.now }, logger: Logger(label: "test"), metrics: metrics)
        let running = Task { try await service.run() }

        await clock.sleepStarted(count: 1) // the sweep at start: nothing is an hour old yet
        #expect(try await store.get("old")?.expiredAt == nil)

        pass(20 * 60) // "old" finished 70 minutes ago, "failed" 20
        clock.advance(by: .seconds(600))
        await clock.sleepStarted(count: 2)
        let expired = try #require(try await store.get("old"))
        #expect(expired.expiredAt == wall.now)
        #expect(expired.phase == .succeeded && expired.videoPath == nil && expired.thumbnailPath == nil)
        #expect(!FileManager.default.fileExists(atPath: old.videoPath!) && !FileManager.default.fileExists(atPath: old.thumbnailPath!))
        #expect(try await store.get("failed")?.expiredAt == nil && FileManager.default.fileExists(atPath: upload))

        pass(60 * 60)
        clock.advance(by: .seconds(600))
        await clock.sleepStarted(count: 3)
        #expect(try await store.get("failed")?.expiredAt != nil)
        #expect(!FileManager.default.fileExists(atPath: upload))
        let waiting = try await store.get("waiting")
        #expect(waiting?.phase == .queued && waiting?.expiredAt == nil)
        #expect(try await store.expirable(finishedBefore: .distantFuture, limit: 10).isEmpty)
        #expect(metrics.exposition().contains("turboserve_videos_expired_total 2"))

        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
    }

    @Test func aSweepWorksThroughMoreThanOneBatch() async throws {
        let store = InMemoryJobStore(now: { [wall] in wall.now })
        for i in 0..<5 { try await finish(JobID("v\(i)"), in: store, succeeded: true) }
        pass(2 * 3600)
        let service = RetentionService(
            store: store, artifacts: DirectoryArtifactStore(directory: directory), retention: .seconds(3600), interval: .seconds(600), clock: ManualClock(),
            now: { [wall] in wall.now }, logger: Logger(label: "test"), batchSize: 2)
        #expect(try await service.sweep() == ["v0", "v1", "v2", "v3", "v4"])
        #expect(try await service.sweep().isEmpty)
    }

    /// The sweep deletes through the artifact store: with the in-memory twin, no file is involved at all.
    @Test func aSweepDeletesEveryArtifactThroughTheStore() async throws {
        let store = InMemoryJobStore(now: { [wall] in wall.now })
        let artifacts = InMemoryArtifactStore()
        let upload = try #require(ArtifactKey(.upload, name: "v0", fileExtension: "png"))
        let (video, thumbnail) = (try #require(ArtifactKey.video(of: "v0")), try #require(ArtifactKey.thumbnail(of: "v0")))
        for key in [upload, video, thumbnail] { try await artifacts.put(Data("x".utf8), at: key) }
        let spec = try JobValidator().validate(JobSpec(prompt: "p", model: "tiny-i2v", imagePath: artifacts.reference(for: upload), steps: 1, seed: 1), randomSeed: { 0 })
        _ = try await store.create(NewJob(id: "v0", spec: spec))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(3600))
        for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
            _ = try await store.advance("v0", worker: "w", to: state, reason: nil)
        }
        _ = try await store.complete("v0", worker: "w", videoPath: artifacts.reference(for: video), thumbnailPath: artifacts.reference(for: thumbnail))
        pass(2 * 3600)
        let service = RetentionService(
            store: store, artifacts: artifacts, retention: .seconds(3600), interval: .seconds(600), clock: ManualClock(),
            now: { [wall] in wall.now }, logger: Logger(label: "test"))
        #expect(try await service.sweep() == ["v0"])
        #expect(artifacts.keys.isEmpty)
    }
}

/// Wall time under the test's control.
final class WallTime: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}
