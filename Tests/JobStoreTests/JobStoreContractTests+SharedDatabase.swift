import Foundation
import JobStore
import Synchronization
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// Several processes on one database (api replicas and workers of a fleet): instances of a store that share a
/// database see one queue, hand each job to one worker, rescue each other's expired jobs, and tell each other of
/// changes through `JobSignals`.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func twoInstancesClaimDisjointJobsUnderContention(backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(time: time, count: 2, in: scratch)
        for i in 0..<60 { _ = try await stores[i % 2].create(NewJob(id: JobID("j\(i)"), spec: Fixtures.spec())) }
        let claims = try await withThrowingTaskGroup(of: (String, [JobID]).self) { group in
            for worker in 0..<4 {
                let store = stores[worker % 2]
                group.addTask {
                    var mine: [JobID] = []
                    while true {
                        let batch = try await store.claim(worker: "w\(worker)", limit: 2, lease: .seconds(60))
                        if batch.isEmpty { return ("w\(worker)", mine) }
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [String: [JobID]]()) { $0[$1.0] = $1.1 }
        }
        let all = claims.values.flatMap { $0 }
        #expect(all.count == 60 && Set(all).count == 60)
        for (worker, jobs) in claims {
            for id in jobs { #expect(try await stores[1].get(id)?.workerID == worker) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func anotherInstanceRescuesAnExpiredLeaseAndTheFormerHolderLearnsIt(backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(time: time, count: 2, in: scratch)
        let (workerSide, rescuerSide) = (stores[0], stores[1])
        _ = try await workerSide.create(NewJob(id: "v", spec: Fixtures.spec()))
        _ = try await workerSide.claim(worker: "a", limit: 1, lease: .seconds(10))
        _ = try await workerSide.advance("v", worker: "a", to: .admitted, reason: nil)
        time.advance(9)
        #expect(try await rescuerSide.rescueExpired(maxAttempts: 3).isEmpty)
        time.advance(2)
        #expect(try await rescuerSide.rescueExpired(maxAttempts: 3) == ["v"])
        #expect(try await rescuerSide.claim(worker: "b", limit: 1, lease: .seconds(10)).map(\.id) == ["v"])
        let beat = try await workerSide.heartbeat(worker: "a", holding: ["v"], lease: .seconds(10), activity: nil)
        #expect(beat.renewed == 0 && beat.lost[JobID("v")]??.workerID == "b")
        let record = try #require(try await workerSide.get("v"))
        #expect(record.attempts == 1 && record.phase == .queued)
        #expect(try await workerSide.events(of: "v").last?.reasonCode == TurboServeError.Code.leaseExpired.rawValue)
    }

    @Test(arguments: StoreBackend.available)
    func aHeartbeatReturnsAJobCancelledThroughAnotherInstance(backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(time: time, count: 2, in: scratch)
        _ = try await stores[0].create(NewJob(id: "v", spec: Fixtures.spec()))
        _ = try await stores[0].claim(worker: "w", limit: 1, lease: .seconds(30))
        _ = try await stores[0].advance("v", worker: "w", to: .admitted, reason: nil)
        _ = try await stores[1].cancel("v")
        let beat = try await stores[0].heartbeat(worker: "w", holding: ["v"], lease: .seconds(30), activity: nil)
        #expect(beat.renewed == 0)
        #expect(beat.lost[JobID("v")]??.phase == .cancelled)
    }

    @Test(arguments: StoreBackend.available)
    func signalsReachAListenerOnAnotherConnectionAfterEachCommit(backend: StoreBackend) async throws {
        let (store, signals, ready) = try await backend.makeSignalled(time: time, in: scratch)
        #expect(await eventually { ready() }, "the listener never started listening")
        let heard = SignalRecorder(signals)
        _ = try await store.create(NewJob(id: "v", spec: Fixtures.spec()))
        #expect(await heard.reaches([.queued("v")]))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        _ = try await store.advance("v", worker: "w", to: .admitted, reason: nil)
        #expect(await heard.reaches([.queued("v"), .changed("v")]))
        _ = try await store.release("v", worker: "w", reason: "draining")
        _ = try await store.cancel("v")
        #expect(await heard.reaches([.queued("v"), .changed("v"), .queued("v"), .cancelled("v")]))
        // A refused write publishes nothing: the next signal is the next accepted change.
        #expect(await #expect(throws: TurboServeError.self) { try await store.advance("v", worker: "w", to: .admitted, reason: nil) }?.code == .jobNotHeld)
        _ = try await store.create(NewJob(id: "w2", spec: Fixtures.spec()))
        #expect(await heard.reaches([.queued("v"), .changed("v"), .queued("v"), .cancelled("v"), .queued("w2")]))
    }
}

/// Records every signal a `JobSignals` delivers, for tests to wait on.
final class SignalRecorder: Sendable {
    private final class Heard: Sendable { let signals = Mutex<[JobSignal]>([]) }
    private let heard = Heard()
    private let task: Task<Void, Never>

    init(_ signals: any JobSignals) {
        let stream = signals.subscribe()
        task = Task { [heard] in for await signal in stream { heard.signals.withLock { $0.append(signal) } } }
    }

    deinit { task.cancel() }

    /// Whether the signals heard become exactly `expected` (in order) within ten seconds.
    func reaches(_ expected: [JobSignal]) async -> Bool {
        await eventually { heard.signals.withLock { $0 } == expected }
    }
}
