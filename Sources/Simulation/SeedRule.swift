import SchedulingCore
import TurboServeDomain

/// The published scheduled policy's rules (calibration `scheduled_policy`): priority levels (I2V first, then
/// 4-step jobs, then the rest; FIFO within a level) and a batch size looked up from the free device memory.
public struct SeedRule: Sendable {
    /// `(free GB threshold, batch size)`, highest threshold first: the first row whose threshold the free memory
    /// reaches gives the batch size.
    public var batchSizeByFreeGB: [(threshold: Double, size: Int)]

    public init(batchSizeByFreeGB: [(threshold: Double, size: Int)]) {
        self.batchSizeByFreeGB = batchSizeByFreeGB.sorted { $0.threshold > $1.threshold }
    }

    /// The published table's rows, `[[free GB, batch size]]`.
    public init(published: Calibration.ScheduledPolicy) {
        self.init(batchSizeByFreeGB: published.batchSizeByFreeMemoryGB.compactMap { row in
            row.count == 2 ? (row[0], Int(row[1])) : nil
        })
    }

    /// 0 = most urgent: I2V, then 4-step jobs, then the rest.
    public static func level(of spec: ValidatedJob) -> Int {
        if spec.task == .imageToVideo { return 0 }
        return spec.steps == 4 ? 1 : 2
    }

    public func batchSize(freeBytes: Int64) -> Int {
        let gb = Double(freeBytes) / 1e9
        return max(1, batchSizeByFreeGB.first { gb >= $0.threshold }?.size ?? 1)
    }
}
