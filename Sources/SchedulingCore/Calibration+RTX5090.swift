import Foundation

extension Calibration {
    /// The name workload files give the repository's calibration (`"calibration": "calibration-rtx5090.json"`):
    /// a workload naming it gets `rtx5090`, whatever file lies beside it, so the simulator, the tests and `serve`
    /// all price work from this one copy. A workload naming any other file loads that file.
    public static let rtx5090Name = "calibration-rtx5090.json"

    /// The calibration every cost figure of TurboServe is derived from: what TurboDiffusion measured on one RTX 5090
    /// (`../shared/workloads/calibration-rtx5090.json`, kept here verbatim so nothing reads it from outside the
    /// repository). `CalibratedCostModel(calibration:)` derives the per-stage costs; `CostProfile` serves them.
    public static let rtx5090: Calibration = {
        do { return try JSONDecoder().decode(Calibration.self, from: Data(rtx5090JSON.utf8)) } catch {
            preconditionFailure("the repository's calibration does not decode: \(error)")
        }
    }()

    static let rtx5090JSON = #"""
{
  "gpu": {"name": "RTX 5090", "memory_gb": 48},
  "source": "measurements published with the multi-task scheduling study of TurboDiffusion (single task, end to end, sagesla attention)",
  "isolated_runs": [
    {"model": "wan2.1-t2v-1.3b", "resolution": "480p", "frames": 81, "steps": 2, "latency_s": 3.7,  "memory_gb": 11.2},
    {"model": "wan2.1-t2v-1.3b", "resolution": "480p", "frames": 81, "steps": 4, "latency_s": 6.1,  "memory_gb": 11.8},
    {"model": "wan2.1-t2v-14b",  "resolution": "480p", "frames": 81, "steps": 4, "latency_s": 18.3, "memory_gb": 39.5},
    {"model": "wan2.2-i2v-a14b", "resolution": "720p", "frames": 81, "steps": 4, "latency_s": 110.0, "memory_gb": 40.1}
  ],
  "i2v_cold_start_share": 0.15,
  "serial_time_shares": {
    "request_parsing_and_validation": 0.05,
    "model_switch_and_cache_load": 0.12,
    "video_encoding_and_io": 0.15,
    "core_compute": 0.68
  },
  "diffusion_only_latency_s": {
    "wan2.1-t2v-1.3b/480p/4": 1.9,
    "wan2.1-t2v-14b/480p/4": 9.9,
    "wan2.1-t2v-14b/720p/4": 24.0,
    "wan2.2-i2v-a14b/720p/4": 38.0
  },
  "published_experiment": {
    "load": "10 concurrent users submitting a mix of T2V, T2V-HQ and I2V",
    "serial": {"mean_response_s": 48.3, "p95_response_s": 92.1, "sm_utilisation": 0.584, "videos_per_wh": 1.0, "memory_jitter_sd_gb": 12.7},
    "scheduled": {"mean_response_s": 21.7, "p95_response_s": 43.6, "sm_utilisation": 0.832, "videos_per_wh": 2.3, "memory_jitter_sd_gb": 6.3},
    "scheduled_policy": {
      "priority": "i2v first, then 4-step jobs, then the rest; FIFO within a level",
      "batching": "same-model requests share each denoise step",
      "batch_size_by_free_memory_gb": [[35, 4], [20, 3], [10, 2], [0, 1]],
      "model_cache": {"max_size": 2, "keep_alive_s": 300, "preload": ["wan2.1-t2v-1.3b", "wan2.2-i2v-a14b"]},
      "video_saving": "asynchronous, off the compute path"
    }
  },
  "attention_types": {"sagesla": "fastest, least memory", "sla": "middle", "original": "slowest, most memory"},
  "memory_guidance": [
    {"gpu_memory_gb": "12-16", "model": "wan2.1-t2v-1.3b", "resolution": "480p", "batch": 1, "attention": "sagesla + quant_linear"},
    {"gpu_memory_gb": "24", "model": "wan2.1-t2v-1.3b", "resolution": "720p", "batch": 2, "attention": "sagesla"},
    {"gpu_memory_gb": "40+", "model": "wan2.1-t2v-14b", "resolution": "720p", "batch": 3, "attention": "original"}
  ],
  "quant_linear_i2v_memory_gb": 24
}
"""#
}
