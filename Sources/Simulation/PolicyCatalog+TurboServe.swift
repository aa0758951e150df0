import SchedulingCore
import TurboServeDomain

extension PolicyCatalog {
    /// TurboServe's own scheduler; joins the catalog once the scheduling core provides it.
    static var extraNames: [String] { [] }

    static func extraEntry(named name: String, calibration: Calibration) -> PolicyEntry? { nil }
}
