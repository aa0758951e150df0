/// How the simulated fleet scales, mirroring the deployed autoscaler (deploy/k8s/components/keda/scaledobject.yaml,
/// docs/deploy.md "How the queue is read"): KEDA asks for `max over classes of ceil(queued / threshold)` workers,
/// where queued counts every job not started (claimed or not); the HPA behaviour then stabilises and rate-limits
/// that recommendation. The defaults are the deployed values; `startupSeconds` (pod start, engine start, first
/// model load before the new worker claims) is a modelling choice, not a deployed setting.
public struct AutoscalerSettings: Sendable, Hashable {
    public var minReplicas = 2
    public var maxReplicas = 10
    /// Queued jobs one worker absorbs, by priority rank (0 interactive, 1 standard, 2 batch).
    public var thresholds = [1, 4, 16]
    /// How often the metric is read and the HPA evaluates (KEDA `pollingInterval`).
    public var pollSeconds = 15.0
    /// Scale up to the smallest recommendation of this window (a two-minute trend).
    public var scaleUpWindowSeconds = 120.0
    /// At most `scaleUpPods` pods added per `scaleUpPeriodSeconds`.
    public var scaleUpPods = 2
    public var scaleUpPeriodSeconds = 60.0
    /// Scale down to the largest recommendation of this window (the cooldown).
    public var scaleDownWindowSeconds = 600.0
    /// At most `scaleDownPods` pods removed per `scaleDownPeriodSeconds`.
    public var scaleDownPods = 1
    public var scaleDownPeriodSeconds = 120.0
    /// Seconds from a pod's creation until its worker claims (image, engine start, model load). GPU time counts
    /// from creation.
    public var startupSeconds = 60.0

    public init() {}

    /// Workers the queue asks for, before stabilisation: max over classes of ceil(queued / threshold), clamped to
    /// [min, max]. `queuedByRank[r]` is the number of jobs of priority rank `r` not started.
    public func recommendation(queuedByRank: [Int]) -> Int {
        var wanted = 0
        for (rank, queued) in queuedByRank.enumerated() where queued > 0 {
            let threshold = max(1, thresholds[min(rank, thresholds.count - 1)])
            wanted = max(wanted, (queued + threshold - 1) / threshold)
        }
        return min(maxReplicas, max(minReplicas, wanted))
    }
}
