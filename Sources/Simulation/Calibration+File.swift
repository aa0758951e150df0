import Foundation
import SchedulingCore

extension Calibration {
    /// Reads a calibration file (`turboserve bench --calibration FILE`); the repository's own is `Calibration.rtx5090`.
    public static func load(from url: URL) throws -> Calibration {
        return try JSONDecoder().decode(Calibration.self, from: Data(contentsOf: url))
    }
}
