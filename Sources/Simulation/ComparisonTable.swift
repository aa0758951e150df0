import Foundation

/// The one comparison table `turboserve bench` prints: a row per figure, a column per policy, each non-reference
/// cell followed by its ratio to the reference policy (`serial` when present, else the first).
public enum ComparisonTable {
    struct Metric {
        let name: String
        let digits: Int
        let value: (PolicySummary) -> Double
        var percent = false
    }

    public static func render(_ summaries: [PolicySummary], classes: [String], reference: String = "serial") -> String {
        guard let base = summaries.first(where: { $0.policy == reference }) ?? summaries.first else { return "" }
        var metrics: [Metric] = [
            Metric(name: "jobs arrived", digits: 0) { Double($0.jobsArrived) },
            Metric(name: "jobs completed", digits: 0) { Double($0.jobsCompleted) },
            Metric(name: "mean response (s)", digits: 1) { $0.meanResponseSeconds },
            Metric(name: "P50 response (s)", digits: 1) { $0.p50ResponseSeconds },
            Metric(name: "P95 response (s)", digits: 1) { $0.p95ResponseSeconds },
            Metric(name: "P99 response (s)", digits: 1) { $0.p99ResponseSeconds },
            Metric(name: "  floor: mean (s, each job alone)", digits: 1) { $0.meanFloorSeconds },
            Metric(name: "  floor: P95 (s)", digits: 1) { $0.p95FloorSeconds },
            Metric(name: "  floor: P99 (s)", digits: 1) { $0.p99FloorSeconds },
            Metric(name: "mean queue wait (s)", digits: 1) { $0.meanQueueWaitSeconds },
            Metric(name: "P95 queue wait (s)", digits: 1) { $0.p95QueueWaitSeconds },
            Metric(name: "SLO attainment", digits: 1, value: { $0.sloAttainment }, percent: true),
        ]
        for name in classes {
            metrics.append(Metric(name: "  SLO \(name)", digits: 1, value: { $0.sloAttainmentByClass[name] ?? 0 }, percent: true))
        }
        metrics += [
            Metric(name: "throughput (jobs/h)", digits: 1) { $0.throughputPerHour },
            Metric(name: "goodput (in-SLO jobs/h)", digits: 1) { $0.goodputPerHour },
            Metric(name: "bound (jobs/h, best batch, no idle)", digits: 1) { $0.boundPerHour },
            Metric(name: "engine busy fraction", digits: 1, value: { $0.busyFraction }, percent: true),
            Metric(name: "engine switching fraction", digits: 1, value: { $0.switchingFraction }, percent: true),
            Metric(name: "model loads", digits: 0) { Double($0.modelLoads) },
            Metric(name: "mean step batch size", digits: 2) { $0.meanBatchSize },
            Metric(name: "  step calls of batch 1", digits: 1, value: { $0.batchSizeShares["1"] ?? 0 }, percent: true),
            Metric(name: "  step calls of batch 2", digits: 1, value: { $0.batchSizeShares["2"] ?? 0 }, percent: true),
            Metric(name: "  step calls of batch 3", digits: 1, value: { $0.batchSizeShares["3"] ?? 0 }, percent: true),
            Metric(name: "  step calls of batch 4+", digits: 1, value: { $0.batchSizeShares["4+"] ?? 0 }, percent: true),
            Metric(name: "energy proxy (Wh)", digits: 0) { $0.energyWh },
            Metric(name: "videos per Wh", digits: 2) { $0.videosPerWh },
        ]
        let rows = metrics.map { metric in
            [metric.name] + summaries.map { summary in
                let value = metric.value(summary)
                let text = metric.percent ? format(value * 100, metric.digits) + "%" : format(value, metric.digits)
                guard summary.policy != base.policy else { return text }
                let reference = metric.value(base)
                let ratio = reference != 0 ? String(format: " (%.2f×)", value / reference) : " (—)"
                return text + ratio
            }
        }
        return TextTable.render(header: ["metric"] + summaries.map(\.policy), rows: rows)
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
