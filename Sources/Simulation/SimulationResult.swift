/// What happened to one job in a simulated run. Times are seconds on the simulated clock.
public struct JobOutcome: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case succeeded, failed, cancelled
        /// Refused by the policy's bounded queue.
        case rejected
        /// Still in the system when the simulation stopped.
        case unfinished
    }

    public var id: String
    public var classIndex: Int
    public var className: String
    public var arrival: Double
    /// Deadline in seconds after arrival, if the class has one.
    public var deadline: Double?
    /// First time the engine worked on the job (admitted or first step).
    public var firstService: Double?
    public var finished: Double?
    public var status: Status
    /// In a closed loop, which user sent the request (from 0) and which of that user's requests it is (from 1). The
    /// k-th request of a user is the same class under every policy, so these pair a request across runs.
    public var user: Int?
    public var request: Int?

    /// Arrival → video stored; only for succeeded jobs.
    public var response: Double? {
        guard status == .succeeded, let finished else { return nil }
        return finished - arrival
    }

    /// Arrival → first engine work.
    public var queueWait: Double? { firstService.map { $0 - arrival } }

    /// Succeeded within its deadline (a job without a deadline counts as met when it succeeds).
    public var metDeadline: Bool {
        guard let response else { return false }
        guard let deadline else { return true }
        return response <= deadline + 1e-9
    }
}

/// One stretch of engine time doing one kind of thing.
public struct EngineInterval: Sendable, Hashable, Codable {
    public var start: Double
    public var end: Double
    public var activity: EngineActivity
}

/// The raw record of one simulated run: every job's outcome, the engine timeline and counters.
public struct SimulationResult: Sendable {
    public var policy: String
    public var jobs: [JobOutcome]
    /// Non-idle engine intervals in time order (idle is the gaps), adjacent ones of the same activity merged.
    public var timeline: [EngineInterval]
    /// Length of the arrival window.
    public var durationSeconds: Double
    /// Last job completion or the arrival window's end, whichever is later: the denominator of fractions.
    public var horizonSeconds: Double
    public var activitySeconds: [EngineActivity: Double]
    /// Engine-path seconds by stage ("parse", "switch", "mux", "compute").
    public var stageSeconds: [String: Double]
    /// CPU seconds spent off the engine path by the gateway (parse) and the output pipeline (mux).
    public var offPathParseSeconds: Double
    public var offPathMuxSeconds: Double
    public var modelLoads: Int
    public var modelUnloads: Int
    public var stepCalls: Int
    public var stepSamples: Int
    /// Step calls by batch size.
    public var stepCallsBySize: [Int: Int] = [:]
    public var failedPlans: Int
    /// Wall-clock seconds the simulation took.
    public var wallSeconds: Double
}
