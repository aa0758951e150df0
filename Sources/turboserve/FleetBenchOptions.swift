import ArgumentParser
import Foundation
import Simulation

/// The fleet options of `turboserve bench` (`--engines`, `--planner`, `--autoscale`) and the runs they ask for.
/// Every figure they print is simulated (a fleet of simulated RTX 5090s).
struct FleetBenchOptions: ParsableArguments {
    @Option(help: "Fixed fleets to simulate, comma-separated engine counts (e.g. 1,2,4): one row each.")
    var engines: String?

    @Flag(help: "Find, for each rate in --rates, the smallest fleet keeping the workload's SLO attainment target.")
    var planner = false

    @Option(help: "Arrival rates as multiples of the serial policy's one-engine capacity, e.g. 1x,2x,4x (planner default 1x…8x; --engines/--autoscale: the workload's own rate unless given).")
    var rates: String?

    @Flag(help: "Replay the workload under queue-driven autoscaling next to fixed fleets (attainment against GPU-hours).")
    var autoscale = false

    @Option(name: .customLong("rate-scale"), help: "Multiply a Poisson workload's own rate (e.g. 8 for diurnal-day at eight times its traffic).")
    var rateScale: Double = 1

    @Option(help: "Seconds of arrivals (default: the workload's duration_s).")
    var duration: Double?

    @Option(name: .customLong("claim-window"), help: "Jobs an engine may hold (2 × scheduler.max_batch_size).")
    var claimWindow = 16

    @Option(name: .customLong("affinity-wait"), help: "scheduler.affinity_wait_seconds.")
    var affinityWait = 10.0

    @Option(name: .customLong("max-engines"), help: "Largest fleet the planner tries.")
    var maxEngines = 64

    @Option(name: .customLong("min-replicas"), help: "Autoscaler: minReplicaCount.")
    var minReplicas = 2

    @Option(name: .customLong("max-replicas"), help: "Autoscaler: maxReplicaCount.")
    var maxReplicas = 10

    @Option(name: .customLong("scale-up-delay"), help: "Autoscaler: seconds from pod creation until the worker claims (pod start + engine start + model load).")
    var scaleUpDelay = 60.0

    @Option(name: .customLong("scale-up-window"), help: "Autoscaler: scale-up stabilisation window, seconds.")
    var scaleUpWindow = 120.0

    @Option(help: "Autoscaler: scale-down stabilisation window (cooldown), seconds.")
    var cooldown = 600.0

    var isRequested: Bool { engines != nil || planner || autoscale }

    var autoscaler: AutoscalerSettings {
        var settings = AutoscalerSettings()
        settings.minReplicas = minReplicas
        settings.maxReplicas = maxReplicas
        settings.startupSeconds = scaleUpDelay
        settings.scaleUpWindowSeconds = scaleUpWindow
        settings.scaleDownWindowSeconds = cooldown
        return settings
    }

    /// The largest fleet any option may ask for.
    static let largestFleet = 1_000

    func validate() throws {
        guard minReplicas >= 1, maxReplicas >= minReplicas, maxReplicas <= Self.largestFleet else {
            throw ValidationError("need 1 ≤ --min-replicas ≤ --max-replicas ≤ \(Self.largestFleet)")
        }
        guard claimWindow > 0, maxEngines > 0, rateScale > 0, duration.map({ $0 > 0 }) ?? true else {
            throw ValidationError("--claim-window, --max-engines, --rate-scale and --duration must be positive")
        }
        guard maxEngines <= Self.largestFleet else { throw ValidationError("--max-engines must be at most \(Self.largestFleet); got \(maxEngines)") }
        if let duration, duration > Workload.maxDurationSeconds {
            throw ValidationError("--duration must be at most \(Int(Workload.maxDurationSeconds)) seconds (7 days); got \(duration)")
        }
        _ = try engineCounts()
        if !isRequested, rateScale != 1 || duration != nil || rates != nil {
            throw ValidationError("--rates, --rate-scale and --duration apply to fleet runs: add --engines N, --planner or --autoscale")
        }
    }

