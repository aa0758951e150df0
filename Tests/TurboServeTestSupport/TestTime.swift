import Foundation
import Synchronization

/// Wall time under the test's control, for stores and services that take a `now` closure: starts at a fixed date
/// and moves only on `advance`. Thread-safety: a `Mutex` guards the time; any task may read or advance it.
public final class TestTime: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    public init() {}
    public var now: Date { current.withLock { $0 } }
    public func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}
