import Foundation
import SchedulingCore
import Synchronization
import TurboServeDomain
import WorkerRuntime

/// Plays the engine: every plan succeeds; `decode` writes a small frames file. Records the plans it ran.
final class ScriptedEngine: PlanExecuting {
    let directory: URL
    let log = Mutex<[PlanAction]>([])
    init(directory: URL) { self.directory = directory }

    func execute(_ action: PlanAction, jobs: [JobID: ValidatedJob]) async -> ExecutedPlan {
        log.withLock { $0.append(action) }
        guard case let .decode(ids) = action else { return ExecutedPlan(outcome: .completed(engineTime: .milliseconds(1), freeMemoryBytes: nil)) }
        var frames: [JobID: FramesFile] = [:]
        for id in ids {
            let path = directory.appendingPathComponent("\(id.rawValue).rgb").path
            FileManager.default.createFile(atPath: path, contents: Data(count: 12))
            frames[id] = FramesFile(path: path, width: 2, height: 2, frames: 1, fps: 16)
        }
        return ExecutedPlan(outcome: .completed(engineTime: .milliseconds(1), freeMemoryBytes: nil), frames: frames)
    }

    var actions: [PlanAction] { log.withLock { $0 } }
}

/// Writes placeholder files where the MP4 and thumbnail go.
struct FileWritingEncoder: VideoEncoding {
    func encode(_ frames: FramesFile, video: String, thumbnail: String) async throws {
        FileManager.default.createFile(atPath: video, contents: Data("mp4".utf8))
        FileManager.default.createFile(atPath: thumbnail, contents: Data("jpg".utf8))
    }
}
