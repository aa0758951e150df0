/// The figures of one fleet run as the planner tables report them. Attainment counts every arrived job (missed,
/// failed and unfinished jobs count as missed); busy fraction is engine compute time ÷ GPU time paid for.
public struct FleetSummary: Sendable, Hashable, Codable {
    public var policy: String
    /// The fleet: "N engines" or "autoscaled".
    public var fleet: String
    public var jobsArrived: Int
    public var jobsCompleted: Int
    public var sloAttainment: Double
    public var sloAttainmentByClass: [String: Double]
    public var meanResponseSeconds: Double
    public var p95ResponseSeconds: Double
    public var p99ResponseSeconds: Double
    public var busyFraction: Double
    public var gpuHours: Double
    public var peakEngines: Int
    public var modelLoads: Int
    public var wallSeconds: Double

    public init(_ result: FleetResult, fleet: String, classes: [String]) {
        let responses = result.jobs.compactMap(\.response).sorted()
        policy = result.policy
        self.fleet = fleet
        jobsArrived = result.jobs.count
        jobsCompleted = result.jobs.filter { $0.status == .succeeded }.count
        sloAttainment = PolicySummary.attainment(result.jobs)
        sloAttainmentByClass = Dictionary(uniqueKeysWithValues: classes.compactMap { name in
            let jobs = result.jobs.filter { $0.className == name }
            return jobs.isEmpty ? nil : (name, PolicySummary.attainment(jobs))
        })
        meanResponseSeconds = PolicySummary.mean(responses)
        p95ResponseSeconds = PolicySummary.percentile(responses, 0.95)
        p99ResponseSeconds = PolicySummary.percentile(responses, 0.99)
        busyFraction = (result.activitySeconds[.compute] ?? 0) / max(result.gpuSeconds, 1e-9)
        gpuHours = result.gpuHours
        peakEngines = result.peakEngines
        modelLoads = result.modelLoads
        wallSeconds = result.wallSeconds
    }
}
