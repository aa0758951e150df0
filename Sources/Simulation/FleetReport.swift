import Foundation

/// The planner's text tables (stdout of `turboserve bench --engines/--planner/--autoscale`). Every figure is
/// simulated; the headings say so.
public enum FleetReport {
    static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
    static func seconds(_ x: Double) -> String { String(format: "%.1f", x) }

    /// One row per fleet: attainment, response times, busy fraction, GPU-hours.
    public static func fleetTable(_ rows: [FleetSummary]) -> String {
        TextTable.render(
            header: ["fleet", "jobs", "SLO attainment", "mean s", "P95 s", "P99 s", "busy", "GPU-hours", "peak engines"],
            rows: rows.map { row in
                [row.fleet, "\(row.jobsArrived)", percent(row.sloAttainment), seconds(row.meanResponseSeconds),
                 seconds(row.p95ResponseSeconds), seconds(row.p99ResponseSeconds), percent(row.busyFraction),
                 String(format: "%.1f", row.gpuHours), "\(row.peakEngines)"]
            })
    }

    /// The planner's answer per rate: the smallest N, attainment at N and at N − 1.
    public static func plannerTable(_ answers: [FleetPlanner.Answer], target: Double) -> String {
        TextTable.render(
            header: ["rate (× serial)", "jobs/s", "smallest N (≥ \(percent(target)))", "attainment at N", "at N − 1", "P95 s at N", "busy at N"],
            rows: answers.map { answer in
                [String(format: "%g×", answer.rateFactor), String(format: "%.4f", answer.ratePerSecond),
                 answer.engines.map(String.init) ?? "none",
                 answer.atEngines.map { percent($0.sloAttainment) } ?? "–",
                 answer.belowEngines.map { percent($0.sloAttainment) } ?? "–",
                 answer.atEngines.map { seconds($0.p95ResponseSeconds) } ?? "–",
                 answer.atEngines.map { percent($0.busyFraction) } ?? "–"]
            })
    }
}
