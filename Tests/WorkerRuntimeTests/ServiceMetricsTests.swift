import EngineBridge
import Foundation
import JobStore
import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// The gauges an operator's dashboard and alerts read, exported as the dashboard expects them.
@Suite struct ServiceMetricsTests {
    static func telemetry(_ json: String) throws -> EngineMessages.GpuTelemetry {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(EngineMessages.GpuTelemetry.self, from: Data(json.utf8))
    }

    @Test func gpuReadingsBecomeOneSeriesPerDeviceAndMissingReadingsStayAbsent() throws {
        let metrics = ServiceMetrics()
        metrics.gpuTelemetry(try Self.telemetry("""
            {"available": true, "source": "fake", "devices": [
              {"index": 0, "device": "cuda:0", "utilization_percent": 87.5, "memory_used_bytes": 1000, "memory_total_bytes": 4000,
               "temperature_celsius": 71, "power_watts": 301.5, "energy_joules": 12345},
              {"index": 1, "device": "cuda:1", "utilization_percent": 10, "memory_used_bytes": 5, "memory_total_bytes": 9}]}
            """), worker: "w0")
        let text = metrics.exposition()
        #expect(text.contains(#"turboserve_gpu_utilization_ratio{worker="w0",device="cuda:0"} 0.875"#))
        #expect(text.contains(#"turboserve_gpu_memory_used_bytes{worker="w0",device="cuda:0"} 1000.0"#))
        #expect(text.contains(#"turboserve_gpu_memory_total_bytes{worker="w0",device="cuda:1"} 9.0"#))
        #expect(text.contains(#"turboserve_gpu_temperature_celsius{worker="w0",device="cuda:0"} 71.0"#))
        #expect(text.contains(#"turboserve_gpu_power_watts{worker="w0",device="cuda:0"} 301.5"#))
        #expect(text.contains(#"turboserve_gpu_energy_joules_total{worker="w0",device="cuda:0"} 12345.0"#))
        // cuda:1 reports no temperature, power or energy: those series are absent, not zero
        #expect(!text.contains(#"turboserve_gpu_temperature_celsius{worker="w0",device="cuda:1"}"#))
        #expect(!text.contains(#"turboserve_gpu_power_watts{worker="w0",device="cuda:1"}"#))
    }

    /// An alert on `rate(turboserve_jobs_total{status="failed"}[5m])` must see the first failure: the series exists
    /// at 0 before it, for every class, enabled model and final status, and counts from there.
    @Test func finishedJobCountersExistAtZeroBeforeTheFirstJob() throws {
        let metrics = ServiceMetrics()
        metrics.expectJobs(models: ["tiny-t2v", "tiny-i2v"])
        let text = metrics.exposition()
        for model in ["tiny-t2v", "tiny-i2v"] {
            for priority in PriorityClass.allCases {
                for status in ["succeeded", "failed", "cancelled"] {
                    #expect(text.contains(#"turboserve_jobs_total{class="\#(priority.rawValue)",model="\#(model)",status="\#(status)"} 0"#), "\(priority) \(model) \(status)")
                }
            }
        }
        #expect(!text.contains(#"status="queued""#))
    }

    @Test func aCPUEngineExportsNoGPUSeries() throws {
        let metrics = ServiceMetrics()
        metrics.gpuTelemetry(try Self.telemetry(#"{"available": false, "reason": "no NVIDIA driver (NVML not found)"}"#), worker: "w0")
        #expect(!metrics.exposition().contains("turboserve_gpu_"))
    }

    @Test func queueDepthReadsZeroForADrainedSliceAndCountsEachModel() async throws {
        let store = InMemoryJobStore()
        let metrics = ServiceMetrics()
        let validator = JobValidator()
        _ = try await store.create(NewJob(id: "a", spec: try validator.validate(JobSpec(prompt: "x", model: "wan2.1-t2v-1.3b", priority: "interactive"), randomSeed: { 0 })))
        await metrics.refresh(store: store, busyRatio: nil, models: ["tiny-t2v"])
        var text = metrics.exposition()
        #expect(text.contains(#"turboserve_queue_depth_jobs{class="interactive",model="wan2.1-t2v-1.3b"} 1.0"#))
        #expect(text.contains(#"turboserve_queue_depth_jobs{class="batch",model="tiny-t2v"} 0.0"#))
        _ = try await store.cancel("a")
        await metrics.refresh(store: store, busyRatio: nil)
        text = metrics.exposition()
        #expect(text.contains(#"turboserve_queue_depth_jobs{class="interactive",model="wan2.1-t2v-1.3b"} 0.0"#))
    }

    /// A replica that loses the store-wide duty stops exporting queue depth and unfinished counts (another process
    /// now does), rather than leaving its last reading to be summed or maxed as a stale duplicate; its own gauges stay.
    @Test func storeWideGaugesAreWithdrawnWhenTheProcessNoLongerExportsThem() async throws {
        let store = InMemoryJobStore()
        let metrics = ServiceMetrics()
        _ = try await store.create(NewJob(id: "a", spec: try JobValidator().validate(JobSpec(prompt: "x", model: "tiny-t2v"), randomSeed: { 0 })))
        await metrics.refresh(store: store, busyRatio: 0.5, models: ["tiny-t2v"])
        #expect(metrics.exposition().contains("turboserve_queue_depth_jobs{"))
        #expect(metrics.exposition().contains(#"turboserve_unfinished_jobs{phase="queued"} 1.0"#))

        await metrics.refresh(store: nil, busyRatio: 0.25, models: ["tiny-t2v"])
        var text = metrics.exposition()
        #expect(!text.contains("turboserve_queue_depth_jobs{"))
        #expect(!text.contains("turboserve_unfinished_jobs{"))
        #expect(text.contains("turboserve_engine_busy_ratio 0.25"))

        await metrics.refresh(store: store, busyRatio: nil, models: ["tiny-t2v"])
        text = metrics.exposition()
        #expect(text.contains(#"turboserve_unfinished_jobs{phase="queued"} 1.0"#), "taking the duty back exports them again")
    }

    @Test func freeDiskIsReadFromTheDataDirectorysFilesystem() async throws {
        let metrics = ServiceMetrics()
        await metrics.refresh(store: InMemoryJobStore(), busyRatio: nil, diskPath: NSTemporaryDirectory())
        let line = try #require(metrics.exposition().split(separator: "\n").first { $0.hasPrefix("turboserve_disk_free_bytes{") })
        let value = try #require(Double(line.split(separator: " ").last ?? ""))
        #expect(value > 0)
    }
}
