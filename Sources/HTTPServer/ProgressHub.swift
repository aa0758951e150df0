import JobStore
import Synchronization
import TurboServeDomain

/// Follows jobs for live readers (SSE, `POST /v1/videos/sync`) from the store alone, so a reader on any api replica
/// sees the progress of a job any worker runs: each `JobSignal` about a followed job (`changed`, `cancelled`,
/// `queued`, published by whichever process wrote the change) triggers one store read, and every `pollInterval`
/// the store is read anyway, so a lost signal only delays an update.
///
/// One follower per followed job, however many readers it has: a thousand SSE streams on twenty jobs cost twenty
/// reads per signal or poll, not a thousand.
///
/// Guarantees: a subscriber's stream starts with the record as the store has it just after subscribing (so a reader
/// that read the store itself misses no change in between), yields each record that differs from the one before
/// (newest wins: changes between two reads coalesce; a renewed lease alone is no change), and finishes after
/// yielding a terminal record. Dropping the stream ends the subscription; the job's follower ends with its last
/// subscriber.
///
/// Thread-safety: a `Mutex` guards the table of followed jobs (never held while yielding to a reader); `subscribe`
/// may be called from any task. One task consumes the signals, started by the first subscription and kept for the
/// hub's life.
public final class ProgressHub: Sendable {
    /// One reader of a job; `fresh` until it has received its first record.
    private struct Reader {
        let output: AsyncStream<JobRecord>.Continuation
        var fresh = true
    }

    /// A followed job: its readers, and the wake-up of its follower task.
    private struct Followed {
        var readers: [Int: Reader] = [:]
        let poke: AsyncStream<Void>.Continuation
        let follower: Task<Void, Never>
    }

    private let store: any JobStore
    private let signals: any JobSignals
    private let pollInterval: Duration
    private let followed = Mutex<[JobID: Followed]>([:])
    private let nextToken = Atomic<Int>(0)
    private let pump = Mutex<Task<Void, Never>?>(nil)

    /// `pollInterval`: how often a followed job is read when no signal arrives.
    public init(store: any JobStore, signals: any JobSignals, pollInterval: Duration = .seconds(1)) {
        self.store = store
        self.signals = signals
        self.pollInterval = pollInterval
    }

    deinit {
        pump.withLock { $0?.cancel() }
        followed.withLock { table in for entry in table.values { entry.follower.cancel() } }
    }

    /// The changes of job `id` from now on (see the type's guarantees).
    public func subscribe(_ id: JobID) -> AsyncStream<JobRecord> {
        startPump()
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        let (records, output) = AsyncStream.makeStream(of: JobRecord.self, bufferingPolicy: .bufferingNewest(8))
        let poke = followed.withLock { table in
            if table[id] == nil {
                let (pokes, poke) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                table[id] = Followed(poke: poke, follower: Task { [weak self] in await self?.follow(id, pokes: pokes, poke: poke) })
            }
            table[id]!.readers[token] = Reader(output: output)
            return table[id]!.poke
        }
        output.onTermination = { [weak self] _ in self?.drop(reader: token, of: id) }
        poke.yield() // the new reader's first record is read after it subscribed
        return records
    }

    /// Reads job `id` whenever poked (a signal, a new reader) or every `pollInterval`, and hands each read to the
    /// readers that need it: a fresh reader always, the others when the record changed.
    private func follow(_ id: JobID, pokes: AsyncStream<Void>, poke: AsyncStream<Void>.Continuation) async {
        var last: JobRecord?
        var wakeUps = pokes.makeAsyncIterator()
        while !Task.isCancelled {
            let timer = Task { [pollInterval] in
                try? await Task.sleep(for: pollInterval)
                poke.yield()
            }
            let woken = await wakeUps.next() != nil
            timer.cancel()
            guard woken, !Task.isCancelled, let record = try? await store.get(id) else {
                if woken { continue } else { return }
            }
            let changed = last.map { !Self.sameForReaders($0, record) } ?? true
            last = record
            let outputs = followed.withLock { table -> [AsyncStream<JobRecord>.Continuation] in
                guard var entry = table[id] else { return [] }
                var outputs: [AsyncStream<JobRecord>.Continuation] = []
                for (token, reader) in entry.readers where reader.fresh || changed {
                    outputs.append(reader.output)
                    entry.readers[token]?.fresh = false
                }
                table[id] = entry
                return outputs
            }
            for output in outputs {
                output.yield(record)
                if record.phase.isTerminal { output.finish() }
            }
        }
    }

    /// A reader went away; the job's follower ends with its last reader.
    private func drop(reader token: Int, of id: JobID) {
        let ended = followed.withLock { table -> Followed? in
            table[id]?.readers[token] = nil
            guard let entry = table[id], entry.readers.isEmpty else { return nil }
            table[id] = nil
            return entry
        }
        if let ended {
            ended.follower.cancel()
            ended.poke.finish()
        }
    }

    /// Whether two reads of a job differ only in what readers never see (a renewed lease).
    static func sameForReaders(_ a: JobRecord, _ b: JobRecord) -> Bool {
        var (a, b) = (a, b)
        (a.leaseExpiresAt, b.leaseExpiresAt) = (nil, nil)
        return a == b
    }

    /// Open subscriptions (SSE streams and sync waits being followed; tests read it).
    public var subscriberCount: Int { followed.withLock { $0.values.reduce(0) { $0 + $1.readers.count } } }

    /// Jobs with at least one reader (one follower each).
    public var followedJobCount: Int { followed.withLock { $0.count } }

    private func startPump() {
        pump.withLock { task in
            guard task == nil else { return }
            let stream = signals.subscribe()
            task = Task { [weak self] in
                for await signal in stream {
                    guard let self else { return }
                    self.followed.withLock { $0[signal.job]?.poke }?.yield()
                }
            }
        }
    }
}
