import SchedulingCore
import Foundation

/// Checks the cost model against the calibration file by simulation: each isolated run is replayed on the
/// `serial` policy (a warm-up request of the same kind first, so the server is in the state the measurement saw:
/// for I2V, the previous request's low-noise expert still resident), and the serial time shares are measured on
/// a workload's mix. Passing means every isolated run is within `tolerance`.
public struct CalibrationCheck: Sendable {
    public struct Row: Sendable, Hashable, Codable {
        public var model: String
        public var resolution: String
        public var steps: Int
        public var measuredSeconds: Double
        public var simulatedSeconds: Double
        public var errorPercent: Double { (simulatedSeconds - measuredSeconds) / measuredSeconds * 100 }
    }

    public struct Share: Sendable, Hashable, Codable {
        public var name: String
        public var measured: Double
        public var simulated: Double
    }

    public var rows: [Row]
    public var shares: [Share]
    public var tolerancePercent: Double
    /// The derived cost model, as a table.
    public var costModel: String

    public var passed: Bool { rows.allSatisfy { abs($0.errorPercent) <= tolerancePercent } }

    /// Replays the calibration; with a workload, also measures the serial shares on its class mix and arrivals.
    public init(calibration: Calibration, workload: Workload? = nil, tolerancePercent: Double = 5) throws {
        let cost = try CalibratedCostModel(calibration: calibration)
        guard let serial = PolicyCatalog.entry(named: "serial", calibration: calibration) else {
            throw WorkloadError(file: "calibration", message: "has no serial policy to check with")
        }
        self.tolerancePercent = tolerancePercent
        costModel = cost.describe()
        rows = calibration.isolatedRuns.map { run in
            let single = WorkloadClass(name: run.key, weight: 1, model: run.model, resolution: run.resolution, frames: run.frames, steps: run.steps, priority: "standard", sloFactor: 1)
            let arrivals = [ScheduledArrival(time: 0, classIndex: 0), ScheduledArrival(time: 10 * run.latencySeconds + 60, classIndex: 0)]
            let result = serial.run(SimulationSetup(classes: [single], arrivals: .open(arrivals, durationSeconds: 0), cost: cost, deadlines: [nil]))
            let simulated = result.jobs.last?.response ?? .nan
            return Row(model: run.model, resolution: run.resolution, steps: run.steps, measuredSeconds: run.latencySeconds, simulatedSeconds: simulated)
        }
        shares = []
        if let workload {
            let runner = try BenchRunner(workload: workload, policies: ["serial"])
            let stages = serial.run(runner.setup(capacity: 1)).stageSeconds
            let total = max(1e-9, stages.values.reduce(0, +))
            let measured = calibration.serialTimeShares
            shares = [
                Share(name: "request parsing and validation", measured: measured.parsing, simulated: (stages["parse"] ?? 0) / total),
                Share(name: "model switch and cache load", measured: measured.switching, simulated: (stages["switch"] ?? 0) / total),
                Share(name: "video encoding and I/O", measured: measured.encodingAndIO, simulated: (stages["mux"] ?? 0) / total),
                Share(name: "core compute", measured: measured.compute, simulated: (stages["compute"] ?? 0) / total),
            ]
        }
    }

    /// The table `turboserve bench --calibration-check` prints.
    public func table() -> String {
        var lines = ["Calibration check (simulated serial policy vs calibration file; tolerance ±\(Int(tolerancePercent))%)", ""]
        lines.append(TextTable.render(
            header: ["model", "resolution", "steps", "measured s", "simulated s", "error %"],
            rows: rows.map { [
                $0.model, $0.resolution, "\($0.steps)", Self.f($0.measuredSeconds, 1), Self.f($0.simulatedSeconds, 2),
                (abs($0.errorPercent) <= tolerancePercent ? "" : "FAIL ") + Self.f($0.errorPercent, 2),
            ] }))
        if !shares.isEmpty {
            lines += ["", "Serial time shares on the workload's mix (engine-path time)", ""]
            lines.append(TextTable.render(
                header: ["stage", "measured", "simulated", "difference (points)"],
                rows: shares.map { [$0.name, Self.f($0.measured * 100, 1) + "%", Self.f($0.simulated * 100, 1) + "%", Self.f(($0.simulated - $0.measured) * 100, 1)] }))
        }
        lines += ["", costModel]
        lines += ["", passed ? "PASS: every isolated run within ±\(Int(tolerancePercent))%" : "FAIL: some isolated run is off by more than \(Int(tolerancePercent))%"]
        return lines.joined(separator: "\n")
    }

    static func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", abs(value) < 1e-9 ? 0 : value) }
}
