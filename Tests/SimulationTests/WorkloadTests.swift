import Foundation
import SchedulingCore
@testable import Simulation
import Testing
import TurboServeDomain
import TurboServeTestSupport

@Suite("Workload files")
struct WorkloadTests {
    @Test("seed-mix: closed loop, four classes with weights, calibration resolved beside the file")
    func seedMix() throws {
        let workload = try TestSupport.workload("seed-mix.json")
        #expect(workload.name == "seed-mix")
        #expect(workload.arrivals == .closedLoop(users: 10, thinkSeconds: 120, durationSeconds: 3600, seed: 20_261_123))
        #expect(workload.classes.map(\.name) == ["t2v", "t2v-hq", "t2v-hq-14b", "i2v"])
        #expect(abs(workload.classes.map(\.weight).reduce(0, +) - 1) < 1e-9)
        #expect(workload.classes[3].model == "wan2.2-i2v-a14b")
        #expect(workload.calibration.isolatedRuns.count == 4)
        #expect(workload.calibration.publishedExperiment.scheduledPolicy.modelCache.keepAliveSeconds == 300)
    }

    @Test("poisson-sweep: rate factors, classes taken from seed-mix.json, SLO target")
    func poissonSweep() throws {
        let workload = try TestSupport.workload("poisson-sweep.json")
        guard case let .poissonSweep(factors, duration, seed) = workload.arrivals else {
            Issue.record("expected a poisson sweep, got \(workload.arrivals)")
            return
        }
        #expect(factors == [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4])
        #expect(duration == 3600 && seed == 7)
        #expect(workload.classes == (try TestSupport.workload("seed-mix.json")).classes)
        #expect(workload.sloAttainmentTarget == 0.9)
    }

    @Test("every class becomes a valid request with the deadline set on it")
    func classesValidate() throws {
        for workloadClass in try TestSupport.workload("seed-mix.json").classes {
            let job = try workloadClass.validatedJob(seed: 1, deadlineSeconds: 12)
            #expect(job.model == workloadClass.model && job.steps == workloadClass.steps && job.deadlineSeconds == 12)
        }
    }

