import Synchronization
import TurboServeDomain

/// A change to a job that another process may need to act on, told by the store that made it.
public enum JobSignal: Sendable, Hashable {
    /// A job entered the shared queue (created, released, rescued): idle workers look for work.
    case queued(JobID)
    /// A client cancelled a job: its holder frees the job's engine state.
    case cancelled(JobID)
    /// Any other change of a job's record (a step, a stage, completion, failure): live readers (SSE) read it again.
    case changed(JobID)

    public var job: JobID {
        switch self {
        case .queued(let id), .cancelled(let id), .changed(let id): id
        }
    }
}

/// How this process hears of job changes made anywhere: by this process, or by another sharing the database.
///
/// Guarantees: delivery is best effort and at most once; a subscriber that falls behind loses the oldest signals.
/// Consumers therefore also poll the store (a lost signal only delays). Signals are published by the store after
/// the change is durable (PostgreSQL: `NOTIFY` inside the writing transaction, delivered at commit), so a reader
/// that acts on one finds the change in the store.
public protocol JobSignals: Sendable {
    /// Every signal published from now on, until the stream is dropped.
    func subscribe() -> AsyncStream<JobSignal>
}

/// The in-process twin (SQLite, the in-memory store, `serve`): the store publishes each change here after its
/// transaction commits; subscribers in the same process receive it.
///
/// Thread-safety: a `Mutex` guards the subscriber table; `publish` and `subscribe` may be called from any task.
public final class LocalJobSignals: JobSignals {
    private let subscribers = Mutex<[Int: AsyncStream<JobSignal>.Continuation]>([:])
    private let nextToken = Atomic<Int>(0)
    private let buffer: Int

    /// `buffer`: signals kept per subscriber before the oldest are dropped.
    public init(buffer: Int = 1024) { self.buffer = buffer }

    public func publish(_ signal: JobSignal) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(signal) }
    }

    public func subscribe() -> AsyncStream<JobSignal> {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        let (stream, continuation) = AsyncStream.makeStream(of: JobSignal.self, bufferingPolicy: .bufferingNewest(buffer))
        subscribers.withLock { $0[token] = continuation }
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { $0[token] = nil } }
        return stream
    }

    /// Open subscriptions (a metrics gauge, and for tests).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}

extension JobSignal {
    /// The signal a store publishes after writing `record` (one rule for every backend): `cancelled` for a
    /// cancelled job, `queued` for a job in the shared queue (queued and unheld: created, released, rescued),
    /// `changed` for anything else (a step, a stage, a retry kept by its worker, an ending).
    public init(after record: JobRecord) {
        if record.phase == .cancelled {
            self = .cancelled(record.id)
        } else if record.phase == .queued, record.workerID == nil {
            self = .queued(record.id)
        } else {
            self = .changed(record.id)
        }
    }

    /// The text form carried by a PostgreSQL notification: `kind:job-id`.
    public var payload: String {
        switch self {
        case .queued(let id): "queued:\(id.rawValue)"
        case .cancelled(let id): "cancelled:\(id.rawValue)"
        case .changed(let id): "changed:\(id.rawValue)"
        }
    }

    /// Parses `payload`; nil for text no store wrote.
    public init?(payload: String) {
        guard let colon = payload.firstIndex(of: ":") else { return nil }
        let id = JobID(String(payload[payload.index(after: colon)...]))
        switch payload[..<colon] {
        case "queued": self = .queued(id)
        case "cancelled": self = .cancelled(id)
        case "changed": self = .changed(id)
        default: return nil
        }
    }
}
