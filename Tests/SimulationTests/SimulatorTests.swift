import Foundation
import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain
import TurboServeTestSupport

@Suite("Simulator and bench reports")
struct SimulatorTests {
    /// seed-mix shortened to 15 minutes.
    func shortSeedMix(seconds: Double = 900) throws -> Workload {
        var workload = try TestSupport.workload("seed-mix.json")
        workload.arrivals = .closedLoop(users: 10, thinkSeconds: 120, durationSeconds: seconds, seed: 20_261_123)
        return workload
    }

    @Test("the same seed gives identical results twice, for every policy")
    func deterministic() throws {
        let runner = try BenchRunner(workload: shortSeedMix())
        let first = runner.run(), second = runner.run()
        #expect(first.map(\.jobs) == second.map(\.jobs))
        #expect(first.map(\.timeline) == second.map(\.timeline))
        #expect(first.allSatisfy { !$0.jobs.isEmpty })
    }

    @Test("turboserve finishes every seed-mix job, and the simulated engine never refuses one of its plans")
    func turboserveKeepsItsMemoryPlan() throws {
        let result = try BenchRunner(workload: TestSupport.workload("seed-mix.json"), policies: ["turboserve"]).run()[0]
        #expect(result.failedPlans == 0, "a step, load or admit that does not fit or names a missing expert is refused")
        #expect(!result.jobs.isEmpty)
        #expect(result.jobs.allSatisfy { $0.status == .succeeded })
        #expect(result.stepSamples > result.stepCalls, "it batched")
    }

    @Test("a different seed gives different arrivals")
    func otherSeed() throws {
        let a = try BenchRunner(workload: shortSeedMix(), policies: ["serial"]).run()
        let b = try BenchRunner(workload: shortSeedMix(), policies: ["serial"], seed: 99).run()
        #expect(a[0].jobs.map(\.arrival) != b[0].jobs.map(\.arrival))
    }

    @Test("closed loop: each user's requests are numbered in arrival order, and the k-th is the same class under every policy")
    func sameRequests() throws {
        let results = try BenchRunner(workload: shortSeedMix()).run()
        var classes: [[Int]: String] = [:]
        var paired = 0
        for result in results {
            let byUser = Dictionary(grouping: result.jobs) { $0.user ?? -1 }
            #expect(byUser.keys.allSatisfy { $0 >= 0 }, "every closed-loop request names its user")
            for (_, requests) in byUser {
                #expect(requests.map { $0.request ?? 0 } == Array(1...requests.count), "\(result.policy): numbered 1, 2, … in arrival order")
            }
            for job in result.jobs {
                let key = [job.user ?? -1, job.request ?? 0]
                if let seen = classes[key] {
                    paired += 1
                    #expect(seen == job.className, "\(result.policy): request \(key) is \(job.className), elsewhere \(seen)")
                } else {
                    classes[key] = job.className
                }
            }
        }
        #expect(paired > 100, "most requests are sent under more than one policy")
    }

    @Test("closed loop: a refused request is an answer: its user thinks and asks its next request, numbered on",
          arguments: [[], [PlanAction.OnPathWork.parse]] as [Set<PlanAction.OnPathWork>])
    func refusedRequestsKeepTheLoopGoing(onEnginePath: Set<PlanAction.OnPathWork>) throws {
        // With parsing on the engine's path a request is submitted, and may be refused, the moment it arrives.
        let workload = try shortSeedMix(seconds: 1_800)
        let runner = try BenchRunner(workload: workload)
        var setup = runner.setup()
        setup.stagesOnEnginePath = onEnginePath
        let clock = VirtualClock()
        var configuration = PolicyCatalog.turboConfiguration(setup: setup, published: runner.workload.calibration.publishedExperiment.scheduledPolicy)
        configuration.maxQueued = 1
        let result = Simulator.run(TurboScheduler(name: "one-slot", clock: clock, cost: setup.cost, memory: setup.cost, configuration: configuration),
                                   clock: clock, setup: setup)

        let refused = result.jobs.filter { $0.status == .rejected }
        #expect(!refused.isEmpty, "a one-job queue refuses some of ten users' requests")
        #expect(result.jobs.allSatisfy { $0.status == .succeeded || $0.status == .rejected }, "every request is answered")
        for job in refused {
            let finished = try #require(job.finished)
            #expect(job.firstService == nil && finished >= job.arrival, "\(job.id): refused before any engine work")
        }
        for (user, requests) in Dictionary(grouping: result.jobs, by: { $0.user ?? -1 }) {
            #expect(requests.map { $0.request ?? 0 } == Array(1...requests.count), "user \(user): numbered 1, 2, … through refusals")
            for (earlier, later) in zip(requests, requests.dropFirst()) {
                #expect(later.arrival > (earlier.finished ?? .infinity), "user \(user): asks again only after the answer to request \(earlier.request ?? 0)")
            }
        }
        let afterRefusal = refused.filter { job in result.jobs.contains { $0.user == job.user && $0.request == (job.request ?? 0) + 1 } }
        #expect(!afterRefusal.isEmpty, "some user asked again after a refusal")
    }

