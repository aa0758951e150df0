import Foundation
@testable import Simulation
import Testing
import TurboServeTestSupport

@Suite("Arrival shapes: bursty and diurnal open-loop arrivals")
struct ArrivalShapeTests {
    /// Mean and coefficient of variation of the gaps between consecutive instants.
    func gapStatistics(_ times: [Double]) -> (mean: Double, cv: Double) {
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count)
        return (mean, variance.squareRoot() / mean)
    }

    @Test("cv 3 gives inter-arrival gaps with the asked mean and a coefficient of variation near 3; cv 1 stays Poisson")
    func burstiness() {
        for cv in [1.0, 3.0] {
            var rng = SplitMix64(seed: 11)
            let times = ArrivalShape(cv: cv).arrivalTimes(ratePerSecond: 0.5, durationSeconds: 400_000, rng: &rng)
            let (mean, measured) = gapStatistics(times)
            let meanError: Double = abs(mean - 2) / 2
            let cvError: Double = abs(measured - cv) / cv
            #expect(meanError < 0.05, "mean gap \(mean) for cv \(cv)")
            #expect(cvError < 0.12, "measured cv \(measured) for cv \(cv)")
        }
    }

    @Test("a diurnal cycle keeps the mean rate and puts peak_to_trough times more arrivals around the peak than the trough")
    func diurnal() {
        var rng = SplitMix64(seed: 5)
        let shape = ArrivalShape(peakToTrough: 4, periodSeconds: 86_400)
        let times = shape.arrivalTimes(ratePerSecond: 0.2, durationSeconds: 86_400 * 4, rng: &rng)
        let expected: Double = 86_400 * 4 * 0.2
        let countError: Double = abs(Double(times.count) / expected - 1)
        #expect(countError < 0.03)
        #expect(times == times.sorted())
        let phase = times.map { $0.truncatingRemainder(dividingBy: 86_400) / 86_400 }
        let trough = phase.filter { $0 < 0.05 || $0 > 0.95 }.count
        let peak = phase.filter { abs($0 - 0.5) < 0.05 }.count
        let ratio = Double(peak) / Double(trough)
        #expect(ratio > 3.3 && ratio < 4.7, "peak/trough arrivals \(ratio)")
    }

    @Test("the workload format reads cv, peak_to_trough and period_s, and refuses cv below 1 naming the field")
    func format() throws {
        let folder = try ScratchFolder("ts-shape")
        defer { folder.remove() }
        try FileManager.default.copyItem(at: TestSupport.workloads.appendingPathComponent("seed-mix.json"), to: folder.file("seed-mix.json"))
        func write(_ arrivals: String) throws -> URL {
            let file = folder.file("w.json")
            try #"{"name":"w","calibration":"calibration-rtx5090.json","arrivals":\#(arrivals),"classes_from":"seed-mix.json"}"#.write(to: file, atomically: true, encoding: .utf8)
            return file
        }
        let bursty = try Workload.load(from: write(#"{"kind":"poisson","rate_per_s":0.03,"cv":3,"peak_to_trough":2,"period_s":3600,"duration_s":3600,"rng_seed":1}"#))
        #expect(bursty.arrivals == .poisson(ratePerSecond: 0.03, durationSeconds: 3600, seed: 1, shape: ArrivalShape(cv: 3, peakToTrough: 2, periodSeconds: 3600)))
        let plain = try Workload.load(from: write(#"{"kind":"poisson","rate_per_s":0.03,"duration_s":3600,"rng_seed":1}"#))
        #expect(plain.arrivals == .poisson(ratePerSecond: 0.03, durationSeconds: 3600, seed: 1))
        #expect { try Workload.load(from: write(#"{"kind":"poisson","rate_per_s":0.03,"cv":0.5,"duration_s":3600,"rng_seed":1}"#)) } throws: { error in
            "\(error)".contains("`cv`")
        }
    }
}
