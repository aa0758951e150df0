import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import TurboServeDomain

/// Raw rgb24 frames → H.264 MP4 (yuv420p, `+faststart`, plays in browsers) and a JPEG thumbnail of the middle
/// frame, with ffmpeg in a child process. Runs on its own task, never on the engine's path. Stateless and
/// thread-safe: each call spawns its own processes.
public struct VideoEncoder: Sendable {
    public let ffmpeg: String

    public init(ffmpeg: String? = nil) {
        self.ffmpeg = ffmpeg ?? VideoEncoder.findFFmpeg() ?? "ffmpeg"
    }

    static func findFFmpeg() -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/ffmpeg" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Writes `video` and `thumbnail`, each to a temporary name first and renamed only once ffmpeg succeeded, so
    /// a file under the final name is always whole (a full disk or a killed encoder leaves no truncated MP4).
    /// Throws `encoder_unavailable` (no ffmpeg), `disk_full` (no space left) or `encoding_failed`; cancelling the
    /// calling task stops ffmpeg (SIGKILL), removes the partial file and throws `CancellationError` (the worker
    /// cancels the encode of a job it lost or a client cancelled).
    public func encode(framesPath: String, width: Int, height: Int, frames: Int, fps: Int, video: String, thumbnail: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: ffmpeg) else {
            throw TurboServeError(.encoderUnavailable, "ffmpeg is not installed or not on the server's PATH; install it with: apt-get install ffmpeg")
        }
        let input = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", String(fps), "-i", framesPath]
        // H.264 needs even dimensions for yuv420p; pad by one pixel when odd.
        try await produce(video, format: "mp4") { partial in
            ["-y", "-loglevel", "error"] + input + [
                "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", partial,
            ]
        }
        try await produce(thumbnail, format: "mjpeg") { partial in
            ["-y", "-loglevel", "error"] + input + ["-vf", "select=eq(n\\,\(frames / 2))", "-frames:v", "1", "-q:v", "3", "-f", "mjpeg", partial]
        }
    }

    /// Runs ffmpeg into a hidden partial file of its own beside `path` (`.<name>.partial-<uuid>`), then renames it
    /// to `path`; the partial file never outlives a failure. Two encodes of one path at once (a stale run of a job
    /// taken over by another worker, writing the shared outputs) each rename a whole file, the last one wins; with
    /// one shared partial name, one renamed the other's half-written file away and failed its job.
    private func produce(_ path: String, format: String, arguments: (String) -> [String]) async throws {
        let target = URL(fileURLWithPath: path)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)").path
        do {
            try await run(arguments(partial))
            guard rename(partial, path) == 0 else {
                throw TurboServeError(.encodingFailed, "could not move the finished \(format) into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            if error is TurboServeError || error is CancellationError { throw error }
            throw TurboServeError(.encodingFailed, "could not store the \(format) output: \(error.localizedDescription)")
        }
    }

    /// ffmpeg's message with absolute paths (the server's files) replaced by their last component.
    static func withoutPaths(_ message: String) -> String {
        message.split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.hasPrefix("/") ? Substring((word as NSString).lastPathComponent) : word
        }.joined(separator: " ")
    }

    private func run(_ arguments: [String]) async throws {
        let child = FFmpegChild(executable: ffmpeg, arguments: arguments)
        let status = try await withTaskCancellationHandler {
            try await child.run()
        } onCancel: {
            child.stop()
        }
        try Task.checkCancellation()
        guard status == 0 else {
            let message = String(decoding: child.errors.readDataToEndOfFile(), as: UTF8.self)
            if message.contains("No space left on device") {
                throw TurboServeError(.diskFull, "the server's disk is full; the video could not be written (free space, then create the job again)")
            }
            throw TurboServeError(.encodingFailed, "ffmpeg failed with status \(status): \(Self.withoutPaths(String(message.suffix(500))))")
        }
    }
}

/// One ffmpeg process that a cancelled task stops: `stop()` before the launch keeps it from starting, after it kills
/// it (SIGKILL: its output is discarded anyway, and ffmpeg blocked reading its input would not act on SIGTERM
/// until it read again). Thread-safe: the launch and the stop take one lock, so a stop never meets a half-launched process.
private final class FFmpegChild: Sendable {
    private enum Phase { case notStarted, running, stopped }
    private let state: Mutex<(process: Process, phase: Phase)>
    /// ffmpeg's standard error, read once it has exited.
    let errors: FileHandle

    init(executable: String, arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        errors = pipe.fileHandleForReading
        state = Mutex((process, .notStarted))
    }

    /// Launches ffmpeg and returns its exit status; throws `CancellationError` when stopped before the launch.
    func run() async throws -> Int32 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            state.withLock { state in
                guard state.phase == .notStarted else { return continuation.resume(throwing: CancellationError()) }
                state.process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try state.process.run()
                    state.phase = .running
                } catch {
                    state.process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    func stop() {
        state.withLock { state in
            if state.phase == .running, state.process.isRunning { kill(state.process.processIdentifier, SIGKILL) }
            state.phase = .stopped
        }
    }
}
