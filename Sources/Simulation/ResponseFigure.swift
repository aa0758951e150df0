import Foundation

/// The tail of each policy's responses: for every response time x, the share of the policy's answered requests that
/// took longer than x, on a log scale so the slowest few percent (the P95 and P99) are readable, with the response
/// floor (each job alone on an idle engine, `LatencyFloor`) dashed: how far any order could have moved the curves.
/// Labelled "simulated".
public enum ResponseFigure {
    public static func svg(_ results: [SimulationResult], floor: LatencyFloor?, title: String) -> String {
        let left = 80.0, top = 60.0, plotWidth = 640.0, plotHeight = 360.0, legendWidth = 290.0
        var svg = SVGDocument(width: left + plotWidth + legendWidth, height: top + plotHeight + 70)
        svg.text(title + " — simulated", x: 12, y: 24, size: 16, bold: true)
        svg.text("share of answered requests slower than x (log scale); dashed: the floor, each job alone on an idle engine",
                 x: 12, y: 42, size: 11, fill: "#555555")
        let responses = results.map { $0.jobs.compactMap(\.response).sorted() }
        let most = responses.map(\.count).max() ?? 0
        let floorRun = results.indices.first { results[$0].policy == "turboserve" } ?? results.indices.first
        let floors = floorRun.flatMap { index in floor.map { floor in results[index].jobs.filter { $0.response != nil }.compactMap(floor.seconds(of:)).sorted() } } ?? []
        let longest = max(1, (responses.compactMap(\.last) + floors).max() ?? 1)
        let step = niceStep(longest / 6)
        let maxX = (longest / step).rounded(.up) * step
        let lowest = min(0.01, 0.5 / Double(max(1, most)))
        func x(_ seconds: Double) -> Double { left + seconds / maxX * plotWidth }
        func y(_ share: Double) -> Double { top + log10(1 / max(share, lowest)) / log10(1 / lowest) * plotHeight }
        svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fafafa", stroke: "#999999")
        for (share, label) in [(1.0, "100%"), (0.5, "50%"), (0.1, "10%"), (0.05, "5% (P95)"), (0.01, "1% (P99)")] where share >= lowest {
            svg.line(x1: left, y1: y(share), x2: left + plotWidth, y2: y(share), stroke: share == 0.05 || share == 0.01 ? "#bdbdbd" : "#e0e0e0")
            svg.text(label, x: left - 8, y: y(share) + 4, size: 10, anchor: .end)
        }
        for tick in stride(from: 0.0, through: maxX, by: step) {
            svg.line(x1: x(tick), y1: top + plotHeight, x2: x(tick), y2: top + plotHeight + 5, stroke: "#444444")
            svg.text(String(format: "%g", tick), x: x(tick), y: top + plotHeight + 18, size: 10, anchor: .middle)
        }
        svg.text("response time (s)", x: left + plotWidth / 2, y: top + plotHeight + 40, size: 11, anchor: .middle)
        svg.text("requests slower", x: 20, y: top + plotHeight / 2, size: 11, anchor: .middle, rotate: -90)
        if !floors.isEmpty {
            svg.polyline(curve(floors).map { (x($0.seconds), y($0.share)) }, stroke: "#555555", width: 1.5, dash: "5,4")
        }
        for (index, result) in results.enumerated() {
            let color = SweepFigure.palette[index % SweepFigure.palette.count]
            svg.polyline(curve(responses[index]).map { (x($0.seconds), y($0.share)) }, stroke: color)
            let legendY = top + 10 + Double(index) * 22
            svg.rect(x: left + plotWidth + 20, y: legendY, width: 14, height: 10, fill: color)
            let p95 = PolicySummary.percentile(responses[index], 0.95), p99 = PolicySummary.percentile(responses[index], 0.99)
            svg.text(String(format: "%@ (P95 %.0f s, P99 %.0f s)", result.policy, p95, p99), x: left + plotWidth + 40, y: legendY + 9, size: 11)
        }
        if !floors.isEmpty {
            let legendY = top + 10 + Double(results.count) * 22
            svg.line(x1: left + plotWidth + 20, y1: legendY + 5, x2: left + plotWidth + 34, y2: legendY + 5, stroke: "#555555", width: 1.5, dash: "5,4")
            svg.text(String(format: "floor (P95 %.0f s)", PolicySummary.percentile(floors, 0.95)), x: left + plotWidth + 40, y: legendY + 9, size: 11)
        }
        return svg.render()
    }

    /// The steps of "share slower than x" for sorted `values`: 100% up to the fastest, down by 1/n at each value,
    /// ending at the slowest with 1/n (a log scale has no 0).
    static func curve(_ values: [Double]) -> [(seconds: Double, share: Double)] {
        guard !values.isEmpty else { return [] }
        let n = Double(values.count)
        var points: [(seconds: Double, share: Double)] = [(0, 1)]
        for (index, value) in values.enumerated() {
            points.append((value, (n - Double(index)) / n))
            if index + 1 < values.count { points.append((value, (n - Double(index) - 1) / n)) }
        }
        return points
    }

    /// 1, 2 or 5 × a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let power = pow(10, (log10(max(raw, 1e-9))).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
    }
}
