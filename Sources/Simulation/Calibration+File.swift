import Foundation
import SchedulingCore

extension Calibration {
    /// Reads a calibration file (`turboserve bench --calibration FILE`); the repository's own is `Calibration.rtx5090`.
    /// Throws `WorkloadError` naming the file (`unreadable` when it cannot be read).
    public static func load(from url: URL) throws -> Calibration {
        try Workload.decode(Calibration.self, from: url)
    }
}
