/// Weighted fair share between tenants, as a deadline shift: every tenant with work waiting accumulates normalised
/// service (engine seconds ÷ weight); a tenant ahead of the least-served backlogged tenant by `s` seconds has its
/// jobs' targets shifted `scale × s` later, so under contention service alternates in proportion to the weights,
/// and with a single tenant nothing changes. A tenant that becomes backlogged again starts level with the
/// least-served one (no credit is banked while idle, as in start-time fair queueing).
///
/// Tenants are the scheduler's interned tenant numbers (dense from 0), so a decision reads plain arrays.
/// A value type owned by the scheduler; pure.
struct FairShareLedger {
    let scale: Double
    private(set) var weights: [Double] = []
    private(set) var service: [Double] = []
    private(set) var backlog: [Int] = []

    init(scale: Double) { self.scale = scale }

    /// Makes room for tenant number `tenant` (numbers are handed out in order) with its weight.
    mutating func register(_ tenant: Int, weight: Double) {
        while weights.count <= tenant {
            weights.append(1)
            service.append(0)
            backlog.append(0)
        }
        weights[tenant] = max(1e-6, weight)
    }

    /// Least normalised service among backlogged tenants (0 when none is).
    var floor: Double {
        var least = Double.infinity
        for tenant in backlog.indices where backlog[tenant] > 0 { least = min(least, service[tenant]) }
        return least.isFinite ? least : 0
    }

    mutating func arrived(_ tenant: Int) {
        if backlog[tenant] == 0, backlog.contains(where: { $0 > 0 }) { service[tenant] = max(service[tenant], floor) }
        backlog[tenant] += 1
    }

    mutating func left(_ tenant: Int) {
        if backlog[tenant] > 0 { backlog[tenant] -= 1 }
    }

    mutating func charge(_ tenant: Int, seconds: Double) {
        service[tenant] += seconds / weights[tenant]
    }

    /// The target shift of every tenant given the current `floor`, by tenant number.
    func lags(floor: Double) -> [Duration] {
        guard scale > 0 else { return [Duration](repeating: .zero, count: service.count) }
        return service.map { .seconds(max(0, ($0 - floor) * scale)) }
    }
}
