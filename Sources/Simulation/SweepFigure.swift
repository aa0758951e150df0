import Foundation

/// SLO attainment against arrival rate, one line per policy, with the attainment target dashed and each policy's
/// goodput marked. Labelled "simulated".
public enum SweepFigure {
    static let palette = ["#c62828", "#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f"]

    public static func svg(_ sweep: Sweep, policies: [String], target: Double, title: String) -> String {
        let left = 80.0, top = 60.0, plotWidth = 640.0, plotHeight = 360.0, legendWidth = 270.0
        var svg = SVGDocument(width: left + plotWidth + legendWidth, height: top + plotHeight + 80)
        svg.text(title + " — simulated", x: 12, y: 24, size: 16, bold: true)
        svg.text(String(format: "open-loop Poisson arrivals; serial capacity %.4f jobs/s; dashed: %.0f%% target", sweep.capacityPerSecond, target * 100), x: 12, y: 42, size: 11, fill: "#555555")
        let maxRate = (sweep.points.map(\.ratePerSecond).max() ?? 1) * 1.05
        func x(_ rate: Double) -> Double { left + rate / maxRate * plotWidth }
        func y(_ attainment: Double) -> Double { top + (1 - attainment) * plotHeight }
        svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fafafa", stroke: "#999999")
        for level in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg.line(x1: left, y1: y(level), x2: left + plotWidth, y2: y(level), stroke: "#e0e0e0")
            svg.text("\(Int(level * 100))%", x: left - 8, y: y(level) + 4, size: 10, anchor: .end)
        }
        var lastLabel = -Double.infinity
        for point in sweep.points {
            svg.line(x1: x(point.ratePerSecond), y1: top + plotHeight, x2: x(point.ratePerSecond), y2: top + plotHeight + 5, stroke: "#444444")
            // Labels closer than 42 px to the previous one are left out (the tick stays).
            guard x(point.ratePerSecond) - lastLabel >= 42 else { continue }
            lastLabel = x(point.ratePerSecond)
            svg.text(String(format: "%.4f", point.ratePerSecond), x: x(point.ratePerSecond), y: top + plotHeight + 18, size: 9, anchor: .middle)
            svg.text(String(format: "%g×", point.rateFactor), x: x(point.ratePerSecond), y: top + plotHeight + 31, size: 9, anchor: .middle, fill: "#777777")
        }
        svg.line(x1: left, y1: y(target), x2: left + plotWidth, y2: y(target), stroke: "#333333", width: 1.2, dash: "6,4")
        svg.text("arrival rate (jobs/s; × serial capacity below)", x: left + plotWidth / 2, y: top + plotHeight + 52, size: 11, anchor: .middle)
        svg.text("SLO attainment", x: 22, y: top + plotHeight / 2, size: 11, anchor: .middle, rotate: -90)
        for (index, policy) in policies.enumerated() {
            let color = palette[index % palette.count]
            let curve = sweep.attainment(of: policy)
            svg.polyline(curve.map { (x($0.rate), y($0.attainment)) }, stroke: color, width: 2.2)
            for point in curve { svg.circle(x: x(point.rate), y: y(point.attainment), radius: 3.5, fill: color) }
            let goodput = sweep.goodput(of: policy, target: target)
            let legendY = top + 10 + Double(index) * 22
            svg.rect(x: left + plotWidth + 20, y: legendY, width: 14, height: 10, fill: color)
            svg.text(String(format: "%@  goodput %.4f/s", policy, goodput), x: left + plotWidth + 40, y: legendY + 9, size: 11)
        }
        return svg.render()
    }
}
