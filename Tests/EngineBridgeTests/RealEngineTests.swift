import EngineBridge
import Foundation
import SchedulingCore
import Testing
import TurboServeTestSupport
import TurboServeDomain
import WorkerRuntime

/// The Swift side against the real Python engine with the tiny models (skipped when the engine venv is absent).
@Suite(.enabled(if: RealEngine.available, "set TURBOSERVE_ENGINE_PYTHON (scripts/test does) to run the real-engine tests"), .serialized)
struct RealEngineTests {
    let locator = RealEngine.locator!
    /// The engine's work folder for this test (the models stay in `RealEngine.shared`).
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-work") }

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
        let work = scratch.path
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

    /// TurboServe's core planning the real tiny engine from the calibrated prior: after 50 plans its step estimate
    /// is within 20% of what the step plans took by the test's own clock (the median of the last 15, measured around
    /// each call, not the engine's report the core learns from), whatever the prior said about this CPU.
    @Test func theCoresStepEstimateConvergesOnTheTinyEngineWithin50Plans() async throws {
        let work = scratch.path
        let (client, _) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        let executor = EnginePlanExecutor(client: client, relaunch: { throw EngineError(code: "no", message: "no relaunch here") })
        var configuration = TurboSchedulerConfiguration()
        configuration.maxBatchSize = 1
        configuration.sharedBytes = 0
        var core = TurboScheduler(clock: ContinuousClock(), cost: CostProfile.serving, memory: CostProfile.serving, configuration: configuration)
        let validator = JobValidator()
        var group: StepGroup?
        for index in 0..<16 {
            let spec = try validator.validate(JobSpec(prompt: "a fox \(index)", model: "tiny-t2v", size: "112x64", frames: 17, steps: 4, seed: Int64(index)), randomSeed: { 0 })
            group = StepGroup(expert: ModelKey(model: spec.model, expert: .main), shape: spec.shapeKey)
            _ = try core.submit(SchedulerJob(id: JobID("j\(index)"), spec: spec, arrival: ContinuousClock.now))
        }
        let stepGroup = try #require(group)
        let prior = core.estimatedStepTime(stepGroup, batchSize: 1).seconds
        var plans = 0
        var stepWallTimes: [Double] = []
        while plans < 50, let plan = core.nextPlan() {
            var jobs: [JobID: ValidatedJob] = [:]
            for id in plan.action.jobs { jobs[id] = core.spec(of: id) }
            let started = ContinuousClock.now
            let executed = await executor.execute(plan.action, jobs: jobs)
            if case .step = plan.action, executed.outcome.isCompleted { stepWallTimes.append((ContinuousClock.now - started).seconds) }
            plans += 1
            for event in core.planFinished(plan.id, outcome: executed.outcome) where event.to == .muxing {
                _ = core.outputFinished(event.job, error: nil)
            }
        }
        await client.shutdown()
        try #require(plans == 50 && stepWallTimes.count >= 15, "\(plans) plans, \(stepWallTimes.count) steps")
        let estimate = core.estimatedStepTime(stepGroup, batchSize: 1).seconds
        let recent = stepWallTimes.suffix(15).sorted()
        let measured = recent[recent.count / 2]
        print("[learned] prior \(prior * 1000) ms, estimate after 50 plans \(estimate * 1000) ms, last 15 steps' median wall time \(measured * 1000) ms")
        #expect(abs(estimate / measured - 1) <= 0.2, "estimate \(estimate) s vs measured \(measured) s (prior \(prior) s)")
    }

    @Test func aKilledEngineIsReportedWithItsStderrAndRestarted() async throws {
        let work = scratch.path
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
        let work = scratch.path
        let (client, _) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        do {
            _ = try await client.decode(["ghost"])
            Issue.record("decoding an unknown job must fail")
        } catch let error as EngineError {
            #expect(error.code == "unknown_job" && error.jobs == ["ghost"])
        }
        await client.shutdown()
    }

