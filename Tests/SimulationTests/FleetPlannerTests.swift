import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain

@Suite struct FleetPlannerTests {
    /// The three test classes over a short window, so each fleet run is small.
    static func planner(durationSeconds: Double, arrivals: Workload.Arrivals) throws -> FleetPlanner {
        let workload = Workload(name: "fleet-test", arrivals: arrivals, classes: [TestSupport.t2v, TestSupport.hq14, TestSupport.i2v], calibration: try TestSupport.calibration())
        let runner = try BenchRunner(workload: workload, policies: ["turboserve"])
        var planner = FleetPlanner(runner: runner, policy: try #require(runner.policies.first), durationSeconds: durationSeconds)
        planner.maxEngines = 12
        return planner
    }

    @Test("the planner's fleet grows with the rate, and each answer meets the target while N − 1 does not")
    func monotone() throws {
        let planner = try Self.planner(durationSeconds: 900, arrivals: .poissonSweep(rateFactors: [1], durationSeconds: 900, seed: 11))
        let answers = planner.plan(factors: [1, 3, 6], capacity: planner.runner.serialCapacity(jobs: 60))
        let sizes = answers.compactMap(\.engines)
        #expect(sizes.count == 3)
        #expect(sizes == sizes.sorted())
        #expect(sizes.last! > sizes.first!)
        for answer in answers {
            #expect(try #require(answer.atEngines).sloAttainment >= planner.target)
            if let below = answer.belowEngines { #expect(below.sloAttainment < planner.target) }
        }
    }

    @Test("the autoscaled fleet stays within its replicas, claims only after the start-up delay, and pays fewer GPU-hours than the fixed peak fleet over a day")
    func autoscaledDay() throws {
        // A compressed "day" of two hours: trough at 0, peak at one hour, four times the trough.
        let day = 7_200.0
        let planner = try Self.planner(durationSeconds: day, arrivals: .poisson(ratePerSecond: 0.12, durationSeconds: day, seed: 5, shape: ArrivalShape(peakToTrough: 4, periodSeconds: day)))
        var settings = AutoscalerSettings()
        settings.minReplicas = 1
        settings.maxReplicas = 6
        settings.startupSeconds = 240
        let setup = planner.setup(ratePerSecond: 0.12)
        var scaled = planner
        scaled.options.autoscaler = settings
        let autoscaled = scaled.run(setup, engines: 1)
        let samples = autoscaled.samples
        #expect(samples.allSatisfy { $0.replicas <= settings.maxReplicas && $0.replicas >= settings.minReplicas })
        let firstScaleUp = try #require(samples.first { $0.replicas > settings.minReplicas }).time
        let firstReady = try #require(samples.first { $0.ready > settings.minReplicas }).time
        #expect(firstReady - firstScaleUp >= settings.startupSeconds)
        let peak = autoscaled.peakEngines
        #expect(peak > settings.minReplicas)
        let fixed = planner.run(setup, engines: peak)
        #expect(autoscaled.gpuHours < fixed.gpuHours)
        #expect(autoscaled.claimsPerJob.values.allSatisfy { $0 == 1 })
    }
}

@Suite struct AutoscalerTests {
    @Test("the recommendation is the most any class asks for, clamped to the replicas allowed")
    func recommendation() {
        var settings = AutoscalerSettings()
        settings.maxReplicas = 10
        #expect(settings.recommendation(queuedByRank: [0, 0, 0]) == 2)
        #expect(settings.recommendation(queuedByRank: [3, 9, 17]) == 3)
        #expect(settings.recommendation(queuedByRank: [0, 21, 0]) == 6)
        #expect(settings.recommendation(queuedByRank: [50, 0, 0]) == 10)
    }

    @Test("scale-up waits for a two-minute trend, adds at most two pods a minute and never passes the maximum")
    func scaleUp() {
        var scaler = Autoscaler(settings: AutoscalerSettings())
        var replicas = 2
        var history: [(Double, Int)] = []
        for tick in 0...80 {
            let now = Double(tick) * 15
            replicas = scaler.evaluate(now: now, current: replicas, queuedByRank: [40, 0, 0])
            history.append((now, replicas))
        }
        // Every recommendation in the window asks for 10, so the first evaluation may already grow by the policy.
        #expect(history.allSatisfy { $0.1 <= 10 })
        for (now, count) in history {
            let minuteAgo = history.last { $0.0 <= now - 60 }?.1 ?? 2
            #expect(count - minuteAgo <= 2)
        }
        #expect(replicas == 10)
        // A single spike after a quiet spell does not add a pod: the window's smallest recommendation is 2.
        var quiet = Autoscaler(settings: AutoscalerSettings())
        for tick in 0..<10 { _ = quiet.evaluate(now: Double(tick) * 15, current: 2, queuedByRank: [0, 0, 0]) }
        #expect(quiet.evaluate(now: 150, current: 2, queuedByRank: [40, 0, 0]) == 2)
    }

    @Test("scale-down waits out the cooldown, then removes one pod every two minutes")
    func scaleDown() {
        var scaler = Autoscaler(settings: AutoscalerSettings())
        var replicas = 8
        _ = scaler.evaluate(now: 0, current: replicas, queuedByRank: [8, 0, 0])
        var removedAt: [Double] = []
        for tick in 1...120 {
            let now = Double(tick) * 15
            let next = scaler.evaluate(now: now, current: replicas, queuedByRank: [0, 0, 0])
            if next < replicas { removedAt.append(now) }
            #expect(replicas - next <= 1)
            replicas = next
        }
        #expect(removedAt.first! >= 600)
        #expect(zip(removedAt, removedAt.dropFirst()).allSatisfy { $1 - $0 >= 120 })
        #expect(replicas == 2)
    }
}
