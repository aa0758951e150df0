import Artifacts
import Foundation
import JobStore
import SchedulingCore
import Synchronization
import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// `SerialPolicy` that remembers the tenant of every job submitted to it (fair share needs it in the core).
struct TenantRecordingPolicy: SchedulingPolicy {
    typealias C = ContinuousClock

    final class Seen: Sendable {
        private let tenants = Mutex<[JobID: TenantID]>([:])
        func record(_ job: JobID, _ tenant: TenantID) { tenants.withLock { $0[job] = tenant } }
        var all: [JobID: TenantID] { tenants.withLock { $0 } }
    }

    var inner = SerialPolicy()
    let seen: Seen
    var name: String { inner.name }

    mutating func submit(_ job: SchedulerJob<ContinuousClock.Instant>) throws(TurboServeError) -> [JobEvent<ContinuousClock.Instant>] {
        seen.record(job.id, job.tenant)
        return try inner.submit(job)
    }
    mutating func cancel(_ job: JobID) -> [JobEvent<ContinuousClock.Instant>] { inner.cancel(job) }
    mutating func nextPlan() -> Plan? { inner.nextPlan() }
    mutating func planFinished(_ plan: PlanID, outcome: PlanOutcome) -> [JobEvent<ContinuousClock.Instant>] { inner.planFinished(plan, outcome: outcome) }
    mutating func outputFinished(_ job: JobID, error: TurboServeError?) -> [JobEvent<ContinuousClock.Instant>] { inner.outputFinished(job, error: error) }
    mutating func engineLost(reason: String) -> [JobEvent<ContinuousClock.Instant>] { inner.engineLost(reason: reason) }
    func nextWakeup() -> ContinuousClock.Instant? { inner.nextWakeup() }
    func spec(of id: JobID) -> ValidatedJob? { inner.spec(of: id) }
    var heldJobs: [JobID] { inner.heldJobs }
}

extension WorkerTests {
    @Test func theWorkerHandsEachJobsTenantToThePolicy() async throws {
        let store = InMemoryJobStore()
        _ = try await store.create(NewJob(id: "a", tenant: "acme", spec: try spec("a", steps: 1)))
        _ = try await store.create(NewJob(id: "b", spec: try spec("b", steps: 1)))
        let seen = TenantRecordingPolicy.Seen()
        let worker = Worker(
            policy: TenantRecordingPolicy(seen: seen), store: store, engine: ScriptedEngine(directory: directory), encoder: FileWritingEncoder(),
            configuration: .init(workerID: "node-0", artifacts: DirectoryArtifactStore(directory: directory)))
        let running = Task { try await worker.run() }
        while try await store.countByPhase()[.succeeded] ?? 0 < 2 { await Task.yield() }
        await worker.stop()
        try await running.value
        #expect(seen.all == ["a": "acme", "b": .default])
    }
}
