import SchedulingCore
import ArgumentParser
import Foundation
import Simulation

/// `turboserve bench`: compares scheduling policies on the calibrated discrete-event simulator (a simulated
/// RTX 5090; nothing runs on a GPU). Prints one comparison table, writes `results.json`, CSV files and SVG
/// figures to `--out`, and with `--calibration-check` checks the cost model against the calibration file.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Compare scheduling policies on the calibrated simulator (simulated RTX 5090).",
        discussion: """
            Workloads are the shared files, read as they are: a closed loop (seed-mix.json) gives one run per \
            policy; a Poisson sweep (poisson-sweep.json) gives one run per rate and policy and the goodput at the \
            workload's SLO attainment target. Every figure is simulated.

            Fleet capacity planning (one policy, default turboserve; open-loop arrivals): --engines 1,2,4 runs the \
            workload on fleets of N engines sharing one queue under the fleet's claim rule; --planner finds, per \
            rate in --rates (multiples of the serial policy's one-engine capacity), the smallest N keeping the \
            SLO attainment target; --autoscale replays the workload under the queue-driven autoscaler next to \
            fixed fleets.
            """)

    @Option(help: "Workload file, e.g. bench/seed-mix.json.")
    var workload: String?

    @Option(help: "Policies, comma-separated (serial, seed, dynamic-batch, turboserve, turboserve-deadlines, turboserve-arrival); 'all' is the first four.")
    var policy = "all"

    @Flag(name: .customLong("calibration-check"), help: "Check the cost model against the calibration file (exit 1 if an isolated run is off by more than 5%).")
    var calibrationCheck = false

    @Option(help: "Calibration file for --calibration-check without --workload.")
    var calibration: String?

    @Option(help: "Directory for results.json, CSV and SVG/PNG figures (default: bench-out/<workload name>).")
    var out: String?

    @Option(parsing: .unconditional, help: "Override the workload's rng_seed (0 or more).")  // `--seed -1`: named invalid, not "missing"
    var seed: UInt64?

    @Option(name: .customLong("baseline-engine"), help: "The engine the baselines drive: upstream (copies weights back on unload, waits for every load) or streamed (TurboServe's: host copies, loads streamed under compute).")
    var baselineEngine: WeightTransfers = .upstream

    @Option(name: .customLong("dynamic-batch-wait"), help: "Seconds the dynamic-batch baseline lets its oldest job wait for a fuller batch (default 0.5; 0 or more). Moving it shows whether a comparison rests on the baseline's setting.")
    var dynamicBatchWait = DynamicBatchRule().maxQueueDelaySeconds

    /// The dynamic-batch baseline's rule with `--dynamic-batch-wait`.
    var dynamicBatch: DynamicBatchRule { DynamicBatchRule(maxQueueDelaySeconds: dynamicBatchWait) }

    func validate() throws {
        guard dynamicBatchWait.isFinite, dynamicBatchWait >= 0 else {
            throw ValidationError("--dynamic-batch-wait must be a number of seconds, 0 or more; got \(dynamicBatchWait)")
        }
        do { try PolicyCatalog.checkNames(policyNames) } catch { throw ValidationError("\(error)") }
        if fleet.isRequested, policy != "all", policyNames.count != 1 {
            throw ValidationError("fleet planning (--engines, --planner, --autoscale) runs one policy; --policy names \(policyNames.count): \(policyNames.joined(separator: ", "))")
        }
    }

    /// The one policy fleet planning runs: `--policy`, or `turboserve` when it is left at `all`.
    var fleetPolicy: String { policy == "all" ? "turboserve" : policyNames[0] }

    /// The policies `--policy` names, `all` expanded.
    var policyNames: [String] {
        policy.split(separator: ",").flatMap { $0 == "all" ? PolicyCatalog.names : [String($0).trimmingCharacters(in: .whitespaces)] }
    }

    @OptionGroup var fleet: FleetBenchOptions

    /// A workload or calibration file that cannot be read exits 66 and one that is refused 65 (sysexits), with the
    /// reason on one `error:` line.
    func run() async throws {
        try await CLIFailure.reporting {
            do { try runBench() } catch let error as WorkloadError {
                throw CLIFailure(error.unreadable ? .noInput : .dataError, error.description)
            }
        }
    }

    private func runBench() throws {
        let loaded = try workload.map { try Workload.load(from: URL(fileURLWithPath: CallerPaths.resolve($0))) }
        if fleet.isRequested {
            guard let loaded else { throw ValidationError("give --workload FILE (e.g. bench/seed-mix.json)") }
            let runner = try BenchRunner(workload: loaded, policies: [fleetPolicy], seed: seed, baselineTransfers: baselineEngine, dynamicBatch: dynamicBatch)
            let directory = try outputDirectory(default: "\(loaded.name)-fleet")
            let output = try fleet.run(runner: runner, note: note)
            let written = try writeResults(into: directory, output.write)
            let pictures = Self.renderPNGs(written.filter { $0.pathExtension == "svg" })
            note("wrote \((written + pictures).map(\.lastPathComponent).joined(separator: ", ")) to \(directory.path)")
            return
        }
        if calibrationCheck {
            let file: Calibration
            if let loaded { file = loaded.calibration } else if let calibration {
                file = try Calibration.load(from: URL(fileURLWithPath: CallerPaths.resolve(calibration)))
            } else {
                throw ValidationError("--calibration-check needs --workload FILE or --calibration FILE")
            }
            let check = try CalibrationCheck(calibration: file, workload: loaded)
            print(check.table())
            if !check.passed { throw ExitCode(1) }
            return
        }
        guard let loaded else { throw ValidationError("give --workload FILE (e.g. bench/seed-mix.json)") }
        let runner = try BenchRunner(workload: loaded, policies: policyNames, seed: seed, baselineTransfers: baselineEngine, dynamicBatch: dynamicBatch)
        let directory = try outputDirectory(default: loaded.name)
        let report = BenchReport.make(runner: runner, progress: { note($0) })
        print(report.text)
        let written = try writeResults(into: directory, report.write)
        let pictures = Self.renderPNGs(written.filter { $0.pathExtension == "svg" })
        note("wrote \((written + pictures).map(\.lastPathComponent).joined(separator: ", ")) to \(directory.path)")
        if pictures.isEmpty { note("(install librsvg2-bin for PNG copies of the SVG figures)") }
    }

    /// The directory the results go to (`--out`, else `bench-out/<name>`), checked before anything runs (without
    /// creating it): it, or the nearest folder above it that exists, must be a writable directory, so one that
    /// cannot be written is refused at once (exit 73) rather than after the run.
    private func outputDirectory(default name: String) throws -> URL {
        let directory = URL(fileURLWithPath: out.map { CallerPaths.resolve($0) } ?? "bench-out/\(name)", isDirectory: true)
        var existing = directory.standardizedFileURL
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: existing.path, isDirectory: &isDirectory), existing.path != "/" {
            existing = existing.deletingLastPathComponent()
        }
        guard isDirectory.boolValue, FileManager.default.isWritableFile(atPath: existing.path) else {
            throw CLIFailure(.cantCreate, "--out: cannot create or write into the directory \(directory.path) (\(existing.path) is not a writable directory)")
        }
        return directory
    }

    /// Writes the results with `write`; a write that fails after the up-front check (a disk full, a folder removed
    /// meanwhile) exits 73 with the reason, on both paths (comparison and fleet planning).
    private func writeResults(into directory: URL, _ write: (URL) throws -> [URL]) throws -> [URL] {
        do { return try write(directory) } catch {
            throw CLIFailure(.cantCreate, "--out: writing the results into \(directory.path) failed: \(Self.reason(error))")
        }
    }

    /// A file error as the path it failed on and the system's reason ("/proc/x: No such file or directory"), not
    /// Foundation's generic sentence.
    static func reason(_ error: Error) -> String {
        let error = error as NSError
        guard let path = error.userInfo[NSFilePathErrorKey] as? String, let underlying = error.userInfo[NSUnderlyingErrorKey] as? Error,
              (underlying as NSError).domain == NSPOSIXErrorDomain else {
            return error.localizedDescription
        }
        return "\(path): \(String(cString: strerror(Int32((underlying as NSError).code))))"
    }

    /// PNG copies of the figures via `rsvg-convert` when it is installed (optional; nothing depends on it).
    static func renderPNGs(_ svgs: [URL]) -> [URL] {
        let candidates = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert", "/opt/homebrew/bin/rsvg-convert"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return [] }
        return svgs.compactMap { svg in
            let png = svg.deletingPathExtension().appendingPathExtension("png")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["--background-color=white", "-o", png.path, svg.path]
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
            return process.terminationStatus == 0 ? png : nil
        }
    }

    /// Progress and file notes go to stderr so stdout stays the table.
    private func note(_ line: String) {
        FileHandle.standardError.write(Data(("[bench] " + line + "\n").utf8))
    }
}

extension WeightTransfers: ExpressibleByArgument {}
