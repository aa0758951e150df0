import Foundation

/// The engine timeline picture: for each policy, one lane per activity (compute, switching, CPU work on the engine
/// path, idle) over the first `windowSeconds` of simulated time, with the fraction of the window in each. Labelled
/// "simulated".
public enum TimelineFigure {
    static let lanes: [(EngineActivity, String, String)] = [
        (.compute, "busy (GPU compute)", "#2e7d32"),
        (.switching, "switching (weights)", "#ef6c00"),
        (.cpuOnPath, "CPU work on engine path", "#6a1b9a"),
        (.idle, "idle", "#90a4ae"),
    ]

    public static func svg(_ results: [SimulationResult], windowSeconds: Double = 600, title: String) -> String {
        let left = 210.0, right = 30.0, plotWidth = 760.0, laneHeight = 16.0, laneGap = 4.0, blockGap = 26.0, top = 56.0
        let blockHeight = Double(lanes.count) * (laneHeight + laneGap) + 18
        let height = top + Double(results.count) * (blockHeight + blockGap) + 50
        var svg = SVGDocument(width: left + plotWidth + right, height: height)
        svg.text(title + " — simulated", x: 12, y: 24, size: 16, bold: true)
        svg.text("first \(Int(windowSeconds / 60)) minutes of simulated time; colours show what the engine was doing", x: 12, y: 42, size: 11, fill: "#555555")
        let scale = plotWidth / windowSeconds
        for (index, result) in results.enumerated() {
            let y0 = top + Double(index) * (blockHeight + blockGap)
            let shares = fractions(result.timeline, window: windowSeconds)
            svg.text(result.policy, x: 12, y: y0 + 12, size: 13, bold: true)
            for (lane, (activity, label, color)) in lanes.enumerated() {
                let y = y0 + 18 + Double(lane) * (laneHeight + laneGap)
                svg.rect(x: left, y: y, width: plotWidth, height: laneHeight, fill: "#f4f6f7")
                svg.text(String(format: "%@ %.0f%%", label, (shares[activity] ?? 0) * 100), x: left - 8, y: y + 12, size: 10, anchor: .end)
                for interval in intervals(of: activity, in: result.timeline, window: windowSeconds) {
                    svg.rect(x: left + interval.start * scale, y: y, width: max(0.6, (interval.end - interval.start) * scale), height: laneHeight, fill: color)
                }
            }
        }
        let axisY = height - 40
        svg.line(x1: left, y1: axisY, x2: left + plotWidth, y2: axisY, stroke: "#444444")
        let tick = windowSeconds > 1200 ? 300.0 : 60.0
        for t in stride(from: 0.0, through: windowSeconds, by: tick) {
            svg.line(x1: left + t * scale, y1: axisY, x2: left + t * scale, y2: axisY + 5, stroke: "#444444")
            svg.text("\(Int(t)) s", x: left + t * scale, y: axisY + 18, size: 10, anchor: .middle)
        }
        svg.text("simulated time", x: left + plotWidth / 2, y: axisY + 34, size: 11, anchor: .middle, fill: "#555555")
        return svg.render()
    }

    /// The activity's intervals clipped to the window; idle is the complement of the others.
    static func intervals(of activity: EngineActivity, in timeline: [EngineInterval], window: Double) -> [EngineInterval] {
        let clipped = timeline.filter { $0.start < window }.map { EngineInterval(start: $0.start, end: min($0.end, window), activity: $0.activity) }
        guard activity == .idle else { return clipped.filter { $0.activity == activity } }
        var gaps: [EngineInterval] = []
        var cursor = 0.0
        for interval in clipped {
            if interval.start > cursor + 1e-9 { gaps.append(EngineInterval(start: cursor, end: interval.start, activity: .idle)) }
            cursor = max(cursor, interval.end)
        }
        if cursor < window { gaps.append(EngineInterval(start: cursor, end: window, activity: .idle)) }
        return gaps
    }

    static func fractions(_ timeline: [EngineInterval], window: Double) -> [EngineActivity: Double] {
        var result: [EngineActivity: Double] = [:]
        for activity in EngineActivity.allCases {
            result[activity] = intervals(of: activity, in: timeline, window: window).reduce(0) { $0 + $1.end - $1.start } / window
        }
        return result
    }
}