    /// "1,2,4" → [1, 2, 4]; nil without --engines. Each must be a whole number from 1 to `largestFleet`.
    func engineCounts() throws -> [Int]? {
        try engines.map { list in
            try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
                guard let count = Int(item.trimmingCharacters(in: .whitespaces)), (1...Self.largestFleet).contains(count) else {
                    throw ValidationError("--engines takes engine counts from 1 to \(Self.largestFleet) like 1,2,4; got '\(item)'")
                }
                return count
            }
        }
    }

    /// Refuses a rate that would make a run of more than `Workload.maxArrivals` arrivals (it would not end in any
    /// useful time), naming the flags that set it.
    func checkArrivals(ratePerSecond rate: Double, durationSeconds: Double) throws {
        guard rate * durationSeconds <= Double(Workload.maxArrivals) else {
            throw ValidationError(String(format: "--rates/--rate-scale/--duration ask for %.4g jobs/s for %.0f s, %.3g arrivals; at most %d", rate, durationSeconds, rate * durationSeconds, Workload.maxArrivals))
        }
    }

    /// "1x,2.5x" → [1, 2.5].
    func factors() throws -> [Double]? {
        try rates.map { list in
            try list.split(separator: ",").map { item in
                guard let value = Double(item.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "x", with: "")), value > 0 else {
                    throw ValidationError("--rates takes positive multiples like 1x,2x,4x; got '\(item)'")
                }
                return value
            }
        }
    }

    /// Runs what was asked and prints the tables; returns what goes in `fleet.json` and the autoscaling figure,
    /// for the caller to write (nothing is written here).
    func run(runner: BenchRunner, note: (String) -> Void) throws -> FleetBenchOutput {
        guard let entry = runner.policies.first else { return FleetBenchOutput(report: FleetBenchReport()) }
        var planner = FleetPlanner(runner: runner, policy: entry, options: FleetOptions(claimWindow: claimWindow, affinityWaitSeconds: affinityWait), durationSeconds: duration)
        planner.maxEngines = maxEngines
        let capacity = runner.serialCapacity()
        let factors = try factors()
        let plannerFactors = factors ?? (1...8).map(Double.init)
        var ownRate: Double? = nil
        if case let .poisson(rate, _, _, _) = runner.workload.arrivals { ownRate = rate * rateScale }
        let rate = factors?.first.map { $0 * capacity } ?? ownRate
        if let rate { try checkArrivals(ratePerSecond: rate, durationSeconds: planner.durationSeconds) }
        if self.planner, let fastest = plannerFactors.max() { try checkArrivals(ratePerSecond: fastest * capacity, durationSeconds: planner.durationSeconds) }
        print(String(format: "Fleet of simulated RTX 5090s — policy %@, workload %@, serial capacity %.4f jobs/s, %.0f s of arrivals, claim window %d (simulated)\n",
                     entry.name, runner.workload.name, capacity, planner.durationSeconds, claimWindow))
        var report = FleetBenchReport()
        if let counts = try engineCounts() {
            guard let rate else { throw ValidationError("--engines on a closed-loop workload needs --rates (e.g. 2x)") }
            let setup = planner.setup(ratePerSecond: rate)
            let rows = counts.map { n in
                note("fixed fleet of \(n) at \(String(format: "%.4f", rate)) jobs/s")
                return planner.summary(planner.run(setup, engines: n), fleet: "fixed \(n)")
            }
            print(String(format: "Fixed fleets at %.4f jobs/s (simulated)", rate))
            print(FleetReport.fleetTable(rows) + "\n")
            report.fleets = rows
        }
        if self.planner {
            let answers = planner.plan(factors: plannerFactors, capacity: capacity, progress: note)
            print("Smallest fleet per rate (simulated)")
            print(FleetReport.plannerTable(answers, target: planner.target) + "\n")
            report.planner = answers.map(FleetBenchReport.PlannerRow.init)
        }
        var figure: String?
        if autoscale {
            guard let rate else { throw ValidationError("--autoscale on a closed-loop workload needs --rates (e.g. 2x)") }
            let outcome = AutoscaleReplay(planner: planner, settings: autoscaler).run(ratePerSecond: rate, progress: note)
            print(String(format: "Autoscaling replay at a mean %.4f jobs/s; smallest fixed fleet meeting the target: %@ (simulated)",
                         rate, outcome.smallestFixed.map(String.init) ?? "none"))
            print(FleetReport.fleetTable(outcome.rows) + "\n")
            report.autoscale = outcome.rows
            report.samples = outcome.autoscaled.samples
            figure = FleetFigure.svg(outcome.autoscaled.samples, title: "\(runner.workload.name): autoscaled fleet at \(String(format: "%.4f", rate)) jobs/s mean")
        }
        return FleetBenchOutput(report: report, autoscaleFigure: figure)
    }
}

/// What a fleet run leaves behind: `fleet.json`, and `autoscale.svg` when autoscaling was replayed.
struct FleetBenchOutput {
    var report: FleetBenchReport
    var autoscaleFigure: String?

    /// Writes the files into `directory` (created if missing) and returns them.
    func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = directory.appendingPathComponent("fleet.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: json)
        guard let autoscaleFigure else { return [json] }
        let figure = directory.appendingPathComponent("autoscale.svg")
        try autoscaleFigure.write(to: figure, atomically: true, encoding: .utf8)
        return [json, figure]
    }
}

/// What `fleet.json` holds.
struct FleetBenchReport: Encodable {
    struct PlannerRow: Encodable {
        var rateFactor: Double
        var ratePerSecond: Double
        var engines: Int?
        var atEngines: FleetSummary?
        var belowEngines: FleetSummary?
        init(_ answer: FleetPlanner.Answer) {
            (rateFactor, ratePerSecond, engines, atEngines, belowEngines) = (answer.rateFactor, answer.ratePerSecond, answer.engines, answer.atEngines, answer.belowEngines)
        }
    }

    var fleets: [FleetSummary]?
    var planner: [PlannerRow]?
    var autoscale: [FleetSummary]?
    var samples: [FleetSample]?
}
