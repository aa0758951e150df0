import Synchronization

/// A clock whose time moves only when its owner says so: the simulator's event loop and the core's tests.
///
/// Thread-safety: `now` and `advance` are safe from any thread (a `Mutex` guards the time). `sleep` is not
/// supported — nothing in the core sleeps — and throws `CancellationError` at once so misuse is loud.
public final class VirtualClock: Clock, Sendable {
    public typealias Duration = Swift.Duration

    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable, CustomStringConvertible {
        /// Time since the clock's zero.
        public let offset: Swift.Duration
        public init(offset: Swift.Duration) { self.offset = offset }
        public static let zero = Instant(offset: .zero)
        public func advanced(by duration: Swift.Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Swift.Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
        public var seconds: Double { offset.seconds }
        public var description: String { "t+\(offset.seconds)s" }
    }

    private let current: Mutex<Instant>

    public init(now: Instant = .zero) { current = Mutex(now) }

    public var now: Instant { current.withLock { $0 } }
    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    /// Moves time forward (never backward).
    public func advance(by duration: Swift.Duration) {
        precondition(duration >= .zero, "a virtual clock never goes back")
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    /// Moves time to `instant` if it is later than now.
    public func advance(to instant: Instant) {
        current.withLock { if instant > $0 { $0 = instant } }
    }

    public func sleep(until deadline: Instant, tolerance: Swift.Duration?) async throws {
        throw CancellationError()
    }
}
