import SchedulingCore
import Foundation
import TurboServeDomain

extension CalibratedCostModel {
    /// The derived per-stage costs as a table (printed by `--calibration-check`, copied into docs/benchmarks.md).
    public func describe() -> String {
        let small = ShapeKey(model: Self.smallModel, width: 832, height: 480, frames: 81)
        let large = ShapeKey(model: Self.largeModel, width: 832, height: 480, frames: 81)
        let large720 = ShapeKey(model: Self.largeModel, width: 1280, height: 720, frames: 81)
        let i2v = ShapeKey(model: Self.i2vModel, width: 1280, height: 720, frames: 81)
        func steps(_ shape: ShapeKey, _ expert: Expert = .main) -> String {
            let key = ModelKey(model: shape.model, expert: expert)
            let exponent = stepProfile(for: shape.model).batchExponent
            return [1, 2, 4].map { String(format: "%.2f", stepSeconds(shape: shape, expert: key, batchSize: $0)) }.joined(separator: " / ")
                + String(format: " s (batch 1/2/4; exponent %.2f)", exponent)
        }
        func gb(_ bytes: Int64) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }
        let expert = ModelKey(model: Self.i2vModel, expert: .highNoise)
        let rows: [[String]] = [
            ["denoise step, 1.3B 480p", steps(small)],
            ["denoise step, 14B 480p", steps(large)],
            ["denoise step, 14B 720p", steps(large720)],
            ["denoise step, I2V A14B 720p (per expert)", steps(i2v, .highNoise)],
            ["token exponent (step cost vs tokens)", String(format: "%.3f", tokenExponent)],
            ["text encode (UMT5), 1 / 4 prompts", String(format: "%.2f / %.2f s", admitSeconds(shape: small, task: .textToVideo, batchSize: 1), admitSeconds(shape: small, task: .textToVideo, batchSize: 4))],
            ["image encode (I2V, VAE encode of the clip)", String(format: "%.2f s", decodeSeconds(i2v))],
            ["VAE decode, 480p / 720p", String(format: "%.2f / %.2f s", decodeSeconds(small), decodeSeconds(i2v))],
            ["parse + validate (CPU), T2V 480p / I2V 720p", String(format: "%.2f / %.2f s", parseSeconds(small), parseSeconds(i2v))],
            ["video encode + I/O (CPU), T2V 480p / I2V 720p", String(format: "%.2f / %.2f s", muxSeconds(small), muxSeconds(i2v))],
            ["weight transfer bandwidth (each way)", String(format: "%.2f GB/s + %.2f s per transfer", transferBytesPerSecond / 1e9, transferFixedSeconds)],
            ["load (= unload), 1.3B / one 14B network", String(format: "%.2f / %.2f s", loadSeconds(ModelKey(model: Self.smallModel)), loadSeconds(expert))],
            ["I2V per-request expert swap (upstream)", String(format: "%.2f s (4 transfers)", 2 * (loadSeconds(expert) + unloadSeconds(expert)))],
            ["device memory / shared encoders", "\(gb(deviceMemoryBytes)) / \(gb(sharedBytes))"],
            ["activation per sample, 1.3B 480p / 14B 480p / 14B 720p", "\(gb(activationBytes(shape: small))) / \(gb(activationBytes(shape: large))) / \(gb(activationBytes(shape: i2v)))"],
        ]
        return TextTable.render(header: ["cost model (derived from the calibration file)", "value"], rows: rows)
    }
}
