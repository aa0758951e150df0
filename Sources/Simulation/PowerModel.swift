/// The energy proxy: the GPU draws `busyWatts` while it computes and `idleWatts` otherwise (waiting, moving
/// weights over PCIe, or waiting for CPU work on the engine path). Defaults: an RTX 5090's 575 W board power and
/// 80 W at idle with models loaded.
public struct PowerModel: Sendable, Hashable, Codable {
    public var busyWatts: Double
    public var idleWatts: Double

    public init(busyWatts: Double = 575, idleWatts: Double = 80) {
        self.busyWatts = busyWatts
        self.idleWatts = idleWatts
    }

    /// Watt-hours over `horizonSeconds` of which `busySeconds` computing.
    public func energyWh(busySeconds: Double, horizonSeconds: Double) -> Double {
        (busySeconds * busyWatts + max(0, horizonSeconds - busySeconds) * idleWatts) / 3_600
    }
}
