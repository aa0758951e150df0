/// The shape of a simulated fleet: how many engines, how much each may claim ahead, the claim's affinity bound,
/// and, optionally, an autoscaler that adds and removes engines over the run.
public struct FleetOptions: Sendable, Hashable {
    /// Engines at time 0 (each one GPU with its own policy instance). With an autoscaler: ignored, the fleet
    /// starts at its `minReplicas`.
    public var engines: Int
    /// The most jobs an engine holds (claimed, unfinished): `2 × scheduler.max_batch_size` in a fleet.
    public var claimWindow: Int
    /// `scheduler.affinity_wait_seconds`.
    public var affinityWaitSeconds: Double
    public var autoscaler: AutoscalerSettings?

    public init(engines: Int = 1, claimWindow: Int = 16, affinityWaitSeconds: Double = 10, autoscaler: AutoscalerSettings? = nil) {
        precondition(engines > 0 && claimWindow > 0, "a fleet needs at least one engine and room to claim")
        self.engines = engines
        self.claimWindow = claimWindow
        self.affinityWaitSeconds = affinityWaitSeconds
        self.autoscaler = autoscaler
    }
}

/// One reading of the fleet at an autoscaler evaluation (or every `AutoscalerSettings.pollSeconds` for a fixed
/// fleet): the pods asked for, the engines claiming, and the jobs not started.
public struct FleetSample: Sendable, Hashable, Codable {
    public var time: Double
    public var replicas: Int
    public var ready: Int
    public var queued: Int
}

/// The record of one fleet run.
public struct FleetResult: Sendable {
    public var policy: String
    public var jobs: [JobOutcome]
    /// Engine seconds by activity, summed over the engines.
    public var activitySeconds: [EngineActivity: Double]
    /// GPU seconds paid for: each engine from its creation (start-up included) until it stopped or the horizon.
    public var gpuSeconds: Double
    /// Engines that ever existed, and the most at one time.
    public var enginesCreated: Int
    public var peakEngines: Int
    /// When each job was claimed, by job id (once, unless a full policy queue handed it back).
    public var claimTimes: [String: [Double]]
    public var modelLoads: Int
    public var samples: [FleetSample]
    public var durationSeconds: Double
    public var horizonSeconds: Double
    public var wallSeconds: Double

    public var gpuHours: Double { gpuSeconds / 3_600 }
    /// How many times each job was claimed.
    public var claimsPerJob: [String: Int] { claimTimes.mapValues(\.count) }
}
