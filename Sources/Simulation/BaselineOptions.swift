import SchedulingCore
import TurboServeDomain

/// How a baseline treats stages and residency (the batch rule chooses the work).
public struct BaselineOptions: Sendable {
    /// Parse/validate each job as an `onEnginePath(.parse)` plan before admitting it (upstream's serial server).
    public var parseOnEnginePath = false
    /// Encode + store each video as an `onEnginePath(.mux)` plan (upstream saves the video on the compute path).
    public var muxOnEnginePath = false
    /// Bounded queue: `submit` beyond this throws `queue_full`.
    public var maxQueued = 100_000
    /// Device memory the policy plans against (the shared encoders are taken off it).
    public var deviceMemoryBytes: Int64 = 48_000_000_000
    public var sharedBytes: Int64 = ModelCatalog.sharedComponentBytes
    /// At most this many distinct models resident (nil: as many as fit).
    public var maxResidentModels: Int?
    /// Unload a model unused this long (nil: never).
    public var keepAlive: Duration?
    /// Loaded when the engine has nothing else to do and they fit; exempt from keep-alive.
    public var preload: [ModelKey] = []

    public init() {}
}