    @Test("results.json is keyed by policy with the required figures")
    func resultsJSON() throws {
        let report = BenchReport.make(runner: try BenchRunner(workload: shortSeedMix(seconds: 600)))
        let object = try #require(try JSONSerialization.jsonObject(with: report.resultsJSON()) as? [String: Any])
        #expect(Set(object.keys) == Set(PolicyCatalog.names))
        for (_, value) in object {
            let entry = try #require(value as? [String: Any])
            for key in ["mean_response_s", "p95_response_s", "p99_response_s", "slo_attainment", "busy_fraction", "model_loads", "jobs_completed"] {
                #expect(entry[key] != nil, "missing \(key)")
            }
        }
        #expect(report.text.contains("mean response (s)"))
    }

    @Test("a sweep reports rate_per_s / slo_attainment per point and goodput_per_s")
    func sweepJSON() throws {
        var workload = try TestSupport.workload("poisson-sweep.json")
        workload.arrivals = .poissonSweep(rateFactors: [0.3, 1.2], durationSeconds: 600, seed: 7)
        let report = BenchReport.make(runner: try BenchRunner(workload: workload, policies: ["serial", "dynamic-batch"]))
        let object = try #require(try JSONSerialization.jsonObject(with: report.resultsJSON()) as? [String: Any])
        let serial = try #require(object["serial"] as? [String: Any])
        let sweep = try #require(serial["sweep"] as? [[String: Any]])
        #expect(sweep.count == 2)
        #expect(sweep.allSatisfy { $0["rate_per_s"] is Double && $0["slo_attainment"] is Double })
        #expect(serial["goodput_per_s"] is Double)
    }

    @Test("report files: results.json, CSV and SVG figures labelled simulated")
    func files() throws {
        let report = BenchReport.make(runner: try BenchRunner(workload: shortSeedMix(seconds: 300), policies: ["serial", "seed"]))
        let scratch = try ScratchFolder("ts-bench")
        defer { scratch.remove() }
        let folder = scratch.file("report")  // made by `write`
        let names = Set(try report.write(to: folder).map(\.lastPathComponent))
        #expect(names.isSuperset(of: ["results.json", "summary.csv", "jobs.csv", "timeline.svg", "timeline-serial.svg", "timeline-seed.svg", "batch-sizes.svg", "responses.svg"]))
        let svg = try String(contentsOf: folder.appendingPathComponent("timeline.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("simulated") && svg.hasSuffix("</svg>\n"))
        // The batch-size figure draws each policy's shares: serial never batches, so its batch-1 bar is the whole axis.
        let batches = try String(contentsOf: folder.appendingPathComponent("batch-sizes.svg"), encoding: .utf8)
        #expect(batches.contains("simulated") && batches.contains("serial (mean 1.00)") && batches.contains("serial, batch 1: 100.0%"))
        // The response figure names each policy's P95 and P99, and the floor's, as the summaries have them.
        let responses = try String(contentsOf: folder.appendingPathComponent("responses.svg"), encoding: .utf8)
        for summary in report.summaries {
            #expect(responses.contains(String(format: "%@ (P95 %.0f s, P99 %.0f s)", summary.policy, summary.p95ResponseSeconds, summary.p99ResponseSeconds)))
        }
        #expect(responses.contains(String(format: "floor (P95 %.0f s)", report.summaries[0].p95FloorSeconds)))
    }

    @Test("the response figure's curve steps down from every request to the slowest one, in time order")
    func responseCurve() {
        let curve = ResponseFigure.curve([3, 1, 2].sorted())
        #expect(curve.map(\.seconds) == [0, 1, 1, 2, 2, 3])
        let third: Double = 1.0 / 3
        let expected: [Double] = [1, 1, 2 * third, 2 * third, third, third]
        #expect(curve.map(\.share) == expected)
        #expect(ResponseFigure.curve([]).isEmpty)
    }

    @Test("the engine refuses a step whose expert is not resident")
    func engineChecks() throws {
        var engine = SimulatedEngine(cost: try TestSupport.cost())
        let spec = try TestSupport.t2v.validatedJob(seed: 0, deadlineSeconds: nil)
        _ = engine.perform(.admit(jobs: ["a"], model: spec.model), specs: ["a": spec], now: 0)
        let refused = engine.perform(.step(expert: ModelKey(model: spec.model), steps: [JobStep(job: "a", index: 0, total: 2)]), specs: ["a": spec], now: 0)
        guard case .failed = refused.outcome else {
            Issue.record("expected a failed step, got \(refused.outcome)")
            return
        }
        _ = engine.perform(.load(ModelKey(model: spec.model)), specs: [:], now: 0)
        let done = engine.perform(.step(expert: ModelKey(model: spec.model), steps: [JobStep(job: "a", index: 0, total: 2)]), specs: ["a": spec], now: 0)
        #expect(done.seconds > 1 && done.activity == .compute)
    }
}
