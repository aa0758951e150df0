import Foundation
import Synchronization

/// `turboserve generate`'s progress on stderr. On a terminal: one line redrawn in place — stage, a bar over the
/// denoising steps, step k/n, elapsed time and an ETA from the measured time per step; otherwise (a pipe, a CI
/// log) one plain line per change, no control characters. Thread-safe: `show` may be called from any task.
final class ProgressBar: Sendable {
    let interactive: Bool
    let steps: Int
    let started = ContinuousClock.now
    private let state = Mutex<(denoiseStarted: ContinuousClock.Instant?, last: String)>((nil, ""))

    init(steps: Int, interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.steps = max(steps, 1)
        self.interactive = interactive
    }

    /// Shows `stage`; `step` is the number of denoising steps completed (nil outside denoising).
    func show(stage: String, step: Int? = nil) {
        let now = ContinuousClock.now
        let elapsed = (now - started).seconds
        let line: String = state.withLock { state in
            if state.denoiseStarted == nil, stage == "denoising" || step != nil { state.denoiseStarted = now }
            let text = Self.render(stage: stage, step: step, steps: steps, elapsed: elapsed,
                                   perStep: step.flatMap { k in k > 0 ? state.denoiseStarted.map { (now - $0).seconds / Double(k) } : nil },
                                   interactive: interactive)
            guard text != state.last else { return "" }
            state.last = text
            return text
        }
        guard !line.isEmpty else { return }
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    func finish() { if interactive { FileHandle.standardError.write(Data("\n".utf8)) } }

    /// One progress line. Pure (tested): `perStep` is the measured seconds per denoising step so far.
    static func render(stage: String, step: Int?, steps: Int, elapsed: Double, perStep: Double?, interactive: Bool) -> String {
        let time = String(format: "%.1fs", elapsed)
        guard let step else { return interactive ? "\(stage)  \(time)" : "[\(time)] \(stage)" }
        let eta = perStep.map { String(format: "ETA %.0fs", ($0 * Double(steps - step)).rounded(.up)) } ?? "ETA –"
        guard interactive else { return "[\(time)] \(stage) step \(step)/\(steps) \(eta)" }
        let width = 24
        let filled = min(width, width * step / max(steps, 1))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return "\(stage) [\(bar)] step \(step)/\(steps)  \(time)  \(eta)"
    }
}
