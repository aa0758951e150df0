import JobStore
import Synchronization
import TurboServeDomain

/// Follows jobs for live readers (SSE, `POST /v1/videos/sync`) from the store alone, so a reader on any api replica
/// sees the progress of a job any worker runs: each `JobSignal` about a followed job (`changed`, `cancelled`,
/// `queued`, published by whichever process wrote the change) triggers one store read, and every `pollInterval`
/// the store is read anyway, so a lost signal only delays an update.
///
/// Guarantees: a subscriber's stream starts with the record as the store has it just after subscribing (so a reader
/// that read the store itself misses no change in between), yields each record that differs from the one before
/// (newest wins: changes between two reads coalesce; a renewed lease alone is no change), and finishes after yielding a terminal record. Dropping the
/// stream ends its follower.
///
/// Thread-safety: a `Mutex` guards the table of followed jobs; `subscribe` may be called from any task. One task
/// consumes the signals, started by the first subscription and kept for the hub's life.
public final class ProgressHub: Sendable {
    private let store: any JobStore
    private let signals: any JobSignals
    private let pollInterval: Duration
    /// Per followed job, the wake-up of each of its subscribers.
    private let followers = Mutex<[JobID: [Int: AsyncStream<Void>.Continuation]]>([:])
    private let nextToken = Atomic<Int>(0)
    private let pump = Mutex<Task<Void, Never>?>(nil)

    /// `pollInterval`: how often a followed job is read when no signal arrives.
    public init(store: any JobStore, signals: any JobSignals, pollInterval: Duration = .seconds(1)) {
        self.store = store
        self.signals = signals
        self.pollInterval = pollInterval
    }

    deinit { pump.withLock { $0?.cancel() } }

    /// The changes of job `id` from now on (see the type's guarantees).
    public func subscribe(_ id: JobID) -> AsyncStream<JobRecord> {
        startPump()
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        let (pokes, poke) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        followers.withLock { $0[id, default: [:]][token] = poke }
        let (records, output) = AsyncStream.makeStream(of: JobRecord.self, bufferingPolicy: .bufferingNewest(8))
        let (store, pollInterval) = (self.store, self.pollInterval)
        let follower = Task {
            var last: JobRecord?
            var pokes = pokes.makeAsyncIterator()
            poke.yield()
            while !Task.isCancelled {
                let timer = Task {
                    try? await Task.sleep(for: pollInterval)
                    poke.yield()
                }
                _ = await pokes.next()
                timer.cancel()
                guard !Task.isCancelled else { break }
                guard let record = try? await store.get(id), last.map({ !Self.sameForReaders($0, record) }) ?? true else { continue }
                last = record
                output.yield(record)
                if record.phase.isTerminal { break }
            }
            output.finish()
        }
        output.onTermination = { [weak self] _ in
            follower.cancel()
            poke.finish()
            self?.followers.withLock { table in
                table[id]?[token] = nil
                if table[id]?.isEmpty == true { table[id] = nil }
            }
        }
        return records
    }

    /// Whether two reads of a job differ only in what readers never see (a renewed lease).
    static func sameForReaders(_ a: JobRecord, _ b: JobRecord) -> Bool {
        var (a, b) = (a, b)
        (a.leaseExpiresAt, b.leaseExpiresAt) = (nil, nil)
        return a == b
    }

    /// Open subscriptions (a metrics gauge, and for tests).
    public var subscriberCount: Int { followers.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    private func startPump() {
        pump.withLock { task in
            guard task == nil else { return }
            let stream = signals.subscribe()
            task = Task { [weak self] in
                for await signal in stream {
                    guard let self else { return }
                    let pokes = self.followers.withLock { $0[signal.job].map { Array($0.values) } ?? [] }
                    for poke in pokes { poke.yield() }
                }
            }
        }
    }
}
