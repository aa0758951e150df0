import Foundation

/// Replicas (pods asked for, and those claiming) and jobs not started over the run of an autoscaled fleet, one
/// point per autoscaler evaluation. Labelled "simulated".
public enum FleetFigure {
    public static func svg(_ samples: [FleetSample], title: String) -> String {
        let left = 70.0, top = 60.0, plotWidth = 720.0, plotHeight = 300.0
        var svg = SVGDocument(width: left + plotWidth + 80, height: top + plotHeight + 70)
        svg.text(title + " — simulated", x: 12, y: 24, size: 16, bold: true)
        svg.text("blue: replicas (pods); green: replicas claiming; orange: jobs not started (right axis)", x: 12, y: 42, size: 11, fill: "#555555")
        let end = max(samples.last?.time ?? 1, 1)
        let maxReplicas = Double(max(1, samples.map(\.replicas).max() ?? 1)) * 1.1
        let maxQueued = Double(max(1, samples.map(\.queued).max() ?? 1)) * 1.1
        func x(_ t: Double) -> Double { left + t / end * plotWidth }
        svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fafafa", stroke: "#999999")
        for hour in stride(from: 0.0, through: end / 3_600, by: max(1, (end / 3_600 / 12).rounded())) {
            svg.text(String(format: "%.0f h", hour), x: x(hour * 3_600), y: top + plotHeight + 16, size: 10, anchor: .middle)
        }
        for level in stride(from: 0.0, through: 1.0, by: 0.25) {
            let py = top + (1 - level) * plotHeight
            svg.line(x1: left, y1: py, x2: left + plotWidth, y2: py, stroke: "#e0e0e0")
            svg.text(String(format: "%.0f", level * maxReplicas), x: left - 8, y: py + 4, size: 10, anchor: .end, fill: "#1565c0")
            svg.text(String(format: "%.0f", level * maxQueued), x: left + plotWidth + 8, y: py + 4, size: 10, fill: "#ef6c00")
        }
        let series: [(String, (FleetSample) -> Double, Double)] = [
            ("#ef6c00", { Double($0.queued) }, maxQueued), ("#2e7d32", { Double($0.ready) }, maxReplicas), ("#1565c0", { Double($0.replicas) }, maxReplicas),
        ]
        for (color, value, scale) in series {
            svg.polyline(samples.map { (x($0.time), top + (1 - value($0) / scale) * plotHeight) }, stroke: color, width: 1.6)
        }
        svg.text("simulated time", x: left + plotWidth / 2, y: top + plotHeight + 40, size: 11, anchor: .middle)
        return svg.render()
    }
}
