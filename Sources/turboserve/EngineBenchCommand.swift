import ArgumentParser
import EngineBridge
import Foundation

/// `turboserve engine-bench`: the control-plane overhead around the engine, measured on the real engine process.
/// - round trip: `step` with no jobs, client send → reply decoded, many times;
/// - idle gap: for back-to-back real tiny steps, client round trip minus the engine's own compute time — the time
///   the engine is idle between two steps while work is ready.
struct EngineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Measure Swift↔engine round-trip overhead and the engine's idle gap between steps.")

    @Option(help: "Empty round trips to time.") var calls = 5_000
    @Option(help: "Tiny 4-step jobs to run back to back for the idle gap.") var jobs = 50
    @Option(name: .customLong("data-dir")) var dataDirectory = "./var"

    func run() async throws {
        let locator = try EngineLocator.locate(dataDirectory: dataDirectory)
        try locator.prepare()
        let work = URL(fileURLWithPath: dataDirectory).appendingPathComponent("work").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let (client, hello) = try await locator.start(workDirectory: work, device: "cpu", threads: 1)
        defer { Task { await client.shutdown() } }

        for _ in 0..<200 { _ = try await client.step(model: "tiny-t2v", expert: "main", jobs: []) }
        var roundTrips: [Double] = []
        for _ in 0..<calls {
            let started = ContinuousClock.now
            _ = try await client.step(model: "tiny-t2v", expert: "main", jobs: [])
            roundTrips.append((ContinuousClock.now - started).seconds * 1000)
        }

        _ = try await client.load(model: "tiny-t2v", expert: "main")
        var gaps: [Double] = []
        var computes: [Double] = []
        for index in 0..<(jobs + 5) {
            let id = "bench-\(index)"
            _ = try await client.admit([EngineMessages.AdmitJob(jobId: id, model: "tiny-t2v", prompt: "a fox", imagePath: nil, width: 64, height: 64, frames: 17, fps: 16, steps: 4, seed: Int64(index), sampler: "sde", sigmaMax: 80, boundary: 0.9, adaptiveResolution: false, attention: "original", quantLinear: false)])
            for step in 0..<4 {
                let started = ContinuousClock.now
                let reply = try await client.step(model: "tiny-t2v", expert: "main", jobs: [.init(jobId: id, index: step)])
                let total = (ContinuousClock.now - started).seconds * 1000
                if index >= 5 {  // the first jobs warm up the kernels
                    gaps.append(total - reply.computeTime.seconds * 1000)
                    computes.append(reply.computeTime.seconds * 1000)
                }
            }
            _ = try await client.release([id])
        }
        print("engine: \(hello.device) (\(hello.deviceName)), pid \(hello.pid)")
        print(Self.row("empty step round trip (ms)", roundTrips))
        print(Self.row("idle gap between steps (ms)", gaps))
        print(Self.row("tiny step compute (ms)", computes))
    }

    static func row(_ name: String, _ values: [Double]) -> String {
        let sorted = values.sorted()
        func q(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return String(format: "%-30@ n=%5d  median %.3f  p90 %.3f  p99 %.3f", name as NSString, values.count, q(0.5), q(0.9), q(0.99))
    }
}