    /// A hung engine (SIGSTOPped in the middle of a slowed step) fails the call within its deadline with
    /// `engine_timeout`, the process is killed, and the worker's executor starts a fresh engine for the next plan.
    @Test func aStoppedEngineMidStepIsKilledAtTheCallDeadline() async throws {
        let work = scratch.path
        let locator = self.locator
        let slowed = ["TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS": "120000", "TURBOSERVE_ENGINE_TEST_DELAY_VERBS": "step"]
        let deadline = Duration.seconds(6)
        let (client, hello) = try await locator.start(workDirectory: work, device: "cpu", threads: 1, callTimeout: deadline, environment: slowed)
        #expect(hello.testFaults?.callDelayMs == 120_000 && hello.testFaults?.delayVerbs == ["step"] && hello.testFaults?.maxBatch == nil)
        _ = try await client.load(model: "tiny-t2v", expert: "main")
        _ = try await client.admit([Self.job("slow")])
        let started = ContinuousClock.now
        let step = Task { try await client.step(model: "tiny-t2v", expert: "main", jobs: [.init(jobId: "slow", index: 0)]) }
        // The engine says on stderr when it is inside the slowed step; stop it there.
        #expect(await eventually(within: deadline) { client.stderrTail.contains("TEST-ONLY delay: step for 120000 ms") })
        #expect(kill(client.pid, SIGSTOP) == 0)
        switch await step.result {
        case .success:
            Issue.record("a stopped engine cannot answer")
        case let .failure(error):
            let engineError = try #require(error as? EngineError)
            #expect(engineError.code == "engine_timeout" && engineError.retryable && engineError.domainCode == .engineCrashed)
        }
        #expect(ContinuousClock.now - started < deadline + .seconds(3))
        #expect(await eventually(within: .seconds(5)) { !client.isRunning })
        #expect(await client.hasExited)
        // The worker's executor sees an exited engine and starts a fresh one.
        let executor = EnginePlanExecutor(client: client, relaunch: { try await locator.start(workDirectory: work, device: "cpu", threads: 1).0 })
        #expect(await executor.execute(.load(ModelKey(model: "tiny-t2v")), jobs: [:]).outcome.isCompleted)
        #expect(await executor.restarts == 1)
    }

    @Test func anInvalidImageIsNamedWithItsProblemAndTheValidJobAdmitsNext() async throws {
        let work = scratch.path
        let (client, _) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        let good = "\(work)/good.ppm", bomb = "\(work)/bomb.ppm"
        try Data("P6\n32 16\n255\n".utf8 + [UInt8](repeating: 90, count: 32 * 16 * 3)).write(to: URL(fileURLWithPath: good))
        try Data("P6\n30000 30000\n255\n".utf8 + [UInt8](repeating: 0, count: 64)).write(to: URL(fileURLWithPath: bomb))
        do {
            _ = try await client.admit([Self.job("good", model: "tiny-i2v", image: good), Self.job("bomb", model: "tiny-i2v", image: bomb)])
            Issue.record("a decompression bomb must be refused")
        } catch let error as EngineError {
            #expect(error.code == "invalid_image" && error.jobs == ["bomb"] && !error.retryable && error.domainCode == .invalidValue)
            #expect(error.problems?.keys.sorted() == ["bomb"] && !error.message.contains(work))
        }
        #expect(try await client.stats().result.jobs.isEmpty)
        #expect(try await client.admit([Self.job("good", model: "tiny-i2v", image: good)]).result.jobs.map(\.jobId) == ["good"])
        await client.shutdown()
    }

    @Test func gpuTelemetryIsAbsentOnTheCPUAndReadFromTheFakeNVML() async throws {
        let (cpu, cpuHello) = try await locator.start(workDirectory: scratch.path, device: "cpu", threads: 1)
        let none = try #require(cpuHello.gpuTelemetry)
        #expect(!none.available && none.devices == nil && none.reason?.contains("no CUDA device") == true)
        await cpu.shutdown()
        let nvmlWork = try ScratchFolder("turboserve-work")
        defer { nvmlWork.remove() }
        let (client, hello) = try await locator.start(workDirectory: nvmlWork.path, device: "cpu", threads: 1, environment: ["TURBOSERVE_ENGINE_FAKE_NVML": "1"])
        #expect(hello.gpuTelemetry?.devices?.count == 1)
        let telemetry = try #require(try await client.stats().result.gpuTelemetry)
        #expect(telemetry.available && telemetry.source == "fake")
        let device = try #require(telemetry.devices?.first)
        #expect(device.device == "cuda:0" && device.utilizationRatio == 0.42 && device.powerWatts == 215)
        #expect(device.memoryUsedBytes == 8 << 30 && device.memoryTotalBytes == 32 << 30 && device.temperatureCelsius == 61)
        // The fake's energy counter starts at 1,234,567 J and grows at its 215 W draw: a counter only grows.
        let atHello = try #require(hello.gpuTelemetry?.devices?.first?.energyJoules)
        let atStats = try #require(device.energyJoules)
        #expect(atHello >= 1_234_567 && atStats >= atHello)
        await client.shutdown()
    }

    static func job(_ id: String, model: String = "tiny-t2v", image: String? = nil) -> EngineMessages.AdmitJob {
        EngineMessages.AdmitJob(jobId: id, model: model, prompt: "a red fox", imagePath: image, width: 64, height: 64, frames: 5, fps: 16, steps: 2, seed: 1, sampler: "sde", sigmaMax: 80, boundary: 0.9, adaptiveResolution: false, attention: "original", quantLinear: false)
    }
}

extension PlanOutcome {
    var isCompleted: Bool { if case .completed = self { true } else { false } }
}
