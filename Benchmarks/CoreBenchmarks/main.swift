// Micro-benchmarks of the scheduling core, measured side by side in one run and reported as medians.
// Run: swift run -c release CoreBenchmarks [--jobs 10000] [--tenants 50] [--decisions 6000] [--objective tail|deadlines|arrival] [--no-learning] [--no-rescue]
import Foundation
import SchedulingCore
import Simulation
import TurboServeDomain

/// One planning decision (`nextPlan`) of `TurboScheduler` in a steady state: `jobs` queued across `tenants`, a mix
/// of the seed-mix classes with varied deadlines and priorities. After each decision the plan is reported finished
/// and one new job is submitted, so the queue stays at its size; only `nextPlan` is timed.
struct DecisionBenchmark {
    let jobs: Int
    let tenants: Int
    let decisions: Int
    let objective: SchedulingObjective

    func run() throws -> [Double] {
        let cost = try CalibratedCostModel(calibration: .rtx5090)
        let clock = VirtualClock()
        var configuration = TurboSchedulerConfiguration()
        configuration.maxQueued = jobs * 2
        configuration.objective = objective
        if CommandLine.arguments.contains("--no-learning") { configuration.learnStepTimes = false }
        if CommandLine.arguments.contains("--no-rescue") { configuration.rescueHorizonFraction = nil }
        configuration.deviceMemoryBytes = cost.deviceMemoryBytes
        configuration.sharedBytes = cost.sharedBytes
        var scheduler = TurboScheduler(clock: clock, cost: cost, memory: cost, configuration: configuration)
        let specs = Self.specs()
        var next = 0
        func submit() {
            let spec = specs[next % specs.count]
            let tenant = TenantID("tenant-\(next % tenants)")
            let job = SchedulerJob(id: JobID("job-\(next)"), tenant: tenant, spec: spec, arrival: clock.now.advanced(by: .milliseconds(next % 997)))
            _ = try? scheduler.submit(job)
            next += 1
        }
        for _ in 0..<jobs { submit() }
        var samples: [Double] = []
        samples.reserveCapacity(decisions)
        let timer = ContinuousClock()
        for _ in 0..<decisions {
            let started = timer.now
            let plan = scheduler.nextPlan()
            samples.append((timer.now - started).seconds * 1e6)
            guard let plan else { break }
            clock.advance(by: .milliseconds(50))
            for event in scheduler.planFinished(plan.id, outcome: .completed(engineTime: .milliseconds(50), freeMemoryBytes: nil)) where event.to == .muxing {
                _ = scheduler.outputFinished(event.job, error: nil)
            }
            while scheduler.jobCount < jobs { submit() }
        }
        return samples
    }

    static func specs() -> [ValidatedJob] {
        let validator = JobValidator()
        var result: [ValidatedJob] = []
        let shapes: [(String, String, Int, String?)] = [
            ("wan2.1-t2v-1.3b", "480p", 2, nil), ("wan2.1-t2v-1.3b", "480p", 4, nil), ("wan2.1-t2v-14b", "480p", 4, nil),
            ("wan2.1-t2v-14b", "720p", 4, nil), ("wan2.2-i2v-a14b", "720p", 4, "/tmp/ref.png"), ("wan2.1-t2v-1.3b", "480p", 1, nil),
        ]
        for (index, (model, resolution, steps, image)) in shapes.enumerated() {
            for priority in PriorityClass.allCases {
                let spec = JobSpec(prompt: "a fox", model: model, imagePath: image, resolution: resolution, steps: steps, seed: Int64(index), priority: priority.rawValue)
                if let job = try? validator.validate(spec, randomSeed: { 0 }) { result.append(job) }
            }
        }
        return result
    }

}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
    return value
}

/// `--objective NAME` (default `tail`, the server's default); an unknown name stops the run with the allowed values.
func objectiveOption() -> SchedulingObjective {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--objective") else { return .tail }
    let allowed = SchedulingObjective.allCases.map(\.rawValue).joined(separator: ", ")
    guard index + 1 < arguments.count, let objective = SchedulingObjective(rawValue: arguments[index + 1]) else {
        FileHandle.standardError.write(Data("--objective must be one of: \(allowed)\n".utf8))
        exit(2)
    }
    return objective
}

let jobs = option("--jobs", 10_000), tenants = option("--tenants", 50), decisions = option("--decisions", 6_000)
let objective = objectiveOption()
print("TurboScheduler.nextPlan, steady state, objective \(objective.rawValue) (microseconds; \(decisions) decisions each)")
print("queued jobs  tenants   median      p90      p99")
for (size, tenantCount) in [(100, 5), (1_000, 50), (jobs, tenants)] {
    let samples = try DecisionBenchmark(jobs: size, tenants: tenantCount, decisions: decisions, objective: objective).run().sorted()
    print(String(format: "%11d  %7d  %7.2f  %7.2f  %7.2f", size, tenantCount, percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99)))
}
