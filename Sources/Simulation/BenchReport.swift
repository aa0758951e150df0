import Foundation

/// The outcome of `turboserve bench` on one workload: the summaries (a closed loop's runs, or a sweep's point
/// nearest 1.0× serial capacity), the sweep if there was one, and the text table. `write(to:)` produces
/// `results.json` (keyed by policy name), CSV files and SVG figures.
public struct BenchReport: Sendable {
    public var workload: String
    public var classes: [String]
    public var summaries: [PolicySummary]
    public var results: [SimulationResult]
    public var sweep: Sweep?
    public var target: Double
    public var seed: UInt64
    /// Each class's response floor (`jobs.csv`'s `floor_s`).
    public var floor: LatencyFloor?

    public static func make(runner: BenchRunner, progress: (String) -> Void = { _ in }) -> BenchReport {
        let classes = runner.workload.classes.map(\.name)
        var report = BenchReport(workload: runner.workload.name, classes: classes, summaries: [], results: [], sweep: nil, target: runner.workload.sloAttainmentTarget, seed: runner.seed, floor: runner.latencyFloor)
        if case .poissonSweep = runner.workload.arrivals {
            let sweep = runner.sweep(progress: progress)
            let nearest = sweep.points.min { abs($0.rateFactor - 1) < abs($1.rateFactor - 1) }
            report.sweep = sweep
            report.results = nearest?.results ?? []
        } else {
            report.results = runner.run(progress: progress)
        }
        report.summaries = runner.summaries(report.results)
        return report
    }

    public var policies: [String] { summaries.map(\.policy) }

    /// The printed report: the comparison table, and for a sweep the attainment-by-rate table with goodput.
    public var text: String {
        var lines = ["Workload \(workload) (seed \(seed)) — simulated RTX 5090; ratios are to serial", ""]
        if let sweep {
            lines.append(sweepTable(sweep))
            lines += ["", String(format: "Figures at the point nearest 1.0× serial capacity (%.4f jobs/s):", sweep.points.min { abs($0.rateFactor - 1) < abs($1.rateFactor - 1) }?.ratePerSecond ?? 0), ""]
        }
        lines.append(ComparisonTable.render(summaries, classes: classes))
        return lines.joined(separator: "\n")
    }

    func sweepTable(_ sweep: Sweep) -> String {
        var rows = sweep.points.map { point in
            [String(format: "%g×", point.rateFactor), String(format: "%.4f", point.ratePerSecond)]
                + policies.map { policy in
                    point.results.first { $0.policy == policy }.map { String(format: "%.1f%%", PolicySummary.attainment($0.jobs) * 100) } ?? "—"
                }
        }
        let goodputs = policies.map { sweep.goodput(of: $0, target: target) }
        let interpolated = policies.map { sweep.interpolatedGoodput(of: $0, target: target) }
        rows.append(["goodput", "jobs/s"] + goodputs.map { String(format: "%.4f", $0) })
        rows.append(["interpolated", "jobs/s"] + interpolated.map { String(format: "%.4f", $0) })
        rows.append(["vs best baseline", ""] + policies.indices.map { i in
            let others = goodputs.indices.filter { $0 != i && PolicyCatalog.baselineNames.contains(policies[$0]) }.map { goodputs[$0] }
            guard let best = others.max(), best > 0 else { return "—" }
            return String(format: "%.2f×", goodputs[i] / best)
        })
        let title = String(format: "SLO attainment by arrival rate (serial capacity %.4f jobs/s; goodput = highest rate with ≥ %.0f%%)", sweep.capacityPerSecond, target * 100)
        return title + "\n\n" + TextTable.render(header: ["rate", "jobs/s"] + policies, rows: rows)
    }
}
