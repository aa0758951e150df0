/// The horizontal pod autoscaler's decision, as Kubernetes computes it with a `behavior` section: each evaluation
/// records the raw recommendation; scaling up goes to the *smallest* recommendation of the scale-up window and
/// scaling down to the *largest* of the scale-down window (so a brief spike neither adds nor removes pods); each
/// direction is then rate-limited by its policy (pods per period, counted over the changes of the last period).
/// The 10% tolerance is not modelled (integer recommendations from a threshold rule rarely sit within it).
///
/// A value type owned by the fleet loop; pure apart from the history it keeps.
public struct Autoscaler: Sendable {
    public let settings: AutoscalerSettings
    private var recommendations: [(time: Double, replicas: Int)] = []
    private var changes: [(time: Double, delta: Int)] = []

    public init(settings: AutoscalerSettings) { self.settings = settings }

    /// The replicas to run from `now`, given the replicas now (pods created and not being removed) and the queue.
    public mutating func evaluate(now: Double, current: Int, queuedByRank: [Int]) -> Int {
        let raw = settings.recommendation(queuedByRank: queuedByRank)
        recommendations.append((now, raw))
        let keep = max(settings.scaleUpWindowSeconds, settings.scaleDownWindowSeconds)
        recommendations.removeAll { $0.time < now - keep }
        changes.removeAll { $0.time <= now - max(settings.scaleUpPeriodSeconds, settings.scaleDownPeriodSeconds) }

        let upward = recommendations.filter { $0.time > now - settings.scaleUpWindowSeconds }.map(\.replicas).min() ?? raw
        let downward = recommendations.filter { $0.time > now - settings.scaleDownWindowSeconds }.map(\.replicas).max() ?? raw
        var target = current
        if current < upward {
            let added = changes.filter { $0.delta > 0 && $0.time > now - settings.scaleUpPeriodSeconds }.map(\.delta).reduce(0, +)
            target = min(upward, current + max(0, settings.scaleUpPods - added))
        } else if current > downward {
            let removed = changes.filter { $0.delta < 0 && $0.time > now - settings.scaleDownPeriodSeconds }.map { -$0.delta }.reduce(0, +)
            target = max(downward, current - max(0, settings.scaleDownPods - removed))
        }
        target = min(settings.maxReplicas, max(settings.minReplicas, target))
        if target != current { changes.append((now, target - current)) }
        return target
    }
}
