import Foundation

/// The step batch-size distribution of each policy as grouped bars: for batch 1, 2, 3 and 4+, the share of the
/// policy's denoise calls that carried that many samples, with each policy's mean batch size in the legend.
/// Labelled "simulated".
public enum BatchSizeFigure {
    static let buckets = ["1", "2", "3", "4+"]

    public static func svg(_ summaries: [PolicySummary], title: String) -> String {
        let left = 70.0, top = 60.0, plotWidth = 560.0, plotHeight = 300.0, legendWidth = 260.0
        var svg = SVGDocument(width: left + plotWidth + legendWidth, height: top + plotHeight + 70)
        svg.text(title + " — simulated", x: 12, y: 24, size: 16, bold: true)
        svg.text("share of denoise calls by samples per call (step-level batching)", x: 12, y: 42, size: 11, fill: "#555555")
        func y(_ share: Double) -> Double { top + (1 - share) * plotHeight }
        svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fafafa", stroke: "#999999")
        for level in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg.line(x1: left, y1: y(level), x2: left + plotWidth, y2: y(level), stroke: "#e0e0e0")
            svg.text("\(Int(level * 100))%", x: left - 8, y: y(level) + 4, size: 10, anchor: .end)
        }
        let groupWidth = plotWidth / Double(buckets.count)
        let barWidth = (groupWidth - 24) / Double(max(1, summaries.count))
        for (bucketIndex, bucket) in buckets.enumerated() {
            let groupLeft = left + Double(bucketIndex) * groupWidth + 12
            for (index, summary) in summaries.enumerated() {
                let share = summary.batchSizeShares[bucket] ?? 0
                let color = SweepFigure.palette[index % SweepFigure.palette.count]
                svg.rect(x: groupLeft + Double(index) * barWidth, y: y(share), width: barWidth - 2, height: share * plotHeight, fill: color,
                         title: String(format: "%@, batch %@: %.1f%%", summary.policy, bucket, share * 100))
            }
            svg.text("batch \(bucket)", x: groupLeft + (groupWidth - 24) / 2, y: top + plotHeight + 18, size: 11, anchor: .middle)
        }
        svg.text("share of step calls", x: 22, y: top + plotHeight / 2, size: 11, anchor: .middle, rotate: -90)
        for (index, summary) in summaries.enumerated() {
            let legendY = top + 10 + Double(index) * 22
            svg.rect(x: left + plotWidth + 20, y: legendY, width: 14, height: 10, fill: SweepFigure.palette[index % SweepFigure.palette.count])
            svg.text(String(format: "%@ (mean %.2f)", summary.policy, summary.meanBatchSize), x: left + plotWidth + 40, y: legendY + 9, size: 11)
        }
        return svg.render()
    }
}
