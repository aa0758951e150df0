import Foundation
import JobStore
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// Retention's store verbs: which jobs are due, and that expiring keeps the record but drops the artifacts.
extension JobStoreContractTests {
    /// Runs `id` through its whole life to `succeeded` with artifacts.
    func succeed(_ id: JobID, in store: any JobStore) async throws {
        _ = try await store.create(NewJob(id: id, spec: Fixtures.spec(steps: 1)))
        _ = try await store.claim(worker: "w", limit: 1, lease: .seconds(30))
        for state: JobState in [.admitted, .denoising(completed: 1, total: 1), .decoding, .muxing] {
            _ = try await store.advance(id, worker: "w", to: state, reason: nil)
        }
        _ = try await store.complete(id, worker: "w", videoPath: "/out/\(id).mp4", thumbnailPath: "/out/\(id).jpg")
    }

    @Test(arguments: StoreBackend.available)
    func expirableListsFinishedJobsByAgeAndExpiringKeepsTheRecord(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await succeed("first", in: store)
        time.advance(10)
        _ = try await store.create(NewJob(id: "cancelled", spec: Fixtures.spec()))
        _ = try await store.cancel("cancelled")
        time.advance(10)
        try await succeed("recent", in: store)
        _ = try await store.create(NewJob(id: "queued", spec: Fixtures.spec()))
        let cutoff = time.now.addingTimeInterval(-5)

        #expect(try await store.expirable(finishedBefore: cutoff, limit: 10).map(\.id) == ["first", "cancelled"])
        #expect(try await store.expirable(finishedBefore: cutoff, limit: 1).map(\.id) == ["first"])

        time.advance(1)
        let expired = try await store.markExpired("first")
        #expect(expired.expiredAt == time.now && expired.videoPath == nil && expired.thumbnailPath == nil)
        #expect(try await store.get("first") == expired)
        #expect(expired.phase == .succeeded && expired.completedAt != nil)
        time.advance(1)
        #expect(try await store.markExpired("first").expiredAt == expired.expiredAt)
        #expect(try await store.expirable(finishedBefore: cutoff, limit: 10).map(\.id) == ["cancelled"])
        #expect(try await store.expirable(finishedBefore: .distantFuture, limit: 10).map(\.id) == ["cancelled", "recent"])
        #expect(try await store.events(of: "first").last?.to == "succeeded")

        #expect(await #expect(throws: TurboServeError.self) { try await store.markExpired("queued") }?.code == .conflict)
        await #expect(throws: TurboServeError.noSuchVideo("missing")) { try await store.markExpired("missing") }
        #expect(try await store.get("queued")?.expiredAt == nil)
    }
}

/// A client's delete: the record stays for `get` (so the API can answer 404 on purpose) but leaves `list` and
/// retention, and only finished jobs can be deleted.
extension JobStoreContractTests {
    @Test(arguments: StoreBackend.available)
    func deletingAFinishedJobHidesItFromListAndRetentionButKeepsTheRecord(backend: StoreBackend) async throws {
        let store = try await backend.make(time: time, in: scratch)
        try await succeed("done", in: store)
        try await succeed("kept", in: store)
        _ = try await store.create(NewJob(id: "queued", spec: Fixtures.spec()))
        time.advance(1)

        let deleted = try await store.markDeleted("done")
        #expect(deleted.deletedAt == time.now && deleted.videoPath == nil && deleted.thumbnailPath == nil)
        #expect(deleted.phase == .succeeded)
        #expect(try await store.get("done") == deleted)
        #expect(try await store.list(tenant: nil, after: nil, limit: 10, order: .oldestFirst).jobs.map(\.id) == ["kept", "queued"])
        #expect(try await store.expirable(finishedBefore: .distantFuture, limit: 10).map(\.id) == ["kept"])
        time.advance(1)
        #expect(try await store.markDeleted("done").deletedAt == deleted.deletedAt)

        #expect(await #expect(throws: TurboServeError.self) { try await store.markDeleted("queued") }?.code == .conflict)
        await #expect(throws: TurboServeError.noSuchVideo("missing")) { try await store.markDeleted("missing") }
        #expect(try await store.get("queued")?.deletedAt == nil)
    }
}
