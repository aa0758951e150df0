import ArgumentParser
import EngineBridge
import Foundation
import JobStore
import SchedulingCore
import TurboServeDomain
import WorkerRuntime

/// `turboserve generate "a prompt" -o out.mp4`: one video, start to finish, on this machine — the same worker,
/// engine and output pipeline as the server, with an in-memory store and a progress line on stderr.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate one video from a prompt (and an image for image-to-video).")

    @Argument(help: "What the video shows.") var prompt: String
    @Option(help: "First frame for image-to-video (PNG, JPEG or WebP).") var image: String?
    @Option(help: "Model id (see `turboserve models`).") var model: String?
    @Option(help: "Denoising steps, 1-4.") var steps: Int?
    @Option(help: "Random seed (default: random, printed).") var seed: Int64?
    @Option(help: "Frames, 4k+1.") var frames: Int?
    @Option(help: "Frame size WIDTHxHEIGHT.") var size: String?
    @Option(help: "sde or ode.") var sampler: String?
    @Option(name: .shortAndLong, help: "Where to write the MP4.") var output = "out.mp4"
    @Option(name: .customLong("data-dir"), help: "Where models and scratch files live.") var dataDirectory = "./var"
    @Option(help: "Engine device: auto, cpu, cuda, cuda:N.") var device = "auto"

    func run() async throws {
        let defaultModel = image == nil ? "tiny-t2v" : "tiny-i2v"
        let spec = JobSpec(prompt: prompt, model: model ?? defaultModel, imagePath: image.map { URL(fileURLWithPath: $0).path }, size: size, frames: frames, steps: steps, seed: seed, sampler: sampler)
        let job: ValidatedJob
        do { job = try JobValidator().validate(spec, randomSeed: { Int64.random(in: JobValidator.seedRange) }) } catch {
            throw ValidationError("\(error.field.map { "--\($0): " } ?? "")\(error.message)")
        }
        let progress = ProgressLine()
        progress.show("starting the engine")
        let locator = try EngineLocator.locate(dataDirectory: dataDirectory)
        try locator.prepare()
        let work = URL(fileURLWithPath: dataDirectory).appendingPathComponent("work").path
        let outputs = URL(fileURLWithPath: dataDirectory).appendingPathComponent("outputs")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let (client, _) = try await locator.start(workDirectory: work, device: device)
        let executor = EnginePlanExecutor(client: client, relaunch: { try await locator.start(workDirectory: work, device: device).0 })

        let store = InMemoryJobStore()
        let id = JobID("gen_\(UInt32.random(in: .min ... .max))")
        _ = try await store.create(NewJob(id: id, spec: job))
        let (outcomes, outcome) = AsyncStream.makeStream(of: JobRecord.self)
        let worker = Worker(
            policy: SerialPolicy(), store: store, engine: executor, encoder: FFmpegVideoEncoding(),
            configuration: .init(workerID: "generate", outputDirectory: outputs),
            onRecorded: { record in
                progress.show(Self.describe(record))
                if record.phase.isTerminal { outcome.yield(record) }
            })
        let running = Task { try await worker.run() }
        var iterator = outcomes.makeAsyncIterator()
        guard let finished = await iterator.next() else { throw ValidationError("the worker stopped before the job finished") }
        await worker.stop()
        try await running.value
        await client.shutdown()
        progress.finish()

        guard finished.phase == .succeeded, let video = finished.videoPath else {
            throw ValidationError("generation failed: \(finished.errorCode ?? "?"): \(finished.errorMessage ?? "no detail")")
        }
        let destination = URL(fileURLWithPath: output)
        try? FileManager.default.removeItem(at: destination)
        try FileManager.default.copyItem(atPath: video, toPath: destination.path)
        let thumbnail = destination.deletingPathExtension().appendingPathExtension("jpg")
        if let source = finished.thumbnailPath {
            try? FileManager.default.removeItem(at: thumbnail)
            try? FileManager.default.copyItem(atPath: source, toPath: thumbnail.path)
        }
        print("wrote \(destination.path) (\(job.width)x\(job.height), \(job.frames) frames, \(job.model), \(job.steps) steps, seed \(job.seed)); thumbnail \(thumbnail.path)")
    }

    static func describe(_ record: JobRecord) -> String {
        switch record.phase {
        case .denoising: "denoising step \(record.stepsCompleted)/\(record.spec.steps)"
        case .admitted: "encoding the prompt\(record.spec.imagePath == nil ? "" : " and image")"
        case .decoding: "decoding frames"
        case .muxing: "encoding the MP4"
        default: record.phase.rawValue
        }
    }
}

/// One updating status line on stderr when it is a terminal; plain lines otherwise (CI logs).
final class ProgressLine: Sendable {
    let interactive = isatty(STDERR_FILENO) != 0
    let started = ContinuousClock.now

    func show(_ text: String) {
        let elapsed = String(format: "%5.1fs", (ContinuousClock.now - started).seconds)
        let line = "[\(elapsed)] \(text)"
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    func finish() { if interactive { FileHandle.standardError.write(Data("\n".utf8)) } }
}
