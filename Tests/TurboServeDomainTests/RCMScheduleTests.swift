import Testing
@testable import TurboServeDomain

/// Golden values from the reference: RF times for σ_max 80 (T2V) and 200 (I2V), 1–4 steps.
struct RCMScheduleTests {
    @Test func t2vTimesMatchReference() {
        let four = RCMSchedule.times(steps: 4, sigmaMax: 80)
        let expected = [0.98765, 0.93378, 0.85290, 0.60898, 0]
        #expect(four.count == 5)
        for (a, b) in zip(four, expected) { #expect(abs(a - b) < 5e-6) }
        #expect(RCMSchedule.times(steps: 1, sigmaMax: 80).count == 2)
        #expect(abs(RCMSchedule.times(steps: 2, sigmaMax: 80)[1] - 0.93378) < 5e-6)
    }

    @Test func onlyFirstTimeDependsOnSigmaMax() {
        #expect(abs(RCMSchedule.times(steps: 4, sigmaMax: 200)[0] - 0.99502) < 5e-6)
        #expect(abs(RCMSchedule.times(steps: 4, sigmaMax: 1600)[0] - 0.99938) < 5e-6)
        #expect(Array(RCMSchedule.times(steps: 4, sigmaMax: 200).dropFirst()) == Array(RCMSchedule.times(steps: 4, sigmaMax: 80).dropFirst()))
    }

    @Test(arguments: [(4, 2, 2), (3, 2, 1), (2, 2, 0), (1, 1, 0)])
    func i2vExpertSplit(steps: Int, high: Int, low: Int) {
        let plan = RCMSchedule.expertPlan(steps: steps, sigmaMax: 200, boundary: 0.9, experts: [.highNoise, .lowNoise])
        #expect(plan.filter { $0 == .highNoise }.count == high)
        #expect(plan.filter { $0 == .lowNoise }.count == low)
        #expect(plan == plan.sorted()) // high-noise steps all come first
    }
}
