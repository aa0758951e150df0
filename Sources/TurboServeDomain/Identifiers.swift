/// A job's identity, stable for its whole life (API id `video_…`, store key, engine key).
public struct JobID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }
}

/// The account a job is billed to and shared fairly between. `default` when API keys are off.
public struct TenantID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: TenantID, b: TenantID) -> Bool { a.rawValue < b.rawValue }
    public static let `default` = TenantID("default")
}

/// Priority classes. Each class has an SLO factor: its deadline is `factor × isolated latency of the job's shape`
/// after arrival, unless the request names its own deadline.
public enum PriorityClass: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case interactive
    case standard
    case batch

    public static func < (a: PriorityClass, b: PriorityClass) -> Bool { a.rank < b.rank }
    /// 0 is the most urgent.
    public var rank: Int { switch self { case .interactive: 0; case .standard: 1; case .batch: 2 } }
}

public enum SamplerKind: String, Sendable, Hashable, Codable, CaseIterable {
    case sde
    case ode
}

public enum AttentionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Dense scaled-dot-product attention: works everywhere.
    case original
    /// Sparse-linear attention; needs its GPU kernels.
    case sla
    /// SageAttention-backed SLA; needs its GPU kernels.
    case sagesla
}
