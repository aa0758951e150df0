import Foundation
import SchedulingCore
@testable import Simulation
import TurboServeDomain

/// Locates the workload files (the repository's `bench/`, and the shared originals beside the repository) and builds
/// small setups.
extension WorkloadClass {
    func with(model: String) -> WorkloadClass {
        var copy = self
        copy.model = model
        return copy
    }
}

enum TestSupport {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The repository's workload folder (`bench/`), which holds the shared seed-mix and poisson-sweep as they are.
    static var workloads: URL { repository.appendingPathComponent("bench") }

    /// The shared workload folder (`../shared/workloads`), else `/work/shared/workloads`: only for the tests that
    /// check the repository's copies against it.
    static var sharedWorkloads: URL {
        let beside = repository.deletingLastPathComponent().appendingPathComponent("shared/workloads")
        if FileManager.default.fileExists(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: "/work/shared/workloads")
    }

    static func workload(_ name: String) throws -> Workload {
        try Workload.load(from: workloads.appendingPathComponent(name))
    }

    /// The repository's calibration (the one source every cost figure is derived from).
    static func calibration() throws -> Calibration { .rtx5090 }

    static func cost() throws -> CalibratedCostModel { try CalibratedCostModel(calibration: calibration()) }

    static let t2v = WorkloadClass(name: "t2v", weight: 0.5, model: "wan2.1-t2v-1.3b", resolution: "480p", steps: 2, priority: "interactive", sloFactor: 3)
    static let hq14 = WorkloadClass(name: "t2v-hq-14b", weight: 0.3, model: "wan2.1-t2v-14b", resolution: "480p", steps: 4, priority: "standard", sloFactor: 3)
    static let i2v = WorkloadClass(name: "i2v", weight: 0.2, model: "wan2.2-i2v-a14b", resolution: "720p", steps: 4, priority: "batch", sloFactor: 3)

    /// A short open-loop run: `count` jobs cycling through the three classes, one every `gap` seconds.
    static func smallSetup(count: Int = 12, gap: Double = 5) throws -> SimulationSetup {
        let arrivals = (0..<count).map { ScheduledArrival(time: Double($0) * gap, classIndex: $0 % 3) }
        return SimulationSetup(classes: [t2v, hq14, i2v], arrivals: .open(arrivals, durationSeconds: Double(count) * gap), cost: try cost(), deadlines: [11.1, 54.9, 330])
    }
}
