import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Synchronization
import Testing
import TurboServeDomain
import TurboServeTestSupport
@testable import WorkerRuntime

/// The worker against a backend without local files (the in-memory twin, as an object store would be): the
/// engine gets a staged local copy of the upload, the encoder's outputs are put into the store, and no staged or
/// scratch file is left behind.
struct WorkerArtifactsTests {
    let scratch: ScratchFolder
    var directory: URL { scratch.url }
    init() throws { scratch = try ScratchFolder("turboserve-worker-artifacts") }

    /// Records, at each admit, the bytes of the file each job's spec names as its image.
    final class ImageReadingEngine: PlanExecuting {
        let inner: ScriptedEngine
        let imagesSeen = Mutex<[Data?]>([])
        init(directory: URL) { inner = ScriptedEngine(directory: directory) }

        func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
            if case let .admit(ids, _) = action {
                let images = ids.map { jobs[$0]?.imagePath.flatMap { FileManager.default.contents(atPath: $0) } }
                imagesSeen.withLock { $0 += images }
            }
            return await inner.execute(action, jobs: jobs)
        }
    }

    @Test func anI2VJobReadsAStagedUploadAndItsOutputsLandInTheStore() async throws {
        let frames = directory.appendingPathComponent("frames"), scratch = directory.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let artifacts = InMemoryArtifactStore()
        let upload = try #require(ArtifactKey(.upload, name: "v0", fileExtension: "png"))
        let image = Data("the first frame".utf8)
        try await artifacts.put(image, at: upload)
        let spec = try JobValidator().validate(JobSpec(prompt: "waves", model: "tiny-i2v", imagePath: artifacts.reference(for: upload), steps: 1, seed: 1), randomSeed: { 0 })
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "v0", spec: spec))
        let engine = ImageReadingEngine(directory: frames)
        let worker = Worker(
            policy: SerialPolicy(), store: store, engine: engine, encoder: FileWritingEncoder(),
            configuration: .init(workerID: "node-1", artifacts: artifacts, scratchDirectory: scratch))
        try await runUntilEnded(worker, store: store, jobs: 1)

        let record = try #require(try await store.get("v0"))
        #expect(record.phase == .succeeded)
        #expect(engine.imagesSeen.withLock { $0 } == [image])
        let video = try #require(ArtifactKey.video(of: "v0")), thumbnail = try #require(ArtifactKey.thumbnail(of: "v0"))
        #expect(record.videoPath == artifacts.reference(for: video) && record.thumbnailPath == artifacts.reference(for: thumbnail))
        #expect(try await artifacts.data(of: video) == Data("mp4".utf8))
        #expect(try await artifacts.data(of: thumbnail) == Data("jpg".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }
}
