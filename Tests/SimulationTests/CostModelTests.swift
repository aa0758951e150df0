import Foundation
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

/// One cost profile: `serve` prices real models exactly as the simulator's TurboServe engine does, from the one
/// calibration the repository keeps.
@Suite("One cost profile for the simulator and serve")
struct CostProfileTests {
    @Test("the repository's calibration is the shared workloads' file, decoded (when that file is beside the repository)")
    func embeddedCalibrationMatchesTheSharedFile() throws {
        let file = TestSupport.sharedWorkloads.appendingPathComponent(Calibration.rtx5090Name)
        try #require(FileManager.default.fileExists(atPath: file.path), "no shared workloads beside the repository to compare with")
        #expect(try Calibration.load(from: file) == Calibration.rtx5090)
    }

    @Test("serve's prior for every real model and stage is the simulator's streamed-engine cost model")
    func servingProfileIsTheSimulatorsDerivation() throws {
        var simulated = try CalibratedCostModel(calibration: .rtx5090)
        simulated.transfers = .streamed
        let serving = CostProfile.serving
        let validator = JobValidator()
        for (model, size, image) in [("wan2.1-t2v-1.3b", "832x480", nil), ("wan2.1-t2v-14b", "1280x720", nil), ("wan2.2-i2v-a14b", "1280x720", "/tmp/x.png")] as [(String, String, String?)] {
            let job = try validator.validate(JobSpec(prompt: "p", model: model, imagePath: image, size: size, steps: 4, seed: 1), randomSeed: { 0 })
            let shape = job.shapeKey
            let expert = ModelKey(model: model, expert: job.expertPlan[0])
            #expect(serving.isolatedLatency(of: job) == simulated.isolatedLatency(of: job))
            for batch in [1, 2, 4] { #expect(serving.stepTime(shape: shape, expert: expert, batchSize: batch) == simulated.stepTime(shape: shape, expert: expert, batchSize: batch)) }
            #expect(serving.admitTime(shape: shape, task: job.task, batchSize: 2) == simulated.admitTime(shape: shape, task: job.task, batchSize: 2))
            #expect(serving.decodeTime(shape: shape) == simulated.decodeTime(shape: shape))
            #expect(serving.loadTime(expert) == simulated.loadTime(expert))
            #expect(serving.outputTime(shape: shape) == simulated.outputTime(shape: shape))
        }
        let tiny = try validator.validate(JobSpec(prompt: "p", model: "tiny-t2v", size: "64x64", frames: 17, steps: 4, seed: 1), randomSeed: { 0 })
        let tinyStep = serving.stepTime(shape: tiny.shapeKey, expert: ModelKey(model: "tiny-t2v", expert: .main), batchSize: 1).seconds
        #expect(abs(tinyStep - 0.005) < 1e-9, "tiny models use the measured CPU profile (5 ms at 64×64×17), not the GPU's")
    }
}
