import ArgumentParser
import Artifacts
import EngineBridge
import Foundation
import HTTPServer
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
    @Option(parsing: .unconditional, help: "Random seed, 0 to 4294967295 (default: random, printed).") var seed: Int64?  // `--seed -1` reaches validation
    @Option(help: "Frames, 4k+1.") var frames: Int?
    @Option(help: "Frame size WIDTHxHEIGHT.") var size: String?
    @Option(help: "sde or ode.") var sampler: String?
    @Option(name: .shortAndLong, help: "Where to write the MP4.") var output = "out.mp4"
    @Option(name: .customLong("data-dir"), help: "Where models and scratch files live (default: var/ in the repository).") var dataDirectory: String?
    @Option(help: "Engine device: auto, cpu, cuda, cuda:N.") var device = "auto"

    func run() async throws {
        try await CLIFailure.reporting { try await generate() }
    }

    /// Checks everything the user gave (the request, the image file, the output folder) before the engine's
    /// seconds of start-up; then runs the job with a progress bar.
    func generate() async throws {
        let imagePath = image.map { CallerPaths.resolve($0) }
        let outputPath = CallerPaths.resolve(output)
        let dataDirectory = self.dataDirectory.map { CallerPaths.resolve($0) } ?? "./var"
        if let imagePath {
            guard let bytes = FileManager.default.contents(atPath: imagePath) else {
                throw CLIFailure(.noInput, "--image: no readable file at \(imagePath)")
            }
            do { _ = try ImageHeader.inspect(Array(bytes), maxPixels: VideoAPI.Limits().maxImagePixels) } catch {
                throw CLIFailure(.dataError, "--image: \(Self.flagged(error.message))")
            }
        }
        let outputFolder = URL(fileURLWithPath: outputPath).deletingLastPathComponent().path
        guard FileManager.default.isWritableFile(atPath: outputFolder) else {
            throw CLIFailure(.cantCreate, "-o/--output: cannot write into \(outputFolder) (missing or not writable)")
        }
        let spec = JobSpec(prompt: prompt, model: model, imagePath: imagePath, size: size, frames: frames, steps: steps, seed: seed, sampler: sampler)
        let job: ValidatedJob
        do { job = try JobValidator().validate(spec, randomSeed: { Int64.random(in: JobValidator.seedRange) }) } catch {
            throw ValidationError("\(error.field.map { "\(Self.flag(for: $0)): " } ?? "")\(Self.flagged(error.message))")
        }
        let progress = ProgressBar(steps: job.steps)
        progress.show(stage: "starting the engine")
        let locator: EngineLocator
        do {
            locator = try EngineLocator.locate(dataDirectory: dataDirectory)
            try locator.prepare()
        } catch {
            throw CLIFailure(.unavailable, "the engine could not be prepared: \(error)")
        }
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
            configuration: .init(workerID: "generate", artifacts: DirectoryArtifactStore(directory: outputs), scratchDirectory: URL(fileURLWithPath: work)),
            onRecorded: { record in
                progress.show(stage: Self.describe(record), step: record.phase == .denoising ? record.stepsCompleted : nil)
                if record.phase.isTerminal { outcome.yield(record) }
            })
        let running = Task { try await worker.run() }
        var iterator = outcomes.makeAsyncIterator()
        guard let finished = await iterator.next() else { throw CLIFailure(.software, "the worker stopped before the job finished") }
        await worker.stop()
        try await running.value
        await client.shutdown()
        progress.finish()

        guard finished.phase == .succeeded, let video = finished.videoPath else {
            throw CLIFailure(.software, "generation failed: \(finished.errorCode ?? "?"): \(finished.errorMessage ?? "no detail")")
        }
        let destination = URL(fileURLWithPath: outputPath)
        try? FileManager.default.removeItem(at: destination)
        do { try FileManager.default.copyItem(atPath: video, toPath: destination.path) } catch {
            throw CLIFailure(.cantCreate, "-o/--output: cannot write \(destination.path)")
        }
        let thumbnail = destination.deletingPathExtension().appendingPathExtension("jpg")
        if let source = finished.thumbnailPath {
            try? FileManager.default.removeItem(at: thumbnail)
            try? FileManager.default.copyItem(atPath: source, toPath: thumbnail.path)
        }
        print("wrote \(destination.path) (\(job.width)x\(job.height), \(job.frames) frames, \(job.model), \(job.steps) steps, seed \(job.seed)); thumbnail \(thumbnail.path)")
    }

    static func describe(_ record: JobRecord) -> String {
        switch record.phase {
        case .denoising: "denoising"
        case .admitted: "encoding the prompt\(record.spec.imagePath == nil ? "" : " and image")"
        case .decoding: "decoding frames"
        case .muxing: "encoding the MP4"
        default: record.phase.rawValue
        }
    }

    /// The command-line name of a request field (`input_reference` is `--image`, `prompt` the argument).
    static func flag(for field: String) -> String {
        switch field {
        case "prompt": "<prompt>"
        case "input_reference": "--image"
        case "num_frames", "frames", "seconds": "--frames"
        case "size", "width", "height", "resolution", "aspect_ratio": "--size"
        case "steps", "num_inference_steps": "--steps"
        default: "--" + field.replacingOccurrences(of: "_", with: "-")
        }
    }

    /// A validator message with the request's field names replaced by the flags that set them.
    static func flagged(_ message: String) -> String {
        ["input_reference", "num_frames"].reduce(message) { text, field in
            text.replacingOccurrences(of: "\\b\(field)\\b", with: flag(for: field), options: .regularExpression)
        }
    }
}
