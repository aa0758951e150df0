@testable import EngineBridge
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TurboServeTestSupport

@Suite(.enabled(if: VideoEncoder.findFFmpeg() != nil, "ffmpeg is not on the PATH (scripts/install-system-deps installs it)"))
struct VideoEncoderTests {
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-encoder") }

    /// Raw rgb24 frames as the engine writes them: `frames` frames of `width`×`height`, each a different grey.
    func rawFrames(width: Int, height: Int, frames: Int) throws -> String {
        let path = scratch.file("frames.rgb").path
        var bytes = [UInt8]()
        for frame in 0..<frames { bytes += [UInt8](repeating: UInt8(20 * frame), count: width * height * 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A worker paused or cut off past its lease may still encode a job that another worker now runs, and in a fleet
    /// both write the one shared output path. Every encode must end with a whole file under the final name and
    /// none may fail because of the other: before, both wrote `<name>.partial`, and the first rename took the
    /// other's half-written file away (`could not move the finished mp4 into place`), failing the live job.
    @Test func concurrentEncodesOfOnePathEachSucceedAndLeaveOneWholeFile() async throws {
        let (width, height, frames) = (32, 16, 9)
        let input = try rawFrames(width: width, height: height, frames: frames)
        let outputs = scratch.file("outputs")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let (video, thumbnail) = (outputs.appendingPathComponent("job.mp4").path, outputs.appendingPathComponent("job.jpg").path)
        let encodes = 6
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<encodes {
                group.addTask {
                    do {
                        try await VideoEncoder().encode(framesPath: input, width: width, height: height, frames: frames, fps: 16, video: video, thumbnail: thumbnail)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { failures, failure in failure.map { failures.append($0) } }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(encodes) encodes failed: \(failures)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputs.path).sorted() == ["job.jpg", "job.mp4"], "a partial file was left behind")
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: video))
        #expect(mp4.count > 100 && mp4[4..<8] == Data("ftyp".utf8), "the MP4 under the final name is not whole")
    }

    /// The worker cancels the encode of a job it lost (taken over after a pause) or a client cancelled. ffmpeg must
    /// stop then and leave nothing behind, not run to the end and put a file under the job's name. Its input is a
    /// FIFO holding one frame and never closed before the cancel, so this encode cannot end by itself.
    @Test func aCancelledEncodeStopsFFmpegAndLeavesNoFile() async throws {
        let (width, height) = (32, 16)
        let fifo = scratch.file("frames.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = open(fifo, O_RDWR | O_CLOEXEC)  // read-write: no wait for a reader; not inherited by ffmpeg
        #expect(writer >= 0)
        defer { close(writer) }
        let frame = [UInt8](repeating: 90, count: width * height * 3)
        #expect(frame.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } == frame.count)
        let outputs = scratch.file("outputs")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        let (video, thumbnail) = (outputs.appendingPathComponent("job.mp4").path, outputs.appendingPathComponent("job.jpg").path)
        let finished = Flag()
        let encode = Task {
            defer { finished.raise() }
            try await VideoEncoder().encode(framesPath: fifo, width: width, height: height, frames: 9, fps: 16, video: video, thumbnail: thumbnail)
        }
        let started = await eventually { ((try? FileManager.default.contentsOfDirectory(atPath: outputs.path)) ?? []).contains { $0.hasPrefix(".job.mp4.partial-") } }
        #expect(started, "ffmpeg never opened its partial file")
        encode.cancel()
        let ended = await eventually { finished.isRaised }
        #expect(ended, "the encode went on after its task was cancelled")
        // An encode that ignored the cancel would wait here for ever: its thumbnail pass reads the FIFO again.
        guard ended else { return }
        let result = await encode.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputs.path) == [], "a cancelled encode left files")
    }
}

/// A flag one task raises and another reads.
private final class Flag: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}
