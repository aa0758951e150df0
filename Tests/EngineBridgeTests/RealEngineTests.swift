import EngineBridge
import Foundation
import SchedulingCore
import Testing
import TurboServeDomain
import WorkerRuntime

/// The Swift side against the real Python engine with the tiny models (skipped when the engine venv is absent).
@Suite(.enabled(if: RealEngine.available, "set TURBOSERVE_ENGINE_PYTHON (scripts/test does) to run the real-engine tests"), .serialized)
struct RealEngineTests {
    let locator = RealEngine.locator!

    func ffprobe(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        process.arguments = ["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames,pix_fmt", "-of", "csv=p=0", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs one job through the executor and encoder: the worker's exact path, without the worker.
    func render(_ spec: ValidatedJob, id: JobID, executor: EnginePlanExecutor, work: String) async throws -> String {
        let jobs = [id: spec]
        for key in Set(spec.expertPlan.map { ModelKey(model: spec.model, expert: $0) }).sorted() {
            #expect(await executor.execute(.load(key), jobs: jobs).outcome.isCompleted)
        }
        #expect(await executor.execute(.admit(jobs: [id], model: spec.model), jobs: jobs).outcome.isCompleted)
        for (index, expert) in spec.expertPlan.enumerated() {
            let step = JobStep(job: id, index: index, total: spec.steps)
            #expect(await executor.execute(.step(expert: ModelKey(model: spec.model, expert: expert), steps: [step]), jobs: jobs).outcome.isCompleted)
        }
        let decoded = await executor.execute(.decode(jobs: [id]), jobs: jobs)
        let frames = try #require(decoded.frames[id])
        let video = "\(work)/\(id.rawValue).mp4"
        try await VideoEncoder().encode(framesPath: frames.path, width: frames.width, height: frames.height, frames: frames.frames, fps: frames.fps, video: video, thumbnail: "\(work)/\(id.rawValue).jpg")
        #expect(FileManager.default.fileExists(atPath: "\(work)/\(id.rawValue).jpg"))
        return video
    }

    @Test func t2vAndI2VBecomePlayableMP4s() async throws {
        let work = RealEngine.scratch()
        let (client, hello) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        #expect(hello.models.map(\.id).contains("tiny-t2v") && hello.models.map(\.id).contains("tiny-i2v"))
        let executor = EnginePlanExecutor(client: client, relaunch: { throw EngineError(code: "no", message: "no relaunch here") })
        let validator = JobValidator()
        let t2v = try validator.validate(JobSpec(prompt: "a red fox", model: "tiny-t2v", size: "112x64", frames: 17, steps: 2, seed: 3), randomSeed: { 0 })
        #expect(try ffprobe(try await render(t2v, id: "t2v", executor: executor, work: work)) == "h264,112,64,yuv420p,17")
        let image = "\(work)/in.ppm"
        try Data("P6\n32 16\n255\n".utf8 + [UInt8](repeating: 200, count: 32 * 16 * 3)).write(to: URL(fileURLWithPath: image))
        let i2v = try validator.validate(JobSpec(prompt: "waves", model: "tiny-i2v", imagePath: image, frames: 9, steps: 4, seed: 4), randomSeed: { 0 })
        #expect(try ffprobe(try await render(i2v, id: "i2v", executor: executor, work: work)) == "h264,64,64,yuv420p,9")
        await client.shutdown()
    }

    @Test func aKilledEngineIsReportedWithItsStderrAndRestarted() async throws {
        let work = RealEngine.scratch()
        let locator = self.locator
        let (client, _) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        let executor = EnginePlanExecutor(client: client, relaunch: { try await locator.start(workDirectory: work, device: "cpu", threads: 1).0 })
        let key = ModelKey(model: "tiny-t2v")
        #expect(await executor.execute(.load(key), jobs: [:]).outcome.isCompleted)
        client.kill()
        let failed = await executor.execute(.load(key), jobs: [:])
        guard case let .failed(code, message, retryable, _) = failed.outcome else {
            Issue.record("a plan on a killed engine must fail")
            return
        }
        #expect(code == .engineCrashed && retryable)
        #expect(message.contains("engine stderr"))
        // The next plan runs on a fresh engine process.
        #expect(await executor.execute(.load(key), jobs: [:]).outcome.isCompleted)
        #expect(await executor.restarts == 1)
        let unknown = await executor.execute(.release(jobs: []), jobs: [:])
        #expect(unknown.outcome.isCompleted)
    }

    @Test func unknownJobsGetCodedErrors() async throws {
        let work = RealEngine.scratch()
        let (client, _) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        do {
            _ = try await client.decode(["ghost"])
            Issue.record("decoding an unknown job must fail")
        } catch let error as EngineError {
            #expect(error.code == "unknown_job" && error.jobs == ["ghost"])
        }
        await client.shutdown()
    }
}

extension PlanOutcome {
    var isCompleted: Bool { if case .completed = self { true } else { false } }
}
