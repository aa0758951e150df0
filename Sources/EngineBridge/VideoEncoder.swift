import Foundation
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

    public func encode(framesPath: String, width: Int, height: Int, frames: Int, fps: Int, video: String, thumbnail: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: ffmpeg) else {
            throw TurboServeError(.internalError, "ffmpeg is not installed; install it with: apt-get install ffmpeg")
        }
        let input = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", String(fps), "-i", framesPath]
        // H.264 needs even dimensions for yuv420p; pad by one pixel when odd.
        try await run(["-y", "-loglevel", "error"] + input + [
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart", video,
        ])
        try await run(["-y", "-loglevel", "error"] + input + ["-vf", "select=eq(n\\,\(frames / 2))", "-frames:v", "1", "-q:v", "3", thumbnail])
    }

    private func run(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TurboServeError(.internalError, "ffmpeg failed (\(status)): \(message.suffix(500))")
        }
    }
}