    @Test("the workloads under bench/ need nothing outside the repository: each names the repository's calibration and takes its classes from bench/")
    func benchWorkloadsAreSelfContained() throws {
        let folder = TestSupport.workloads
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 9, "\(files)")
        for name in files {
            let url = folder.appendingPathComponent(name)
            let raw = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], "\(name)")
            #expect(raw["calibration"] as? String == Calibration.rtx5090Name, "\(name) names \(String(describing: raw["calibration"]))")
            if let source = raw["classes_from"] as? String {
                #expect(files.contains(source), "\(name) takes its classes from \(source), not a file beside it in bench/")
            }
            let workload = try Workload.load(from: url)
            #expect(workload.calibration == .rtx5090 && !workload.classes.isEmpty, "\(name)")
        }
    }

    @Test("the shared workloads kept under bench/ are the shared files as they are", arguments: ["seed-mix.json", "poisson-sweep.json"])
    func benchCopiesAreTheSharedOnes(name: String) throws {
        let copy = try Data(contentsOf: TestSupport.workloads.appendingPathComponent(name))
        #expect(copy == (try Data(contentsOf: TestSupport.sharedWorkloads.appendingPathComponent(name))), "bench/\(name) differs from ../shared/workloads/\(name)")
    }

    @Test("a file with an unknown arrivals kind is refused with the field named")
    func badKind() throws {
        let classes = #"[{"name":"t2v","weight":1,"model":"wan2.1-t2v-1.3b","resolution":"480p","aspect_ratio":"16:9","frames":81,"steps":2,"priority":"interactive","slo_factor":3}]"#
        let json = #"{"name":"bad","calibration":"calibration-rtx5090.json","arrivals":{"kind":"burst","duration_s":10,"rng_seed":1},"classes":\#(classes)}"#
        let error = #expect(throws: WorkloadError.self) { try Self.load(json) }
        #expect(error?.message.contains("arrivals.kind 'burst'") == true, "\(String(describing: error))")
        #expect(error?.message.contains("allowed: closed_loop, poisson, poisson_sweep") == true)
    }

    @Test("absolute calibration and classes_from paths are read as written, not under the file's folder")
    func absolutePaths() throws {
        let calibration = TestSupport.sharedWorkloads.appendingPathComponent("calibration-rtx5090.json").path
        let classes = TestSupport.workloads.appendingPathComponent("seed-mix.json").path
        let workload = try Self.load(#"{"name":"probe","calibration":"\#(calibration)","arrivals":{"kind":"poisson","rate_per_s":0.01,"duration_s":60,"rng_seed":1},"classes_from":"\#(classes)"}"#)
        #expect(workload.classes == (try TestSupport.workload("seed-mix.json")).classes)
        #expect(workload.calibration.isolatedRuns.count == 4)
    }

    @Test("a class the server would refuse is refused when the file loads, naming the class and the field")
    func invalidClass() throws {
        let classes = #"[{"name":"i2v-small","weight":1,"model":"wan2.2-i2v-a14b","resolution":"480p","aspect_ratio":"16:9","frames":81,"steps":2,"priority":"batch","slo_factor":3}]"#
        let error = #expect(throws: WorkloadError.self) {
            try Self.load(#"{"name":"i2v-480p","calibration":"calibration-rtx5090.json","arrivals":{"kind":"poisson","rate_per_s":0.01,"duration_s":60,"rng_seed":1},"classes":\#(classes)}"#)
        }
        #expect(error?.message.contains("class 'i2v-small'") == true)
        #expect(error?.message.contains("resolution") == true)
    }

    /// Files a typo makes unusable: each must be refused when it loads, naming the field, rather than crash the run
    /// (a negative `slo_factor` did) or make one that never ends (`rate_per_s` 1e9 did).
    @Test("a file out of range is refused, naming the field", arguments: [
        (#""slo_factor":-2"#, #""kind":"poisson","rate_per_s":0.01,"duration_s":60"#, "slo_factor"),
        (#""slo_factor":0"#, #""kind":"poisson","rate_per_s":0.01,"duration_s":60"#, "slo_factor"),
        (#""slo_factor":3"#, #""kind":"poisson","rate_per_s":1e9,"duration_s":3600"#, "rate_per_s"),
        (#""slo_factor":3"#, #""kind":"poisson","rate_per_s":0.01,"duration_s":0"#, "duration_s"),
        (#""slo_factor":3"#, #""kind":"poisson","rate_per_s":0.01,"duration_s":1e9"#, "duration_s"),
        (#""slo_factor":3"#, #""kind":"closed_loop","users":1000000,"think_s_mean":5,"duration_s":60"#, "users"),
        (#""slo_factor":3"#, #""kind":"poisson_sweep","rate_factors":[0.5,1000],"duration_s":60"#, "rate_factors"),
    ])
    func outOfRange(slo: String, arrivals: String, field: String) throws {
        let classes = #"[{"name":"t2v","weight":1,"model":"wan2.1-t2v-1.3b","resolution":"480p","aspect_ratio":"16:9","frames":81,"steps":2,"priority":"interactive",\#(slo)}]"#
        let error = #expect(throws: WorkloadError.self) {
            try Self.load(#"{"name":"typo","calibration":"calibration-rtx5090.json","arrivals":{\#(arrivals),"rng_seed":1},"classes":\#(classes)}"#)
        }
        #expect(error?.message.contains(field) == true, "\(String(describing: error))")
    }

    /// Loads `json` as a workload file in a fresh temporary folder (removed afterwards), so relative paths in it
    /// resolve to nothing but what the test names.
    static func load(_ json: String) throws -> Workload {
        try withScratchFolder("ts-sim") { folder in
            let file = folder.file("workload.json")
            try json.write(to: file, atomically: true, encoding: .utf8)
            return try Workload.load(from: file)
        }
    }

    @Test("the seeded generator is reproducible and roughly uniform")
    func rng() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        let xs = (0..<1000).map { _ in a.unit() }
        #expect(xs == (0..<1000).map { _ in b.unit() })
        #expect(abs(xs.reduce(0, +) / 1000 - 0.5) < 0.05)
        var c = SplitMix64(seed: 7)
        let counts = (0..<10_000).reduce(into: [0, 0]) { counts, _ in counts[c.weightedIndex([0.8, 0.2])] += 1 }
        #expect(abs(Double(counts[0]) / 10_000 - 0.8) < 0.02)
    }
}
