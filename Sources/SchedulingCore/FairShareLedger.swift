import TurboServeDomain

/// Weighted fair share between tenants, as a deadline shift: every tenant with work waiting accumulates normalised
/// service (engine seconds ÷ weight); a tenant ahead of the least-served backlogged tenant by `s` seconds has its
/// jobs' deadlines shifted `scale × s` later, so under contention service alternates in proportion to the weights,
/// and with a single tenant nothing changes. A tenant that becomes backlogged again starts level with the
/// least-served one (no credit is banked while idle, as in start-time fair queueing).
///
/// A value type owned by the scheduler; pure.
struct FairShareLedger {
    let weights: [TenantID: Double]
    let scale: Double
    private(set) var service: [TenantID: Double] = [:]
    private(set) var backlog: [TenantID: Int] = [:]

    init(weights: [TenantID: Double], scale: Double) {
        self.weights = weights
        self.scale = scale
    }

    /// Least normalised service among backlogged tenants (0 when none is).
    var floor: Double { backlog.keys.lazy.map { service[$0] ?? 0 }.min() ?? 0 }

    mutating func arrived(_ tenant: TenantID) {
        if backlog[tenant, default: 0] == 0 {
            let level = floor
            service[tenant] = max(service[tenant] ?? 0, backlog.isEmpty ? (service[tenant] ?? 0) : level)
        }
        backlog[tenant, default: 0] += 1
    }

    mutating func left(_ tenant: TenantID) {
        guard let count = backlog[tenant] else { return }
        backlog[tenant] = count > 1 ? count - 1 : nil
    }

    mutating func charge(_ tenant: TenantID, seconds: Double) {
        service[tenant, default: 0] += seconds / max(1e-6, weights[tenant] ?? 1)
    }

    /// The deadline shift of `tenant` given the current `floor`.
    func lag(_ tenant: TenantID, floor: Double) -> Duration {
        guard scale > 0 else { return .zero }
        return .seconds(max(0, ((service[tenant] ?? 0) - floor) * scale))
    }
}
