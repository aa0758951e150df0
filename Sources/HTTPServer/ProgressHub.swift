import JobStore
import Synchronization
import TurboServeDomain

/// Fans job updates out to live subscribers (the SSE endpoint). The worker publishes every record it persists;
/// each subscriber gets the updates of one job, newest wins if it falls behind, and its stream ends after the job
/// reaches a terminal state.
///
/// Thread-safety: a `Mutex` guards the subscriber table; `publish` and `subscribe` may be called from any task.
public final class ProgressHub: Sendable {
    private let subscribers = Mutex<[JobID: [Int: AsyncStream<JobRecord>.Continuation]]>([:])
    private let nextToken = Atomic<Int>(0)

    public init() {}

    public func publish(_ record: JobRecord) {
        let continuations = subscribers.withLock { table in
            let list = table[record.id].map { Array($0.values) } ?? []
            if record.phase.isTerminal { table[record.id] = nil }
            return list
        }
        for continuation in continuations {
            continuation.yield(record)
            if record.phase.isTerminal { continuation.finish() }
        }
    }

    public func subscribe(_ id: JobID) -> AsyncStream<JobRecord> {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        let (stream, continuation) = AsyncStream.makeStream(of: JobRecord.self, bufferingPolicy: .bufferingNewest(8))
        subscribers.withLock { $0[id, default: [:]][token] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { table in
                table[id]?[token] = nil
                if table[id]?.isEmpty == true { table[id] = nil }
            }
        }
        return stream
    }

    /// Open SSE streams (a metrics gauge).
    public var subscriberCount: Int { subscribers.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
