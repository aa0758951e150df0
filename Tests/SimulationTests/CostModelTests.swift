import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain

@Suite("Calibrated cost model")
struct CostModelTests {
    @Test("the serial policy reproduces every isolated run of the calibration file within 5%")
    func isolatedRuns() throws {
        let check = try CalibrationCheck(calibration: TestSupport.calibration())
        #expect(check.rows.count == 4)
        for row in check.rows {
            #expect(abs(row.errorPercent) <= 5, "\(row.model) \(row.steps) steps: measured \(row.measuredSeconds) s, simulated \(row.simulatedSeconds) s")
        }
        #expect(check.passed)
    }

    @Test("the cost model's isolated latency matches the calibration within 5%")
    func isolatedLatency() throws {
        let calibration = try TestSupport.calibration()
        let cost = try CalibratedCostModel(calibration: calibration)
        for run in calibration.isolatedRuns {
            let job = try WorkloadClass(name: "x", weight: 1, model: run.model, resolution: run.resolution, frames: run.frames, steps: run.steps, priority: "standard", sloFactor: 1).validatedJob(seed: 0, deadlineSeconds: nil)
            #expect(abs(cost.isolatedSeconds(of: job) / run.latencySeconds - 1) <= 0.05)
        }
    }

    @Test("the serial time shares on seed-mix are within 3 points of the calibration's")
    func serialShares() throws {
        let check = try CalibrationCheck(calibration: TestSupport.calibration(), workload: TestSupport.workload("seed-mix.json"))
        #expect(check.shares.count == 4)
        for share in check.shares {
            #expect(abs(share.simulated - share.measured) <= 0.03, "\(share.name): measured \(share.measured), simulated \(share.simulated)")
        }
    }

    @Test("batching: sublinear for the 1.3B at 480p, nearly linear for the 14B; I2V cold start is 15% of I2V")
    func batching() throws {
        let cost = try TestSupport.cost()
        let small = ShapeKey(model: "wan2.1-t2v-1.3b", width: 832, height: 480, frames: 81)
        let large = ShapeKey(model: "wan2.1-t2v-14b", width: 832, height: 480, frames: 81)
        let one = cost.stepSeconds(shape: small, expert: ModelKey(model: small.model), batchSize: 1)
        #expect(cost.stepSeconds(shape: small, expert: ModelKey(model: small.model), batchSize: 4) < 2.5 * one)
        let big = cost.stepSeconds(shape: large, expert: ModelKey(model: large.model), batchSize: 1)
        #expect(cost.stepSeconds(shape: large, expert: ModelKey(model: large.model), batchSize: 4) > 3.5 * big)
        let expert = ModelKey(model: "wan2.2-i2v-a14b", expert: .highNoise)
        #expect(abs(4 * cost.loadSeconds(expert) / 110 - 0.15) < 0.005)
    }

    @Test("memory: the 1.3B fits beside one 14B network, two 14B networks never fit together")
    func memory() throws {
        let cost = try TestSupport.cost()
        let capacity = cost.deviceMemoryBytes - cost.sharedBytes
        let small = cost.weightBytes(ModelKey(model: "wan2.1-t2v-1.3b"))
        let big = cost.weightBytes(ModelKey(model: "wan2.1-t2v-14b"))
        let i2v720 = ShapeKey(model: "wan2.2-i2v-a14b", width: 1280, height: 720, frames: 81)
        #expect(small + big + cost.activationBytes(shape: i2v720) <= capacity)
        #expect(2 * big > capacity)
    }
}
